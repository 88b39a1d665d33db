"""How the rules and signals see a customer's text, in any of the four languages.

`normalise` folds the forms one keyboard or another produces into one: full-width letters and
punctuation (`！？，` from a Chinese keyboard) into ASCII, a phone's curly apostrophe into a
straight one. `strip_tones` gives the Vietnamese text as it is often typed, without tone marks
("cảm ơn" -> "cam on"), keeping one character for each, so a match in the stripped copy is a match
in the text.

Pure (the standard library only), like the rest of actions/handoff.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Not compatibility characters, so NFKC leaves them: the apostrophes and dashes of phones and
# word processors.
_PUNCTUATION = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})
# Letters that are not a base letter plus a mark, so NFD cannot take the mark off.
_LETTERS = {"đ": "d", "Đ": "D"}


@lru_cache(maxsize=1024)
def normalise(text: str) -> str:
    """NFKC, and one apostrophe: full-width 'WHERE！！' -> 'WHERE!!', a curly "didn't" a straight
    one."""
    return unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)


def _bare(char: str) -> str:
    if char in _LETTERS:
        return _LETTERS[char]
    base = unicodedata.normalize("NFD", char)[0]
    # a lone combining mark (text not in NFC) stays: one character for one
    return base if base.isascii() else char


@lru_cache(maxsize=1024)
def strip_tones(text: str) -> str:
    """The text without diacritics, one character for each: 'Tôi muốn hoàn tiền' -> 'Toi muon
    hoan tien'. Letters without an ASCII base (Chinese, say) are left as they are."""
    return "".join(char if char.isascii() else _bare(char) for char in normalise(text))


# Han characters, for patterns that take each as a word (Chinese is written without spaces).
HAN = "\u3400-\u4dbf\u4e00-\u9fff"

_REPEATS = re.compile(r"([a-z])\1{2,}")


@lru_cache(maxsize=1024)
def fold(text: str) -> str:
    """How word lists are compared: lower case, without tone marks, single spaces, and a letter
    held down said once ("Cảm ơn   nhiềuuu" -> "cam on nhieu", "thanksss" -> "thanks")."""
    return _REPEATS.sub(r"\1", " ".join(strip_tones(text).lower().split()))
