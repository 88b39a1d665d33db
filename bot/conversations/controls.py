"""Control characters are not text: what customers send with them is refused, not stored.

C0 controls (but tab, line feed and carriage return: "\r\n" is how many clients break lines),
DEL and C1 controls: terminal escapes, backspaces, NEL. No page shows them, and they break what
the text goes into next (YAML training data refuses #x001b; PostgreSQL refuses NUL). A lone
surrogate (what a JSON "\ud83d" escape decodes to) is not text either: no UTF-8 database or file
can hold one.
"""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def first_control(text: str) -> str | None:
    """The first character of `text` that is not text, as U+XXXX; None if there is none."""
    found = CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"
