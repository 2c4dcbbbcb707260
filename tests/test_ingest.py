"""Importers on small hand-made files: every Danish format variant, a table of broken files,
the atomic swap, and the demo folder end to end."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from evaluation import cli
from evaluation.data import ingest, warehouse
from evaluation.errors import ValidationError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
GOOD = FIXTURES / "good"
FORMATS = FIXTURES / "formats"


@pytest.fixture
def good_dir(tmp_path) -> Path:
    """A copy of the valid hand-made set, to break one file at a time."""
    return Path(shutil.copytree(GOOD, tmp_path / "exports"))


def ingest_with(tmp_path, good_dir: Path, variant: Path, replaces: str) -> Path:
    """Ingest the good set with one file swapped for a format variant; return the warehouse."""
    (good_dir / replaces).unlink()
    shutil.copy(variant, good_dir / variant.name)
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([good_dir], target)
    return target


def test_good_set_loads_every_table(tmp_path):
    target = tmp_path / "w.duckdb"
    summary = ingest.ingest_paths([GOOD], target)
    assert "responses.csv: 4 rows -> responses" in summary
    units = warehouse.read_table(target, "units")
    assert "Ærøvejens Skole" in set(units.name) and "Bakkegårdens Børnehus" in set(units.name)
    register = warehouse.read_table(target, "register").set_index("unit_id")
    assert register.loc["101001", "median_wait_days"] == 41.5  # decimal comma
    assert register.loc["101002", "absence_pct"] == 7.25
    assert pd.isna(register.loc["101002", "median_wait_days"])  # empty cell -> NULL
    with warehouse.connect(target) as con:
        answers = con.execute(
            "SELECT q05, q08, q30 FROM responses WHERE pupil_key = 'a2'"
        ).fetchone()
        young = con.execute("SELECT q20, q21 FROM responses WHERE pupil_key = 'b1'").fetchone()
        log = con.execute("SELECT file, sha256, table_name, rows FROM ingest_log").df()
    assert answers == (0, None, 3)  # 0 kept, skipped item NULL
    assert young == (4, None)
    assert len(log) == 7
    sha = hashlib.sha256((GOOD / "units.csv").read_bytes()).hexdigest()
    assert log.set_index("table_name").loc["units", "sha256"] == sha


def test_utf8_with_bom(tmp_path, good_dir):
    target = ingest_with(tmp_path, good_dir, FORMATS / "units_utf8_bom.csv", "units.csv")
    units = warehouse.read_table(target, "units")
    assert list(units.columns)[0] == "unit_id"  # the BOM is not part of the first name
    assert "Ærøvejens Skole" in set(units.name)


def test_latin1_keeps_danish_letters(tmp_path, good_dir):
    assert b"\xc5by" in (FORMATS / "units_latin1.csv").read_bytes()  # really Latin-1
    target = ingest_with(tmp_path, good_dir, FORMATS / "units_latin1.csv", "units.csv")
    names = set(warehouse.read_table(target, "units").name)
    assert {"Åbyhøjskolen", "Ærøvejens Skole", "Bakkegårdens Børnehus"} <= names


def test_comma_separator_and_decimal_point(tmp_path, good_dir):
    target = ingest_with(tmp_path, good_dir, FORMATS / "register_comma_point.csv", "register.csv")
    register = warehouse.read_table(target, "register").set_index("unit_id")
    assert register.loc["101001", "median_wait_days"] == 41.5
    assert register.loc["101002", "absence_pct"] == 7.25


def test_xlsx_with_title_row(tmp_path, good_dir):
    target = ingest_with(tmp_path, good_dir, FORMATS / "register_title_row.xlsx", "register.csv")
    register = warehouse.read_table(target, "register").set_index("unit_id")
    assert register.loc["101001", "pupils"] == 420
    assert register.loc["101001", "median_wait_days"] == 41.5


def test_cluster_map_as_yaml(tmp_path, good_dir):
    target = ingest_with(tmp_path, good_dir, FORMATS / "cluster_map.yaml", "cluster_membership.csv")
    membership = warehouse.read_table(target, "cluster_membership").set_index("unit_id")
    assert membership.loc["101002", "cluster_id"] == "syd"
    assert pd.isna(membership.loc["101002", "to_year"])


def test_responses_as_parquet(tmp_path, good_dir):
    table = pacsv.read_csv(
        GOOD / "responses.csv",
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(
            column_types={"unit_id": pa.string(), "pupil_key": pa.string()}
        ),
    )
    (good_dir / "responses.csv").unlink()
    pq.write_table(table, good_dir / "responses.parquet")
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([good_dir], target)
    with warehouse.connect(target) as con:
        assert con.execute("SELECT count(*), sum(q01) FROM responses").fetchone() == (4, 16)


def good_responses_table() -> pa.Table:
    return pacsv.read_csv(
        GOOD / "responses.csv",
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(
            column_types={"unit_id": pa.string(), "pupil_key": pa.string()}
        ),
    )


@pytest.mark.parametrize(
    "broken, message",
    [
        ("text", "responses.parquet:2:q01: found numbers stored as text in the Parquet file"),
        ("empty", "responses.parquet: found a Parquet file with no records"),
    ],
)
def test_parquet_answers_duckdb_could_not_load_are_refused(tmp_path, good_dir, broken, message):
    # main crashed on both: a DuckDB cast error on "5,0", a TypeError on zero records
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([good_dir], target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    table = good_responses_table()
    if broken == "text":
        answers = [str(v) for v in table.column("q01").to_pylist()]
        answers[1] = "5,0"
        table = table.set_column(table.schema.get_field_index("q01"), "q01", pa.array(answers))
    else:
        table = table.slice(0, 0)
    (good_dir / "responses.csv").unlink()
    pq.write_table(table, good_dir / "responses.parquet")
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([good_dir], target, replace=True)
    assert message in str(caught.value)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_public_school_aggregates(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([FORMATS / "school_wellbeing.csv"], target)
    aggregates = warehouse.read_table(target, "aggregates")
    row = aggregates[aggregates.unit_id == "101002"].iloc[0]
    assert (row.year, row.indicator_id, row.value, row.n) == (2024, "generel_trivsel", 3.5, 212)
    assert aggregates.n.isna().sum() == 2  # n may be empty


def test_reloading_aggregates_without_their_source_column_replaces_them(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([FORMATS / "school_wellbeing.csv"], target)
    before = len(warehouse.read_table(target, "aggregates"))
    frame = pd.read_csv(FORMATS / "school_wellbeing.csv", dtype=str, keep_default_na=False)
    frame.drop(columns="source").to_csv(tmp_path / "no_source.csv", index=False)
    ingest.ingest_paths([tmp_path / "no_source.csv"], target)
    assert len(warehouse.read_table(target, "aggregates")) == before


@pytest.mark.parametrize("value", ["99999", "-7", "0.5"])
def test_aggregates_off_their_indicators_scale_are_refused(tmp_path, value):
    text = (FORMATS / "school_wellbeing.csv").read_text(encoding="utf-8")
    path = tmp_path / "school_wellbeing.csv"
    path.write_text(text.replace("4-9,generel_trivsel,3.7,", f"4-9,generel_trivsel,{value},"))
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([path], tmp_path / "w.duckdb")
    message = str(caught.value)
    assert "school_wellbeing.csv:3:value: found value=" in message
    assert "indicator=generel_trivsel" in message and "the indicator's scale" in message


# --- broken files: each mapped to the message fragments the user must see -----------------


def replace_text(name: str, old: str, new: str):
    def breaker(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


def quote_every_line(folder: Path) -> None:
    path = folder / "register.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f'"{line}"\n' for line in lines), encoding="utf-8")


def comma_separator_with_decimal_comma(folder: Path) -> None:
    path = folder / "register.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(";", ","), encoding="utf-8")


def single_column_xlsx(folder: Path) -> None:
    (folder / "register.csv").unlink()
    book = openpyxl.Workbook()
    for line in (GOOD / "register.csv").read_text(encoding="utf-8").splitlines():
        book.active.append([line])
    book.save(folder / "register.xlsx")


def drop_column(folder: Path) -> None:
    frame = pd.read_csv(folder / "register.csv", sep=";", dtype=str, keep_default_na=False)
    frame.drop(columns="pupils").to_csv(folder / "register.csv", sep=";", index=False)


def empty_file(folder: Path) -> None:
    (folder / "units.csv").write_bytes(b"")


def utf16_file(folder: Path) -> None:
    text = (folder / "units.csv").read_text(encoding="utf-8")
    (folder / "units.csv").write_bytes(text.encode("utf-16"))


def undefined_byte(folder: Path) -> None:
    data = (folder / "units.csv").read_bytes().replace("Ærø".encode(), b"\xc6r\x81")
    (folder / "units.csv").write_bytes(data)


def stray_latin1_byte(folder: Path) -> None:
    """A UTF-8 file (with Danish letters) where one "ø" was pasted in as Latin-1."""
    data = (folder / "units.csv").read_bytes()
    assert "Ærø".encode() in data
    (folder / "units.csv").write_bytes(data.replace("Ærø".encode(), "Ær".encode() + b"\xf8"))


def bom_then_latin1(folder: Path) -> None:
    text = (folder / "units.csv").read_text(encoding="utf-8")
    (folder / "units.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))


def uncached_formula(folder: Path) -> None:
    """register.xlsx written by a tool that stores formulas without calculating them."""
    (folder / "register.csv").unlink()
    book = openpyxl.Workbook()
    for line in (GOOD / "register.csv").read_text(encoding="utf-8").splitlines():
        book.active.append(line.split(";"))
    book.active["D2"] = "=400+20"  # pupils; openpyxl saves no cached value
    book.save(folder / "register.xlsx")


def remove_membership(folder: Path) -> None:
    replace_text("cluster_membership.csv", "101002;syd;2022;\n", "")(folder)


BROKEN = [
    (
        "wrong delimiter (quoted lines)",
        quote_every_line,
        ["register.csv:1:", "one single column", "separated by ';'"],
    ),
    (
        "wrong delimiter (comma and decimal comma)",
        comma_separator_with_decimal_comma,
        ["register.csv:2:", "17 fields", "14 fields like the header"],
    ),
    (
        "wrong delimiter (xlsx in one column)",
        single_column_xlsx,
        ["register.xlsx:1:", "one single column"],
    ),
    ("missing column", drop_column, ["register.csv:pupils:", "no column 'pupils'"]),
    (
        "answer 7",
        replace_text("responses.csv", "2023;101001;5;a1;4;5;2;4;4", "2023;101001;5;a1;4;5;2;4;7"),
        ["responses.csv:2:q05: found 7", "an answer 1-5"],
    ),
    (
        "answer not a number",
        replace_text("responses.csv", "2023;101001;5;a1;4", "2023;101001;5;a1;x"),
        ["responses.csv:2:q01: found 'x'", "a whole number"],
    ),
    (
        "answers outside the young pupils' form",
        replace_text("responses.csv", "2023;101001;5;a1", "2023;101001;2;a1"),
        ["responses.csv:2:grade", "outside the pupil's form"],
    ),
    (
        "duplicate key",
        replace_text("units.csv", "101002;", "101001;"),
        ["units.csv:3:unit_id", "the same as row 2", "duplicate key"],
    ),
    (
        "count larger than the whole",
        replace_text("register.csv", "2023;101001;nord;420;400", "2023;101001;nord;420;430"),
        ["register.csv:2:in_general_setting", "in_general_setting=430, pupils=420"],
    ),
    (
        "unknown unit",
        replace_text("register.csv", "2023;101002;syd", "2023;999999;syd"),
        ["register.csv:3:unit_id: found unit id '999999'", "Add the unit to units.csv"],
    ),
    (
        "unit without cluster",
        remove_membership,
        ["register.csv:3:unit_id: found unit '101002' without a cluster in 2023", "covering 2023"],
    ),
    (
        "unknown home cluster",
        replace_text("register.csv", "2023;101002;syd", "2023;101002;sydvest"),
        ["register.csv:3:home_cluster: found cluster id 'sydvest'"],
    ),
    ("empty file", empty_file, ["units.csv: found an empty file"]),
    ("bad encoding (UTF-16)", utf16_file, ["units.csv:1: found bytes that are neither UTF-8"]),
    ("bad encoding (undefined byte)", undefined_byte, ["units.csv:3: found bytes", "UTF-8"]),
    (
        "cluster labelled with another municipality than its units",
        replace_text("clusters.csv", "syd;Syd;Testkommune", "syd;Syd;Andenkommune"),
        [
            "cluster_membership.csv:3:cluster_id: found unit '101002' of Testkommune in "
            "cluster 'syd' of Andenkommune",
            "a cluster in the same municipality as its units",
        ],
    ),
    (
        "count too large for the warehouse",
        replace_text("register.csv", "2023;101001;nord;420;400", "2023;101001;nord;3000000000;400"),
        ["register.csv:2:pupils: found '3000000000'", "at most 2,147,483,647"],
    ),
    (
        "infinite number",
        replace_text("register.csv", "2023;101001;nord;420;400", "2023;101001;nord;1e999;400"),
        ["register.csv:2:pupils: found '1e999'"],
    ),
    (
        "CPR number as pupil key",
        replace_text("responses.csv", "2023;101001;5;a1;", "2023;101001;5;010203-1234;"),
        ["responses.csv:2:pupil_key: found a CPR-like number (not repeated", "never a CPR"],
    ),
    (
        "CPR number without dash as pupil key",
        replace_text("responses.csv", "2023;101001;5;a1;", "2023;101001;5;0102031234;"),
        ["responses.csv:2:pupil_key: found a CPR-like number", "pseudonymous pupil key"],
    ),
    (
        "formula saved without its value",
        uncached_formula,
        ["register.xlsx:2:column D: found the formula =400+20 saved without its value"],
    ),
    (
        "one stray Latin-1 byte in a UTF-8 file",
        stray_latin1_byte,
        ["units.csv:3: found bytes of two encodings: UTF-8 letters", "b'\\xf8'"],
    ),
    (
        "UTF-8 byte-order mark before a Latin-1 body",
        bom_then_latin1,
        ["units.csv:3: found bytes of two encodings: a UTF-8 byte-order mark"],
    ),
    (
        "school year in the wrong form",
        replace_text("register.csv", "2023;101001", "2023/24;101001"),
        ["register.csv:2:year: found '2023/24'", "2023 for 2023/24"],
    ),
]


@pytest.mark.parametrize("breaker, fragments", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_file_is_reported(tmp_path, good_dir, breaker, fragments):
    breaker(good_dir)
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([good_dir], tmp_path / "w.duckdb")
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert "Fix:" in message
    assert not (tmp_path / "w.duckdb").exists()


def test_all_problems_of_a_file_at_once(tmp_path, good_dir):
    path = good_dir / "responses.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(";4;", ";9;"), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([good_dir], tmp_path / "w.duckdb")
    rows = {p.row for p in caught.value.problems}
    assert rows == {2, 3, 4, 5}  # every pupil row has a 9 somewhere


def test_samples_folder_ingests_cleanly(tmp_path):
    samples = Path(__file__).resolve().parents[1] / "data" / "samples"
    summary = ingest.ingest_paths([samples], tmp_path / "w.duckdb")
    assert "cluster_map.yaml" in summary and "school_aggregates.csv" in summary


def test_problems_are_capped(tmp_path, good_dir):
    header = (GOOD / "daycare_language.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = [f"2023;D10001;{i};0;0;0" for i in range(1, 80)]  # 79 sums that do not add up
    (good_dir / "daycare_language.csv").write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([good_dir], tmp_path / "w.duckdb")
    assert len(caught.value.problems) == ingest.MAX_PROBLEMS
    assert caught.value.more > 0
    assert f"... and {caught.value.more} more problems" in str(caught.value)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_ingest_leaves_previous_warehouse_untouched(tmp_path, good_dir):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([GOOD], target)
    before = file_hash(target)
    replace_text("register.csv", "2023;101002;syd", "2023;999999;syd")(good_dir)
    for replace in (False, True):
        with pytest.raises(ValidationError):
            ingest.ingest_paths([good_dir], target, replace=replace)
        assert file_hash(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb"]  # no temp left


def test_reingest_replaces_rather_than_duplicates(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([GOOD], target)
    ingest.ingest_paths([GOOD / "register.csv", GOOD / "responses.csv"], target)
    assert len(warehouse.read_table(target, "register")) == 2
    with warehouse.connect(target) as con:
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == 9


def test_cli_exits_non_zero_on_problems(tmp_path, good_dir, capsys):
    empty_file(good_dir)
    code = cli.main(["ingest", str(good_dir), "--warehouse", str(tmp_path / "w.duckdb")])
    assert code == 2
    assert "units.csv: found an empty file" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_folder_end_to_end(workbench_home, capsys):
    started = time.perf_counter()
    assert cli.main(["demo-data"]) == 0
    generated = time.perf_counter()
    assert cli.main(["ingest", str(workbench_home / "data" / "raw" / "demo")]) == 0
    loaded = time.perf_counter()
    print(f"demo-data {generated - started:.1f} s, ingest {loaded - generated:.1f} s")
    target = workbench_home / "data" / "warehouse" / "workbench.duckdb"
    with warehouse.connect(target) as con:
        counts = dict(
            con.execute("SELECT table_name, rows FROM ingest_log ORDER BY table_name").fetchall()
        )
        years = [
            r[0] for r in con.execute("SELECT DISTINCT year FROM responses ORDER BY 1").fetchall()
        ]
    # 45 schools of the real national sizes (issue 13): about 157,000 answers over 9 years
    assert counts["responses"] > 120_000 and counts["units"] > 100
    assert 2020 not in years and len(years) == 9
    assert "responses.parquet" in capsys.readouterr().out


def test_a_cpr_number_is_refused_without_being_repeated(tmp_path, good_dir):
    replace_text("responses.csv", "2023;101001;5;a1;", "2023;101001;5;010203-1234;")(good_dir)
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([good_dir], tmp_path / "w.duckdb")
    assert "010203" not in str(caught.value)
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize("kind", ["an export", "an empty file", "a folder"])
def test_never_overwrites_a_file_that_is_not_a_warehouse(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "an export":
        target = Path(shutil.copy(GOOD / "units.csv", tmp_path / "units.csv"))
    elif kind == "an empty file":
        target.write_bytes(b"")
    else:
        target.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    content = target.read_bytes() if target.is_file() else None
    for replace in (False, True):
        code = cli.main(["ingest", str(GOOD), "--warehouse", str(target)] + ["--replace"] * replace)
        assert code == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    if content is not None:
        assert target.read_bytes() == content


def test_stale_copies_of_a_dead_ingest_are_removed(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([GOOD], target)
    stale = [tmp_path / ".w.duckdb.999999.tmp", tmp_path / ".w.duckdb.999999.tmp.wal"]
    for p in stale:
        p.write_bytes(b"x" * 1000)
    ingest.ingest_paths([GOOD / "units.csv"], target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
