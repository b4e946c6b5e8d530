"""Text from the data made safe for a terminal: no escape sequences, no bidi overrides.

Names and notes come from public datasets. An ESC byte in a company name could recolour, retitle or clear the
investigator's terminal, and a right-to-left override (U+202E) makes ``evil.exe`` read as ``exe.live``: a printed
table would then show something other than what the graph holds. Each such character is shown as U+FFFD, so the
reader sees that something was there; tabs and newlines are kept.
"""

from __future__ import annotations

from typing import Any

from statetech.graph.text import UNSAFE

REPLACEMENT = "\ufffd"


def terminal_safe(text: str) -> str:
    return UNSAFE.sub(REPLACEMENT, text)


def terminal_safe_value(value: Any) -> Any:
    """A table cell: strings cleaned, lists cleaned item by item, everything else as it is."""
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, list):
        return [terminal_safe_value(v) for v in value]
    return value
