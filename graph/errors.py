"""One exception tree for every mistake a user can act on; the CLI turns these into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class StatetechError(Exception):
    """Base of every error the user can fix: the CLI prints it without a traceback and exits non-zero."""


@dataclass(frozen=True)
class Problem:
    """One finding of validation, located so a person can go straight to it."""

    file: str
    line: int | None
    message: str
    record_id: str | None = None
    hint: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column:
            where += f" (column {self.column})"
        who = f" [{self.record_id}]" if self.record_id else ""
        text = f"{where}:{who} {self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ValidationFailed(StatetechError):
    """Input did not validate; nothing was written."""

    def __init__(self, problems: list[Problem], what: str = "validation failed") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"{what}: {count} problem{'s' if count != 1 else ''}; nothing was written\n"
            + "\n".join(str(p) for p in self.problems)
        )


class StoreUnavailable(StatetechError):
    """The graph store could not be reached or opened."""


class QueryError(StatetechError):
    """A query could not be parsed, its parameters were wrong, or the store rejected it."""


class UnknownEntity(StatetechError):
    """An id or name did not resolve to exactly one node."""


def did_you_mean(word: str, options, *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The options closest to a mistyped ``word``, best first (at most ``n``; none below ``cutoff`` similarity).

    Every "did you mean ...?" hint in statetech (query headers, CSV columns, YAML fields) asks this one function,
    so they all judge closeness alike.
    """
    import difflib  # only when a hint is being written: most commands never need it

    return difflib.get_close_matches(str(word), list(options), n=n, cutoff=cutoff)

