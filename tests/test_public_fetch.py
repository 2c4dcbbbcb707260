"""evaluation.data.public_fetch and `workbench fetch-public`, against a local HTTP server on
127.0.0.1 that replays answers in the shapes of ../shared/data/real/API.md (never the internet).

The server (http.server in a thread) answers each POST from a plan per cube (`underemne`):
a queue of (status, body, headers); an empty queue answers 200 with no records. The replayed
answers are tests/fixtures/public_api/*.json (see its README). Time is injected, so the backoff
test sleeps no real second.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evaluation import cli
from evaluation.data import public_fetch, warehouse

API = Path(__file__).parent / "fixtures" / "public_api"
KEY = "test-key-Zq81-never-shown"


class Replay(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append({"headers": dict(self.headers), "body": body})
        plan = self.server.plan.get(body["underemne"], [])
        status, text, headers = plan.pop(0) if plan else (200, "[]", {})
        data = text.encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    httpd.plan, httpd.seen = {}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_port}/Api/v1/statistik"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


class FakeClock(public_fetch.Clock):
    def __init__(self):
        self.slept: list[float] = []
        super().__init__(
            now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC), sleep=self.slept.append
        )


def fixture_text(name: str) -> str:
    return (API / name).read_text(encoding="utf-8")


def test_pages_backoff_storage_and_ingest(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(public_fetch.KEY_VARIABLE, KEY)
    server.plan["TRIVIND"] = [
        (429, '{"fejl": "for mange kald"}', {}),
        (200, fixture_text("trivind_page1.json"), {}),
        (200, fixture_text("trivind_page2.json"), {}),
    ]
    server.plan["OVERSKO"] = [(200, fixture_text("oversko.json"), {})]
    clock, log = FakeClock(), []
    settings = public_fetch.ApiSettings(url=server.url, page_size=3, backoff_seconds=1.5)
    out, target = tmp_path / "raw", tmp_path / "w.duckdb"
    summary = public_fetch.fetch_public(
        "frederiksberg",
        "2023/2024-2024/2025",
        out,
        target,
        settings=settings,
        clock=clock,
        log=log.append,
    )
    assert clock.slept == [1.5]  # one 429, one pause of backoff_seconds, no real sleep
    trivind = [s["body"] for s in server.seen if s["body"]["underemne"] == "TRIVIND"]
    assert [b["side"] for b in trivind] == [1, 1, 2]  # retried page 1, then page 2
    first = trivind[0]
    assert first["filtre"]["[Institution].[Beliggenhedskommune]"] == ["Frederiksberg"]
    assert first["filtre"]["[Skoleår].[Skoleår]"] == ["2023/2024", "2024/2025"]
    assert first["side_størrelse"] == 3 and first["område"] == "GS"
    assert {s["headers"]["Authorization"] for s in server.seen} == {f"Bearer {KEY}"}
    agg = warehouse.read_table(target, "aggregates").set_index(["unit_id", "grade_band"])
    social = agg[agg["indicator_id"] == "social_trivsel"]["value"]
    assert social[("147002", "4-6")] == pytest.approx(4.1)
    assert social[("147006", "7-9")] == pytest.approx(3.7)
    assert not (agg["indicator_id"] == "ro_og_orden").any()  # "-": not published
    pupils = agg[agg["indicator_id"] == "pupils"]["value"]
    assert pupils[("147006", "all")] == 1012  # Elevtal "1.012"
    stored = sorted(p.name for p in out.rglob("*.json"))
    assert "TRIVIND-p002.json" in stored and "ELEVEX-p001.json" in stored
    page = json.loads(next(out.rglob("TRIVIND-p002.json")).read_text(encoding="utf-8"))
    assert page["request"]["body"]["side"] == 2 and page["fetched_at"].startswith("2026-11-28")
    assert "Loaded" in summary
    assert_key_nowhere(tmp_path, "\n".join(log) + summary + capsys.readouterr().out)


def assert_key_nowhere(folder: Path, output: str) -> None:
    assert KEY not in output
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_refused_key_is_a_clear_error_with_exit_2(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(public_fetch.KEY_VARIABLE, KEY)
    server.plan["TRIVIND"] = [(401, f'{{"message": "invalid key {KEY}"}}', {})]
    code = cli.main(
        [
            "fetch-public",
            "--municipality",
            "Frederiksberg",
            "--years",
            "2024/2025",
            "--out",
            str(tmp_path / "raw"),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--api-url",
            server.url,
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "refused the key (401)" in captured.err and public_fetch.KEY_VARIABLE in captured.err
    assert len(server.seen) == 1  # 401 is final: no retry
    assert not (tmp_path / "w.duckdb").exists()
    assert_key_nowhere(tmp_path, captured.out + captured.err)


def test_server_errors_are_retried_then_reported(server, tmp_path, monkeypatch):
    monkeypatch.setenv(public_fetch.KEY_VARIABLE, KEY)
    server.plan["TRIVIND"] = [
        (503, "busy", {}),
        (503, "busy", {"Retry-After": "7"}),
        (503, "busy", {}),
    ]
    clock = FakeClock()
    settings = public_fetch.ApiSettings(url=server.url, retries=2, backoff_seconds=2)
    with pytest.raises(public_fetch.FetchError) as err:
        public_fetch.fetch_public(
            "Frederiksberg",
            "2024/2025",
            tmp_path / "raw",
            tmp_path / "w.duckdb",
            settings=settings,
            clock=clock,
            log=lambda line: None,
        )
    assert "The API failed (503) for TRIV/TRIVIND after 3 tries" in str(err.value)
    assert clock.slept == [2, 7]  # backoff, then the server's Retry-After
    assert not (tmp_path / "w.duckdb").exists()


def test_missing_key_names_the_variable_and_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv(public_fetch.KEY_VARIABLE, raising=False)
    monkeypatch.setenv(public_fetch.KEY_FILE_VARIABLE, str(tmp_path / "none.key"))
    with pytest.raises(public_fetch.FetchError) as err:
        public_fetch.read_key()
    assert public_fetch.KEY_VARIABLE in str(err.value) and "none.key" in str(err.value)
    key_file = tmp_path / "api.key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    assert public_fetch.read_key(key_file) == KEY


def test_school_years_and_names():
    assert public_fetch.school_years("2019/2020-2021/2022") == [
        "2019/2020",
        "2020/2021",
        "2021/2022",
    ]
    assert public_fetch.school_years("2023/2024,2024/2025") == ["2023/2024", "2024/2025"]
    with pytest.raises(public_fetch.FetchError.__mro__[1]):
        public_fetch.school_years("2019-2025")
    assert public_fetch.municipality_name("lyngby-taarbæk") == "Lyngby-Taarbæk"
    assert public_fetch.municipality_name("København") == "København"
