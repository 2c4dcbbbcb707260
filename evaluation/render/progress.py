"""Progress of a run: a rich bar on a terminal, one plain line per event elsewhere."""

from __future__ import annotations

import sys

from evaluation.render.workers import describe_error


class PlainProgress:
    """One log line per report event: for logs, CI and anything that is not a terminal."""

    def __init__(self, total: int, label: str = "render"):
        self.total, self.done, self.label = total, 0, label

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def started(self, report_id: str) -> None:
        print(f"[{self.label}] started  {report_id}", flush=True)

    def finished(self, result: dict) -> None:
        self.done += 1
        print(f"[{self.label}] {self.done}/{self.total} {describe_result(result)}", flush=True)


class TerminalProgress(PlainProgress):
    """A rich progress bar with the running reports, and a line per finished report."""

    def __enter__(self):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.running: list[str] = []
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        self.progress.__enter__()
        self.task = self.progress.add_task(self.label, total=self.total)
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def show_running(self) -> None:
        text = ", ".join(self.running[:3]) + (" ..." if len(self.running) > 3 else "")
        self.progress.update(self.task, description=f"{self.label}: {text or 'done'}")

    def started(self, report_id: str) -> None:
        self.running.append(report_id)
        self.show_running()

    def finished(self, result: dict) -> None:
        if result["report_id"] in self.running:
            self.running.remove(result["report_id"])
        style = {"ok": "green", "reused": "cyan"}.get(result["status"], "bold red")
        self.progress.console.print(f"[{style}]{describe_result(result)}[/]", highlight=False)
        self.progress.advance(self.task)
        self.show_running()


def make_progress(total: int, label: str):
    return TerminalProgress(total, label) if sys.stdout.isatty() else PlainProgress(total, label)


def describe_result(result: dict) -> str:
    line = f"{result['status']:<7} {result['report_id']} ({result.get('seconds', 0):.1f} s)"
    if result["status"] == "reused":
        line += f" up to date, reused from {result.get('reused_from')}"
    if result["status"] == "failed":
        line += " - " + describe_error(result.get("error"))
    return line
