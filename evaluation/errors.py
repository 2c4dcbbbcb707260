"""One exception family. Messages say what went wrong, where, and how to mend it."""

from __future__ import annotations

from dataclasses import dataclass

# A stop the user asked for (Ctrl-C, SIGTERM: evaluation.cli installs the handlers), kept as well
# as raised: the exception a signal handler raises is lost when it lands in a garbage-collector
# callback or a __del__ method ("Exception ignored in ...", seen in Dask's GC diagnostics while
# the parent precomputes), so the render's waiting loops raise it again (raise_if_stop_requested).
STOP_REQUESTED: list[type[BaseException]] = []


def raise_if_stop_requested() -> None:
    """Raise the stop a signal asked for, if any (KeyboardInterrupt or cli.Terminated)."""
    if STOP_REQUESTED:
        raise STOP_REQUESTED[-1]()


class EvaluationError(Exception):
    """Base of every error the workbench raises on purpose."""


class ParameterError(EvaluationError):
    """A report or command got a parameter it cannot use (the message lists valid values)."""


class PrivacyError(EvaluationError):
    """A setting or an output would break the privacy rules (DESIGN.md, Privacy)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file. `row` is the line number a spreadsheet user sees."""

    file: str
    row: int | None
    column: str | None
    found: str
    expected: str
    fix: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f":{self.column}"
        return f"{where}: found {self.found}; expected {self.expected}. Fix: {self.fix}"


class ValidationError(EvaluationError):
    """An input file failed validation; carries every problem found (up to a cap)."""

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems = list(problems)
        self.more = more
        lines = [str(p) for p in self.problems]
        if more:
            lines.append(f"... and {more} more problems not shown")
        super().__init__("\n".join(lines))
