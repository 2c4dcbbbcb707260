"""The shapes in which analysts hold the ministry's figures, read into one frame of records.

uddannelsesstatistik.dk's API (../shared/data/real/API.md) answers a POST with either a flat
list of records, whose dimension keys are written in full ("[Skoleår].[Skoleår].[Skoleår]") and
whose measures by their plain name ("Indikatorsvar"), or, with `indlejret`, nested objects keyed
by member in the order of the request's `detaljering`, ending in `{measure: value}`. Analysts
keep the same figures as a long CSV (År;Trin;Skolenavn;Indikator;Indikatorsvar, semicolon and
decimal comma) or a wide CSV with one column per indicator. Every shape becomes one frame of
text cells with canonical column names (`school_year`, `band`, `school_id`, `school_name`,
`indicator`, `question`, the measures ...) and the row number a user finds the figure by: the
line of a CSV, the record of a JSON list, the leaf of a nested answer.

evaluation.data.public_records turns the frame into the warehouse's rows.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd

from evaluation.data.reading import decode_bytes, normalise_name, read_frame
from evaluation.errors import Problem, ValidationError

DIMENSIONS = {  # a key's last part (normalised) -> canonical column
    "år": "school_year",
    "skoleår": "school_year",
    "school_year": "school_year",
    "trin": "band",
    "klassetringruppe": "band",
    "klassetrin": "grade",
    "afdelingsnummer": "school_id",
    "institutionsnummer": "school_id",
    "institutionsnr": "school_id",
    "instnr": "school_id",
    "school_id": "school_id",
    "skolenavn": "school_name",
    "institution": "school_name",
    "institutionsnavn": "school_name",
    "afdelingsnavn": "school_name",
    "school_name": "school_name",
    "beliggenhedskommune": "municipality",
    "kommune": "municipality",
    "municipality": "municipality",
    "indikator": "indicator",
    "trivselsindikator": "indicator",
    "spørgsmål": "question",
    "svar": "answer",
    "svarværdi": "answer_value",
}
MEASURES = {  # measure name (normalised) -> canonical column; the cube is told by them
    "indikatorsvar": "indicator_value",
    "indikatorsvar_kommunetal": "indicator_value_municipality",
    "indikatorsvar_landstal": "indicator_value_country",
    "svarfordeling": "share",
    "svarfordeling_kommunetal": "share_municipality",
    "svarfordeling_landstal": "share_country",
    "antal_svar": "respondents",
    "antal_elever": "pupils",
    "inklusionsgrad": "inclusion",
    "andel_der_modtager_seg_specialundervisning": "special_education",
    "gennemsnitligt_fravær_per_skoleår": "absence",
    "ulovligt_fravær_per_skoleår": "unauthorised_absence",
    "sygefravær_per_skoleår": "sick_absence",
    "over_10_procent": "over_10_pct",
    "elevtal": "pupils",
    "samlet_elevfravær": "overview_absence",
}
CUBE_MEASURES = {  # cube -> the measure that identifies it (checked in this order)
    "TRIVIND": "indicator_value",
    "TRIVSP": "share",
    "ELEVEX": "inclusion",
    "FRAVAAR": "over_10_pct",
    "OVERSKO": "pupils",
    "OVERSKO ": "overview_absence",  # an overview without Elevtal
}
INDICATORS = {  # the ministry's indicator names -> catalog ids
    "social_trivsel": "social_trivsel",
    "faglig_trivsel": "faglig_trivsel",
    "stoette_og_inspiration": "stoette_og_inspiration",
    "ro_og_orden": "ro_og_orden",
    "generel_trivsel": "generel_trivsel",
}
SCHOOL_YEAR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
BANDS = {"mellemtrin", "udskoling", "indskoling"}
JSON_SUFFIXES = {".json"}
HEADER_BYTES = 65536  # enough of a CSV to read its header


def canonical(key) -> str:
    """ "[Skoleår].[Skoleår].[Skoleår]" -> school_year; "Indikatorsvar" -> indicator_value;
    an unknown key -> its normalised last part."""
    text = str(key)
    parts = re.findall(r"\[([^\]]*)\]", text)
    name = normalise_name(parts[-1] if parts else text)
    return DIMENSIONS.get(name) or MEASURES.get(name) or name


def indicator_id(name) -> str | None:
    """ "Støtte og inspiration" -> stoette_og_inspiration; anything else -> None."""
    text = str(name).strip().lower()
    for letter, spelled in (("ø", "oe"), ("æ", "ae"), ("å", "aa")):
        text = text.replace(letter, spelled)
    return INDICATORS.get("_".join(text.replace("-", " ").split()))


def school_year_label(value) -> str | None:
    """ "2024/2025", "2024/25", "2024-2025" -> "2024/2025"; anything else -> None."""
    found = SCHOOL_YEAR.match(str(value).strip())
    if not found:
        return None
    start, end = found.groups()
    end = end if len(end) == 4 else start[:2] + end
    return f"{start}/{end}" if int(end) == int(start) + 1 else None


def is_ministry_json(path: Path) -> bool:
    """A JSON file holding the ministry's records (a folder's other JSON files are skipped)."""
    if path.suffix.lower() not in JSON_SUFFIXES:
        return False
    records, problems = read_json_records(path)
    return not problems and cube_of(records) is not None


def is_ministry_file(path: Path) -> bool:
    """A JSON file, or a CSV/XLSX whose header uses the ministry's names (År, Skolenavn ...)
    or has a column per wellbeing indicator."""
    if path.suffix.lower() in JSON_SUFFIXES:
        return True
    header = header_cells(path)
    names = {canonical(c) for c in header}
    raw = {normalise_name(c) for c in header}
    wide = sum(indicator_id(c) is not None for c in header) >= 2 and "indicator" not in raw
    # a measure column (Indikatorsvar, Svarfordeling, ...) tells the ministry's long shape; its
    # dimension names alone do not (a decisions sheet has a "klassetrin" column too)
    return bool(raw & set(MEASURES)) or (wide and "school_year" in names)


def header_cells(path: Path) -> list[str]:
    """The first non-empty line of a CSV (or the first row of an Excel sheet), split."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        frame, problems = read_frame(path)
        return [] if problems or frame is None else list(frame.columns)
    if suffix not in {".csv", ".txt"}:
        return []
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    try:
        text = decode_bytes(head, path.name)
    except (ValidationError, UnicodeDecodeError):
        return []
    line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=line.count)
    return next(csv.reader([line], delimiter=delimiter), [])


# --- reading ---------------------------------------------------------------------------------


def read_records(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Any shape of the ministry's figures as text records with canonical columns."""
    if path.suffix.lower() == ".json":
        return read_json_records(path)
    frame, problems = read_frame(path)
    if problems:
        return pd.DataFrame(), problems
    frame = frame.rename(columns={c: canonical(c) for c in frame.columns})
    frame = frame.loc[:, ~frame.columns.duplicated()]
    if "indicator" not in frame and "indicator_value" not in frame:
        frame = melt_wide(frame)
    return frame, []


def melt_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """A wide CSV (one column per indicator) as long records; the line number stays the row."""
    columns = [c for c in frame.columns if indicator_id(c)]
    if not columns:
        return frame
    ids = [c for c in frame.columns if c not in columns]
    long = frame.reset_index(names="_row").melt(
        id_vars=["_row", *ids], value_vars=columns, var_name="indicator", value_name="value"
    )
    long = long.rename(columns={"value": "indicator_value"}).sort_values("_row", kind="stable")
    return long.set_index("_row").rename_axis(None)


def read_json_records(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """A saved API answer: a list of records, nested objects, or either inside the envelope
    `workbench fetch-public` writes ({"request": {...}, "response": ...})."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return pd.DataFrame(), [json_problem(path.name, exc)]
    levels = None
    if isinstance(data, dict) and "response" in data:
        levels = (data.get("request") or {}).get("body", {}).get("detaljering")
        data = data["response"]
    if isinstance(data, dict) and ("data" in data or "detaljering" in data):
        levels = data.get("detaljering", levels)
        data = data.get("data", data.get("rows", []))
    if isinstance(data, list):
        rows = [
            {canonical(k): as_text(v) for k, v in record.items()}
            for record in data
            if isinstance(record, dict)
        ]
        frame = pd.DataFrame(rows, index=range(1, len(rows) + 1), dtype="string")
        return frame, [] if len(rows) == len(data) else [record_problem(path.name)]
    if isinstance(data, dict):
        return flatten_nested(data, levels, path.name)
    return pd.DataFrame(), [record_problem(path.name)]


def as_text(value) -> str | None:
    """A JSON value as the text a CSV cell would hold (numbers keep their decimal point)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten_nested(data: dict, levels: list | None, name: str) -> tuple[pd.DataFrame, list]:
    """Nested objects to records: each path of keys down to `{measure: value}` is one record.

    The level of each key is the request's `detaljering` when known; otherwise it is told from
    the members (a school year, a band, an indicator name, a 6-digit number, else a name)."""
    leaves: list[tuple[list[str], dict]] = []

    def walk(node, path):
        if isinstance(node, dict) and node and not any(isinstance(v, dict) for v in node.values()):
            leaves.append((path, node))
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, [*path, str(key)])

    walk(data, [])
    if not leaves:
        return pd.DataFrame(), [record_problem(name)]
    depth = len(leaves[0][0])
    columns = [canonical(level) for level in levels] if levels else guess_levels(leaves, depth)
    if columns is None or len(columns) != depth or any(len(p) != depth for p, _ in leaves):
        return pd.DataFrame(), [nested_problem(name, depth)]
    rows = [
        {
            **dict(zip(columns, path, strict=True)),
            **{canonical(k): as_text(v) for k, v in m.items()},
        }
        for path, m in leaves
    ]
    return pd.DataFrame(rows, index=range(1, len(rows) + 1), dtype="string"), []


def guess_levels(leaves: list, depth: int) -> list[str] | None:
    """Each level's column from its members; None when two levels are free text."""
    columns = []
    for level in range(depth):
        members = {path[level] for path, _ in leaves}
        if all(school_year_label(m) for m in members):
            columns.append("school_year")
        elif all(m.strip().lower() in BANDS for m in members):
            columns.append("band")
        elif all(indicator_id(m) for m in members):
            columns.append("indicator")
        elif all(re.fullmatch(r"\d{6}", m.strip()) for m in members):
            columns.append("school_id")
        else:
            columns.append("school_name")
    return columns if columns.count("school_name") <= 1 else None


def json_problem(name: str, exc: Exception) -> Problem:
    line = getattr(exc, "lineno", None)
    return Problem(
        name,
        line,
        None,
        f"JSON that cannot be read ({type(exc).__name__})",
        "the API's answer as saved: a list of records or nested objects, UTF-8",
        "Save the answer again exactly as the API sent it (see docs/importing.md).",
    )


def record_problem(name: str) -> Problem:
    return Problem(
        name,
        None,
        None,
        "JSON without records of the ministry's figures",
        "a list of records, or nested objects ending in {measure: value}",
        "Save the API's answer as it came (formattering json), flat or with indlejret.",
    )


def nested_problem(name: str, depth: int) -> Problem:
    return Problem(
        name,
        None,
        None,
        f"nested objects {depth} levels deep whose levels cannot be told apart",
        "the request's detaljering saved with the answer, or levels of different kinds",
        'Save the answer as {"detaljering": [...the request\'s levels...], "data": {...}}, or '
        "ask the API for flat records (indlejret false).",
    )


def cube_of(frame: pd.DataFrame) -> str | None:
    """Which of the ministry's cubes the records come from, told by their measures."""
    for cube, measure in CUBE_MEASURES.items():
        if measure in frame.columns:
            return cube.strip()
    if "respondents" in frame.columns:
        return "TRIVSP"
    if "absence" in frame.columns:
        return "FRAVAAR"
    return None
