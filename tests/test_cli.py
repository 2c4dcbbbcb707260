"""evaluation.cli: the `workbench` command: its help, exit codes and messages (main([...]) in the
test process, WORKBENCH_HOME a temporary folder; the commands' work is tested with their
modules)."""

from __future__ import annotations

import re

import duckdb
import pytest

from evaluation import cli

COMMANDS = ("demo", "demo-data", "ingest", "actions", "fetch-public", "render", "verify")


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: workbench")
    listed = re.findall(r"^ {4}(\S+)\s", out, flags=re.M)
    assert listed == list(COMMANDS)


def test_no_command_prints_the_help_and_succeeds(capsys):
    assert cli.main([]) == 0
    assert capsys.readouterr().out.startswith("usage: workbench")


def test_render_help_states_the_privacy_floor(capsys):
    with pytest.raises(SystemExit):
        cli.main(["render", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--min-n MIN_N smallest group shown (default 5; below 3 is refused)" in out


def test_a_min_n_below_the_floor_is_refused_with_exit_2(workbench_home, capsys):
    warehouse = workbench_home / "data" / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE register(year INTEGER, unit_id TEXT)")
    con.execute("INSERT INTO register VALUES (2024, 'S1')")
    con.close()
    assert cli.main(["render", "--min-n", "2", "--warehouse", str(warehouse)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: min_n=2 is refused: ")
    assert "a whole number from 3 upwards" in captured.err
    assert "smaller groups let a reader identify single children" in captured.err
    assert list((workbench_home / "reports").iterdir()) == [], "nothing is rendered"


def test_a_refused_parameter_exits_2_with_the_message(workbench_home, capsys):
    assert cli.main(["render", "--jobs", "0"]) == 2
    assert capsys.readouterr().err == "error: --jobs 0: give 1 or more workers.\n"
    assert cli.main(["verify", str(workbench_home / "reports" / "none")]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_an_argument_argparse_refuses_exits_2(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["render", "--language", "fr"])
    assert done.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_ctrl_c_exits_130_and_says_what_is_left(workbench_home, capsys, monkeypatch):
    from evaluation.render import verify

    def interrupted(run_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(verify, "verify_run", interrupted)
    assert cli.main(["verify", str(workbench_home / "reports" / "x")]) == 130
    assert (
        capsys.readouterr().err == "Stopped. The warehouse and published reports are untouched.\n"
    )
