"""Links between the reports of one run lead only to reports the run holds (issue 14).

A report links to the run's other reports by bare file name (evaluation.reports.html): the front
page, the leader summary, the evaluation report and the cluster reports. It cannot know which of
them the run renders (one cluster asked for, a report that failed, a report reused from a fuller
run), so once every report is done the run drops the navigation items whose report is absent
and turns other links to an absent report back into plain text. No dead link is left behind.
"""

from __future__ import annotations

import re
from pathlib import Path

from evaluation import files

REPORT_LINK = re.compile(
    r'<a href="(?P<file>[A-Za-z0-9_.-]+\.html)(?:#[^"]*)?"[^>]*>(?P<text>.*?)</a>', re.S
)
NAV_ITEM = re.compile(r'<li class="wb-nav-item">(?P<link><a href="[^"]*"[^>]*>.*?</a>)</li>', re.S)
EMPTY_NAV_GROUP = re.compile(r'<li class="wb-nav-group">[^<]*<ul></ul></li>')
EMPTY_NAV = re.compile(r'<nav class="wb-nav"[^>]*><ul></ul></nav>')


def prune_links(markup: str, present: set[str]) -> str:
    """`markup` without links to report files not in `present` (file names in the run folder):
    a navigation item goes entirely (and a group or navigation left empty), any other such link
    keeps its text. Links to sections of the same page (#anchor) and to outside addresses are
    left alone."""

    def is_absent(link: str) -> bool:
        match = REPORT_LINK.fullmatch(link)
        return match is not None and match.group("file") not in present

    markup = NAV_ITEM.sub(lambda m: "" if is_absent(m.group("link")) else m.group(0), markup)
    markup = EMPTY_NAV_GROUP.sub("", markup)
    markup = EMPTY_NAV.sub("", markup)
    return REPORT_LINK.sub(
        lambda m: m.group(0) if m.group("file") in present else m.group("text"), markup
    )


def prune_run_links(run_dir: Path, results: dict) -> None:
    """Rewrite each report of the run (results: report id -> render result, as
    evaluation.render.workers.render_one returns it) so its links reach only the run's reports.

    A changed file is written anew (a reused report is a hard link into the run that made it,
    which must keep its own links) and its result's html_bytes updated."""
    present = {r["html"] for r in results.values() if r.get("html")} | {"index.html"}
    for result in results.values():
        if not result.get("html"):
            continue
        path = run_dir / result["html"]
        markup = path.read_text(encoding="utf-8")
        pruned = prune_links(markup, present)
        if pruned != markup:
            files.write_text_atomically(path, pruned)
            result["html_bytes"] = len(pruned.encode("utf-8"))
