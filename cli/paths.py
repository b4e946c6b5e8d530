"""Output paths checked when the command line is parsed, before any store is opened or any work is done.

A map, an export or a review file whose folder does not exist used to fail at the very end, after minutes of work
or, worse, after an import had written to the store. Checking the folder up front turns that into one message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click


class OutputPath(click.ParamType):
    """A file to write: its folder must exist and be writable, and the path must not be a folder.

    ``allow_dash``: ``-`` means stdout. ``folder``: the value is a folder to create files in (``export --format
    csv``), so the path itself may be an existing folder or a new one in an existing, writable parent.
    """

    name = "path"

    def __init__(self, allow_dash: bool = False, folder_ok: bool = False) -> None:
        self.allow_dash = allow_dash
        self.folder_ok = folder_ok

    def convert(self, value, param, ctx):
        if value is None or (self.allow_dash and value == "-"):
            return value
        problem = output_path_problem(str(value), folder_ok=self.folder_ok)
        if problem:
            self.fail(problem, param, ctx)
        return str(value)


def _can_create_in(folder: Path) -> bool:
    """Try it: permission bits say nothing for root, read-only mounts or /proc."""
    try:
        handle, name = tempfile.mkstemp(prefix=".statetech-write-check-", dir=folder)
    except OSError:
        return False
    os.close(handle)
    try:
        os.unlink(name)
    except OSError:
        pass
    return True


def output_path_problem(value: str, folder_ok: bool = False) -> str | None:
    """Why ``value`` cannot be written, or None when it can."""
    path = Path(value).expanduser()
    if path.is_dir():
        if folder_ok:
            return None if _can_create_in(path) else f"{value} is a folder statetech cannot write to"
        return f"{value} is a folder; give a file name"
    parent = path.resolve().parent
    if not parent.exists():
        return f"the folder {parent} does not exist; create it first or choose another path"
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not _can_create_in(parent):
        return f"the folder {parent} is not writable; choose another path"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{value} exists and is not writable"
    return None
