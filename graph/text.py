"""Characters in data that change how text is displayed rather than what it says.

Control characters (C0 except tab and newline, DEL, C1: ESC starts terminal escape sequences) and the bidirectional
overrides and isolates (U+202A-U+202E, U+2066-U+2069, and the marks U+200E, U+200F, U+061C), which reorder what a
reader sees. Shared by the terminal output (:mod:`statetech.cli.terminal`) and the curated-record checks.
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def unsafe_characters(text: str) -> list[str]:
    """The unsafe characters of ``text``, named for a message (e.g. ``U+202E RIGHT-TO-LEFT OVERRIDE``)."""
    found = dict.fromkeys(UNSAFE.findall(text))
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'CONTROL CHARACTER')}" for c in found]
