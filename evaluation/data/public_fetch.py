"""`workbench fetch-public`: ask uddannelsesstatistik.dk's API for one municipality's figures,
store the answers under data/raw with their request and time, and ingest them.

What the API expects is taken from public code that calls it (../shared/data/real/API.md): a
POST with `Authorization: Bearer KEY` and a JSON body (område, emne, underemne, nøgletal,
detaljering, filtre, indlejret, formattering, side, side_størrelse); 400 and 401 are final,
other failures are retried with a growing pause. Nothing here was checked against the API itself,
so every such detail is a field of `ApiSettings` (docs/importing.md says which).

The key comes from the environment variable WORKBENCH_API_KEY_VARIABLE or the key file; it is
sent in the header only and never printed, logged or written: stored requests hold the URL and
body, and any text shown from an answer has the key blanked out.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from evaluation.errors import ParameterError

KEY_VARIABLE = "UDDANNELSESSTATISTIK_API_KEY"
KEY_FILE_VARIABLE = "UDDANNELSESSTATISTIK_API_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/workbench/uddannelsesstatistik.key")
URL_VARIABLE = "UDDANNELSESSTATISTIK_API_URL"
DEFAULT_URL = "https://api.uddannelsesstatistik.dk/Api/v1/statistik"
INSTITUTION = [
    "[Institution].[Afdelingsnummer]",
    "[Institution].[Institution]",
    "[Institution].[Beliggenhedskommune]",
]
YEAR = "[Skoleår].[Skoleår]"
CUBES = {  # cube -> (emne, underemne, nøgletal, further detaljering, year level)
    "TRIVIND": (
        "TRIV",
        "TRIVIND",
        ["Indikatorsvar"],
        ["[Klassetrin].[Klassetringruppe]", "[Trivselsindikator].[Trivselsindikator]"],
        YEAR,
    ),
    "OVERSKO": ("OVER", "OVERSKO", ["Elevtal", "Samlet elevfravær"], [], YEAR),
    "TRIVSP": (
        "TRIV",
        "TRIVSP",
        ["Svarfordeling", "Antal svar"],
        ["[Spørgsmål].[Spørgsmål]", "[Svar].[Svar]", "[Svar].[Svarværdi]"],
        YEAR,
    ),
    "ELEVEX": ("ELEV", "ELEVEX", ["Antal elever", "Inklusionsgrad"], [], YEAR),
    "FRAVAAR": (
        "ELEVFRAV",
        "FRAVAAR",
        ["Gennemsnitligt fravær per skoleår", "Over 10 procent"],
        [],
        "[Tid].[Skoleår]",
    ),
}
RETRY_STATUSES = {429, 500, 502, 503, 504}


class FetchError(ParameterError):
    """The API refused or failed; the message says what to do (exit code 2 like any error)."""


@dataclass
class ApiSettings:
    """The API's details as public code shows them; each can be changed without code."""

    url: str = field(default_factory=lambda: os.environ.get(URL_VARIABLE, DEFAULT_URL))
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    municipality_level: str = "[Institution].[Beliggenhedskommune]"
    page_field: str = "side"
    page_size_field: str = "side_størrelse"
    page_size: int = 10_000
    retries: int = 5
    backoff_seconds: float = 2.0  # pause before the first retry; doubled for each next one
    timeout_seconds: float = 120.0


@dataclass
class Clock:
    """Time and sleep, injectable so a test of the backoff takes no time."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep


def school_years(spec: str) -> list[str]:
    """ "2019/2020-2025/2026" -> every school year between; "2023/2024,2024/2025" as listed."""
    years = []
    for part in spec.split(","):
        found = re.fullmatch(r"\s*(\d{4})/(\d{4})\s*(?:-\s*(\d{4})/(\d{4})\s*)?", part)
        if not found or int(found[2]) != int(found[1]) + 1:
            raise ParameterError(
                f"--years {spec!r}: write school years as 2024/2025, a range as "
                "2019/2020-2025/2026, or a list as 2023/2024,2024/2025."
            )
        last = int(found[3]) if found[3] else int(found[1])
        years += [f"{y}/{y + 1}" for y in range(int(found[1]), last + 1)]
    return years


def read_key(key_file: str | Path | None = None) -> str:
    """The API key from the environment variable, else the key file; never shown."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if key:
        return key
    path = Path(key_file or os.environ.get(KEY_FILE_VARIABLE) or DEFAULT_KEY_FILE).expanduser()
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    raise FetchError(
        f"No API key for uddannelsesstatistik.dk. Set the environment variable {KEY_VARIABLE}, "
        f"or put the key alone in the file {path} (or name the file with --key-file or "
        f"{KEY_FILE_VARIABLE}). A key is free on registration at uddannelsesstatistik.dk."
    )


def request_body(cube: str, municipality: str, years: list[str], settings: ApiSettings) -> dict:
    """The JSON body of one cube's request, page 1 (`page` sets the page)."""
    emne, underemne, measures, levels, year_level = CUBES[cube]
    return {
        "område": "GS",
        "emne": emne,
        "underemne": underemne,
        "nøgletal": measures,
        "detaljering": [*INSTITUTION, year_level, *levels],
        "filtre": {settings.municipality_level: [municipality], year_level: years},
        "indlejret": False,
        "tomme_rækker": False,
        "formattering": "json",
        settings.page_field: 1,
        settings.page_size_field: settings.page_size,
    }


@dataclass
class Fetcher:
    """POSTs with retries; `open_url` and `clock` are injectable for tests."""

    key: str
    settings: ApiSettings = field(default_factory=ApiSettings)
    clock: Clock = field(default_factory=Clock)
    open_url: Callable = urllib.request.urlopen
    log: Callable[[str], None] = print

    def post(self, body: dict) -> tuple[int, object]:
        """The answer's status and JSON; retried on 429, 5xx and a lost connection."""
        settings = self.settings
        for attempt in range(settings.retries + 1):
            status, text, wait = self.try_once(body)
            if status == 200:
                return status, json.loads(text)
            if status in (400, 401, 403) or attempt == settings.retries:
                raise FetchError(self.failure(status, text, body, attempt + 1))
            pause = wait if wait is not None else settings.backoff_seconds * 2**attempt
            self.log(
                f"{describe(status)} for {body['underemne']}; trying again in {pause:g} s "
                f"(attempt {attempt + 2} of {settings.retries + 1})"
            )
            self.clock.sleep(pause)
        raise AssertionError("unreachable")

    def try_once(self, body: dict) -> tuple[int | None, str, float | None]:
        """(status, text, Retry-After seconds) of one POST; status None when no connection."""
        request = urllib.request.Request(
            self.settings.url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                self.settings.auth_header: f"{self.settings.auth_scheme} {self.key}".strip(),
            },
            method="POST",
        )
        try:
            with self.open_url(request, timeout=self.settings.timeout_seconds) as answer:
                return answer.status, answer.read().decode("utf-8-sig"), None
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            return exc.code, text, retry_after(exc.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            return None, str(getattr(exc, "reason", exc)), None

    def failure(self, status: int | None, text: str, body: dict, tries: int) -> str:
        """A clear message for the final failure, with the key blanked out of the answer."""
        said = self.blank(" ".join(text.split())[:200])
        cube = f"{body['emne']}/{body['underemne']}"
        if status == 401 or status == 403:
            return (
                f"The API refused the key ({status}) for {cube}. Check the key in "
                f"{KEY_VARIABLE} or the key file; a new key is free at uddannelsesstatistik.dk."
            )
        if status == 400:
            return (
                f"The API refused the request for {cube} (400: {said}). The request shape "
                "comes from public code and may have changed; see docs/importing.md for the "
                "settings (--api-url, --page-size) and the stored request under --out."
            )
        return (
            f"{describe(status)} for {cube} after {tries} tries ({said}). Try again later; "
            "nothing was ingested."
        )

    def blank(self, text: str) -> str:
        return text.replace(self.key, "***") if self.key else text


def describe(status: int | None) -> str:
    if status is None:
        return "No answer from the API (connection failed)"
    if status == 429:
        return "The API asks us to slow down (429)"
    return f"The API failed ({status})"


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (a date is ignored)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# --- pages, storage, ingest -------------------------------------------------------------------


def records_in(data) -> int:
    """How many records one page holds (a list, or a list under "data")."""
    if isinstance(data, dict):
        data = data.get("data", data.get("rows", []))
    return len(data) if isinstance(data, list) else 0


def fetch_cube(fetcher: Fetcher, cube: str, municipality: str, years: list[str], folder: Path):
    """Every page of one cube, each stored as it came with its request and time; the paths of
    the pages that hold records."""
    settings = fetcher.settings
    body = request_body(cube, municipality, years, settings)
    stored = []
    for page in range(1, 10_000):
        body = {**body, settings.page_field: page}
        fetched_at = fetcher.clock.now().isoformat(timespec="seconds")
        status, data = fetcher.post(body)
        path = folder / f"{cube}-p{page:03d}.json"
        envelope = {
            "request": {"method": "POST", "url": settings.url, "body": body},
            "fetched_at": fetched_at,
            "status": status,
            "response": data,
        }
        path.write_text(json.dumps(envelope, ensure_ascii=False, indent=1), encoding="utf-8")
        count = records_in(data)
        fetcher.log(f"  {cube} page {page}: {count} records -> {path}")
        if count:
            stored.append(path)
        if count < settings.page_size:
            return stored
    raise FetchError(f"{cube}: more than 9,999 pages; give a larger --page-size.")


def municipality_name(name: str) -> str:
    """A name typed in lower case as the ministry writes it ("lyngby-taarbæk" ->
    "Lyngby-Taarbæk"); a name with capitals is kept as typed."""
    name = name.strip()
    return name.title() if name == name.lower() else name


def fetch_public(
    municipality: str,
    years: str,
    out: Path,
    warehouse: Path,
    key_file: str | None = None,
    settings: ApiSettings | None = None,
    cubes: list[str] | None = None,
    **injected,
) -> str:
    """Fetch, store under `out/<municipality>/<time>/` and ingest; returns the ingest summary.

    `injected` may hold `clock`, `open_url` and `log` (tests)."""
    from evaluation.data import ingest  # why: ingest imports pandas/duckdb; fetch parts do not

    key = read_key(key_file)
    fetcher = Fetcher(key, settings or ApiSettings(), **injected)
    name = municipality_name(municipality)
    wanted = school_years(years)
    stamp = fetcher.clock.now().strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) / re.sub(r"[^\w-]+", "_", name) / stamp
    folder.mkdir(parents=True, exist_ok=True)
    fetcher.log(f"Fetching {name}, {wanted[0]}-{wanted[-1]}, from {fetcher.settings.url}")
    stored = []
    for cube in cubes or list(CUBES):
        stored += fetch_cube(fetcher, cube, name, wanted, folder)
    if not stored:
        raise FetchError(
            f"The API returned no records for {name} in {years}. Check the municipality's name "
            f"(as the ministry writes it) and the years; the answers are in {folder}."
        )
    return ingest.ingest_paths(stored, Path(warehouse), municipality=name)
