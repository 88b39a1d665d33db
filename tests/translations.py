"""What a translation must keep from the English it translates: every number (prices, times,
hours, percentages, phone numbers: any run of ASCII digits), every e-mail or web address, and
every {placeholder}. Used by the checks of domain.yml's responses and policy.yml's messages."""

from __future__ import annotations

import re
from collections import Counter

LANGUAGES = ("en", "vi", "id", "zh")
# ASCII only: a full-width or other script's digit is not the same fact as "7"
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*", re.ASCII)
ADDRESS = re.compile(r"https?://[\w./?=&%-]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
PLACEHOLDER = re.compile(r"\{\w+\}", re.ASCII)


def facts(text: str) -> dict[str, Counter[str]]:
    """The numbers, addresses and placeholders of a text, each with how often it occurs."""
    return {
        "numbers": Counter(NUMBER.findall(text)),
        "addresses": Counter(ADDRESS.findall(text)),
        "placeholders": Counter(PLACEHOLDER.findall(text)),
    }


def disagreements(english: str, translation: str) -> list[str]:
    """What the translation says differently from the English, in words; empty when none."""
    wanted, found = facts(english), facts(translation)
    return [
        f"{kind}: English has {sorted(wanted[kind].elements())}, "
        f"the translation {sorted(found[kind].elements())}"
        for kind in wanted
        if wanted[kind] != found[kind]
    ]
