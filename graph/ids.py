"""Id fragments: one spelling of a text as part of a statetech id, shared by importers and exporters."""

from __future__ import annotations

import hashlib
import re

_NOT_SLUG = re.compile(r"[^a-z0-9._-]+")


def slug(text: str, max_length: int = 80) -> str:
    """A lowercase id fragment the model accepts; long or lossy ones get a short hash so distinct inputs stay
    distinct."""
    value = _NOT_SLUG.sub("-", str(text).lower()).strip("-._")
    if not value:
        value = "x"
    if len(value) > max_length:
        digest = hashlib.sha1(str(text).encode()).hexdigest()[:10]
        value = value[: max_length - 11].rstrip("-._") + "-" + digest
    if not value[0].isalnum():
        value = "x" + value
    return value


def short_hash(text: str, size: int = 12) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:size]
