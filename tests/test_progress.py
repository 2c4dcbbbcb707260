"""evaluation.render.progress: one plain line per report event when stdout is not a terminal."""

from __future__ import annotations

from evaluation.render import progress


def test_plain_progress_prints_one_line_per_event(capsys):
    with progress.PlainProgress(3, "render") as bar:
        bar.started("ok-K01")
        bar.finished({"report_id": "ok-K01", "status": "ok", "seconds": 2.31})
        bar.finished(
            {"report_id": "ok-K02", "status": "reused", "reused_from": "2025-01-01T000000"}
        )
        bar.finished(
            {
                "report_id": "fail",
                "status": "failed",
                "seconds": 1.04,
                "error": {"cell": 5, "ename": "ValueError", "evalue": "boom"},
            }
        )
    assert capsys.readouterr().out.splitlines() == [
        "[render] started  ok-K01",
        "[render] 1/3 ok      ok-K01 (2.3 s)",
        "[render] 2/3 reused  ok-K02 (0.0 s) up to date, reused from 2025-01-01T000000",
        "[render] 3/3 failed  fail (1.0 s) - cell 5: ValueError: boom",
    ]


def test_describe_result_pads_the_status_to_one_width():
    result = {"report_id": "leader_summary", "status": "ok", "seconds": 12.0}
    assert progress.describe_result(result) == "ok      leader_summary (12.0 s)"


def test_without_a_terminal_the_progress_is_plain(capsys):
    made = progress.make_progress(2, "verify")  # capsys: stdout is not a terminal
    assert type(made) is progress.PlainProgress
    assert (made.total, made.done, made.label) == (2, 0, "verify")
