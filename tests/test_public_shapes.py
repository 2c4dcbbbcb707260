"""evaluation.data.public_shapes (with public_records): the ministry's figures in the shapes
analysts hold them give the same warehouse as the project's own CSV route.

Each shape (API JSON flat and nested, long CSV with semicolon and decimal comma, wide CSV) is
written inside the test from the real 2024/25 figures in ../shared/data/real
(school_wellbeing_2024_25.csv, Frederiksberg's 10 schools); the keys and value formats are those
of ../shared/data/real/API.md ("[Skoleår].[Skoleår].[Skoleår]", "Indikatorsvar": "3,8", nested
objects in the order of `detaljering`). The reference is the current route: `workbench ingest
school_wellbeing_2024_25.csv school_overview.csv --municipality Frederiksberg`. Skipped with a
reason when the folder is absent.

The real files hold one year and no band split, so a second year (2023/2024) and the
Mellemtrin/Udskoling split are DERIVED here, labelled as such: 2023/24 = the 2024/25 value minus
0.1; Mellemtrin = the published value, Udskoling = the published value minus 0.2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation import cli
from evaluation.data import ingest, public_shapes, warehouse
from evaluation.errors import ValidationError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
MUNICIPALITY = "Frederiksberg"
NAMES = {  # catalog id -> the ministry's Trivselsindikator
    "social_trivsel": "Social trivsel",
    "faglig_trivsel": "Faglig trivsel",
    "stoette_og_inspiration": "Støtte og inspiration",
    "ro_og_orden": "Ro og orden",
    "generel_trivsel": "Generel trivsel",
}
KEYS = {  # the API's dimension keys as a flat answer writes them (API.md)
    "school_id": "[Institution].[Afdelingsnummer].[Afdelingsnummer]",
    "school_name": "[Institution].[Institution].[Institution]",
    "year": "[Skoleår].[Skoleår].[Skoleår]",
    "band": "[Klassetrin].[Klassetringruppe].[Klassetringruppe]",
    "indicator": "[Trivselsindikator].[Trivselsindikator].[Trivselsindikator]",
}
COMPARED = ["year", "unit_id", "grade_band", "indicator_id", "value"]

needs_real = pytest.mark.skipif(
    not (REAL / "school_wellbeing_2024_25.csv").is_file(),
    reason="../shared/data/real is absent: the shapes are built from its figures",
)

# what the school overview adds to the aggregates beside the wellbeing indicators
OVERVIEW_FIGURES = ["pupils", "fravaer"]


def comma(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


@pytest.fixture(scope="module")
def real_rows() -> pd.DataFrame:
    """Frederiksberg's published 2024/25 wellbeing rows."""
    if not (REAL / "school_wellbeing_2024_25.csv").is_file():
        pytest.skip("../shared/data/real is absent")
    rows = pd.read_csv(REAL / "school_wellbeing_2024_25.csv", dtype=str)
    rows = rows[rows["municipality"] == MUNICIPALITY]
    return rows.assign(value=rows["value"].astype(float))


@pytest.fixture(scope="module")
def csv_route(tmp_path_factory) -> pd.DataFrame:
    """The aggregates of the current CSV route (the reference)."""
    if not (REAL / "school_wellbeing_2024_25.csv").is_file():
        pytest.skip("../shared/data/real is absent")
    path = tmp_path_factory.mktemp("csv") / "w.duckdb"
    files = [REAL / "school_wellbeing_2024_25.csv", REAL / "school_overview.csv"]
    ingest.ingest_paths(files, path, municipality=MUNICIPALITY)
    return table(path)


def table(path: Path, name: str = "aggregates") -> pd.DataFrame:
    """A warehouse table without `source` (it names the file the figures came from)."""
    out = warehouse.read_table(path, name).drop(columns="source", errors="ignore")
    if name == "aggregates":
        out = out[COMPARED]
    return out.sort_values(list(out.columns[:4])).reset_index(drop=True)


def ingest_shape(tmp_path: Path, shape: Path, municipality: str | None = MUNICIPALITY) -> Path:
    """The shape with the real school overview (pupils, names), as an analyst would give it."""
    path = tmp_path / "w.duckdb"
    ingest.ingest_paths([shape, REAL / "school_overview.csv"], path, municipality=municipality)
    return path


def flat_records(rows: pd.DataFrame, with_id: bool = True) -> list[dict]:
    records = []
    for r in rows.itertuples():
        record = {KEYS["school_name"]: r.school_name, KEYS["year"]: r.school_year}
        if with_id:
            record[KEYS["school_id"]] = r.school_id
        record[KEYS["indicator"]] = NAMES[r.indicator]
        record["Indikatorsvar"] = comma(r.value)
        records.append(record)
    return records


def derived_years_and_bands(rows: pd.DataFrame) -> pd.DataFrame:
    """DERIVED, not published: 2023/24 = value - 0.1; Udskoling = value - 0.2 (see the top)."""
    parts = []
    for year, year_shift in (("2024/2025", 0.0), ("2023/2024", -0.1)):
        for band, band_shift in (("Mellemtrin", 0.0), ("Udskoling", -0.2)):
            value = (rows["value"] + year_shift + band_shift).round(1)
            parts.append(rows.assign(school_year=year, band=band, value=value))
    return pd.concat(parts, ignore_index=True)


@needs_real
def test_flat_json_gives_the_csv_routes_values(tmp_path, real_rows, csv_route):
    shape = tmp_path / "trivind.json"
    shape.write_text(json.dumps(flat_records(real_rows), ensure_ascii=False), encoding="utf-8")
    got = table(ingest_shape(tmp_path, shape))
    pd.testing.assert_frame_equal(got, csv_route)
    # and from the overview: 10 schools' pupil counts and their absence (loaded since issue 16)
    assert len(got[~got["indicator_id"].isin(OVERVIEW_FIGURES)]) == len(real_rows)
    assert (got["indicator_id"] == "pupils").sum() == 10
    assert set(got["indicator_id"]) >= set(OVERVIEW_FIGURES)


@needs_real
def test_flat_json_of_the_whole_country_gives_the_same_warehouse(tmp_path, tmp_path_factory):
    """The country's 5,538 published values as one flat answer (with Beliggenhedskommune):
    aggregates, the national spread fit and the units equal the CSV route's for Aarhus."""
    rows = pd.read_csv(REAL / "school_wellbeing_2024_25.csv", dtype=str)
    records = flat_records(rows.assign(value=rows["value"].astype(float)))
    for record, municipality in zip(records, rows["municipality"], strict=True):
        record["[Institution].[Beliggenhedskommune].[Beliggenhedskommune]"] = municipality
    shape = tmp_path / "trivind_land.json"
    shape.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    got = ingest_shape(tmp_path, shape, municipality="aarhus")
    reference = tmp_path_factory.mktemp("aarhus") / "w.duckdb"
    files = [REAL / "school_wellbeing_2024_25.csv", REAL / "school_overview.csv"]
    ingest.ingest_paths(files, reference, municipality="Aarhus")
    for name in ("aggregates", "aggregate_spread", "units"):
        pd.testing.assert_frame_equal(table(got, name), table(reference, name), obj=name)
    assert len(table(got, "units")) == 45  # README: Aarhus has 45 schools


@needs_real
def test_nested_json_by_school_name_gives_the_csv_routes_values(tmp_path, real_rows, csv_route):
    """{school name: {year: {indicator: {"Indikatorsvar": "3,8"}}}}; names matched against
    school_overview.csv, levels told from their members (no detaljering saved)."""
    nested: dict = {}
    for r in real_rows.itertuples():
        leaf = nested.setdefault(r.school_name, {}).setdefault(r.school_year, {})
        # the municipal figure beside it (made up: 3,0) must not be taken for the school's
        leaf[NAMES[r.indicator]] = {
            "Indikatorsvar": comma(r.value),
            "Indikatorsvar - Kommunetal": "3,0",
        }
    shape = tmp_path / "trivind_indlejret.json"
    shape.write_text(json.dumps(nested, ensure_ascii=False), encoding="utf-8")
    pd.testing.assert_frame_equal(table(ingest_shape(tmp_path, shape)), csv_route)


@needs_real
def test_long_and_wide_csv_give_the_csv_routes_values(tmp_path, real_rows, csv_route):
    long = pd.DataFrame(
        {
            "År": real_rows["school_year"],
            "Skolenavn": real_rows["school_name"],
            "Indikator": real_rows["indicator"].map(NAMES),
            "Indikatorsvar": real_rows["value"].map(comma),
        }
    )
    shape = tmp_path / "trivsel_lang.csv"
    long.to_csv(shape, sep=";", index=False, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(table(ingest_shape(tmp_path, shape)), csv_route)
    wide = long.pivot_table(
        index=["År", "Skolenavn"], columns="Indikator", values="Indikatorsvar", aggfunc="first"
    ).reset_index()
    wide.insert(
        1,
        "Afdelingsnummer",
        wide["Skolenavn"].map(
            real_rows.drop_duplicates("school_name").set_index("school_name")["school_id"]
        ),
    )
    shape = tmp_path / "trivsel_bred.csv"
    wide.to_csv(shape, sep=";", index=False)  # a missing Støtte og inspiration stays empty
    pd.testing.assert_frame_equal(table(ingest_shape(tmp_path, shape)), csv_route)


@needs_real
def test_two_years_and_both_bands_nested_with_detaljering(tmp_path, real_rows, csv_route):
    """Nested by id, band, year, indicator, saved with the request's detaljering (DERIVED
    second year and Udskoling values, see the top)."""
    rows = derived_years_and_bands(real_rows)
    nested: dict = {}
    for r in rows.itertuples():
        leaf = nested.setdefault(r.school_id, {}).setdefault(r.band, {})
        leaf.setdefault(r.school_year, {})[NAMES[r.indicator]] = {"Indikatorsvar": comma(r.value)}
    levels = [KEYS["school_id"], KEYS["band"], KEYS["year"], KEYS["indicator"]]
    shape = tmp_path / "trivind.json"
    shape.write_text(
        json.dumps({"detaljering": levels, "data": nested}, ensure_ascii=False), encoding="utf-8"
    )
    got = table(ingest_shape(tmp_path, shape))
    wellbeing = got[~got["indicator_id"].isin(OVERVIEW_FIGURES)]
    assert set(wellbeing["year"]) == {2023, 2024}
    assert set(wellbeing["grade_band"]) == {"4-6", "7-9"}
    assert len(wellbeing) == 4 * len(real_rows)
    reference = csv_route[~csv_route["indicator_id"].isin(OVERVIEW_FIGURES)]
    reference = reference.drop(columns="grade_band")
    reference = reference.reset_index(drop=True)
    mellemtrin = wellbeing[(wellbeing["grade_band"] == "4-6") & (wellbeing["year"] == 2024)]
    pd.testing.assert_frame_equal(
        mellemtrin.drop(columns="grade_band").reset_index(drop=True), reference
    )
    udskoling = wellbeing[(wellbeing["grade_band"] == "7-9") & (wellbeing["year"] == 2023)]
    expected = (reference["value"] - 0.3).round(1).to_numpy()
    assert udskoling["value"].to_numpy() == pytest.approx(expected)


@needs_real
def test_long_csv_of_two_years_and_bands_with_flat_keys(tmp_path, real_rows, csv_route):
    """Long CSV as Randers writes it (semicolon, decimal comma, Skoleår and Klassetringruppe),
    schools by name; its Mellemtrin 2024/25 rows are the CSV route's values (DERIVED others)."""
    rows = derived_years_and_bands(real_rows)
    long = pd.DataFrame(
        {
            "Skoleår": rows["school_year"],
            "Klassetringruppe": rows["band"],
            "Institution": rows["school_name"],
            "Trivselsindikator": rows["indicator"].map(NAMES),
            "Indikatorsvar": rows["value"].map(comma),
        }
    )
    shape = tmp_path / "randers.csv"
    long.to_csv(shape, sep=";", index=False)
    got = table(ingest_shape(tmp_path, shape, municipality="frederiksberg"))
    assert len(got[~got["indicator_id"].isin(OVERVIEW_FIGURES)]) == len(rows)
    units = warehouse.read_table(tmp_path / "w.duckdb", "units")
    assert set(units["municipality"]) == {MUNICIPALITY}  # "frederiksberg" found case-blind
    wellbeing = got[~got["indicator_id"].isin(OVERVIEW_FIGURES)]
    mellemtrin = wellbeing[(wellbeing["grade_band"] == "4-6") & (wellbeing["year"] == 2024)]
    reference = csv_route[~csv_route["indicator_id"].isin(OVERVIEW_FIGURES)]
    pd.testing.assert_frame_equal(
        mellemtrin.drop(columns="grade_band").reset_index(drop=True),
        reference.drop(columns="grade_band").reset_index(drop=True),
    )


@needs_real
def test_ambiguous_and_unknown_names_list_the_candidates(tmp_path):
    shape = tmp_path / "navne.csv"
    shape.write_text(
        "År;Skolenavn;Indikator;Indikatorsvar\n"
        "2024/2025;Bakkeskolen;Social trivsel;3,9\n"
        "2024/2025;Lindevangsskolen;Social trivsel;3,9\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as err:
        ingest_shape(tmp_path, shape, municipality=None)
    problems = {(p.file, p.row, p.column): p for p in err.value.problems}
    ambiguous = problems[("navne.csv", 2, "school_name")].found
    assert "3 schools" in ambiguous  # school_overview.csv: three Bakkeskolen, three ids
    assert all(f"{i} Bakkeskolen" in ambiguous for i in ("561002", "621012", "715001"))
    assert "Lindevangskolen" in problems[("navne.csv", 3, "school_name")].found
    assert not (tmp_path / "w.duckdb").exists()


@needs_real
def test_bad_values_give_file_row_column_and_load_nothing(tmp_path, real_rows, capsys):
    records = flat_records(real_rows)
    records[3]["Indikatorsvar"] = "3,x"
    records[5]["Indikatorsvar"] = "7,5"  # outside 1-5
    records[7][KEYS["year"]] = "2024"
    shape = tmp_path / "trivind.json"
    shape.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        ingest_shape(tmp_path, shape)
    found = {(p.file, p.row, p.column) for p in err.value.problems}
    assert ("trivind.json", 4, "indicator_value") in found
    assert ("trivind.json", 8, "school_year") in found
    assert not (tmp_path / "w.duckdb").exists()
    target = tmp_path / "cli.duckdb"
    argv = ["ingest", str(shape), str(REAL / "school_overview.csv"), "--warehouse", str(target)]
    assert cli.main([*argv, "--municipality", MUNICIPALITY]) == 2
    assert "trivind.json:4:indicator_value" in capsys.readouterr().err
    assert not target.exists()


def test_school_years_keys_and_indicator_names():
    assert public_shapes.school_year_label("2024/25") == "2024/2025"
    assert public_shapes.school_year_label("2024-2026") is None
    assert public_shapes.canonical("[Skoleår].[Skoleår].[Skoleår]") == "school_year"
    assert public_shapes.canonical("[Measures].[Indikatorsvar]") == "indicator_value"
    assert public_shapes.canonical("Over 10 procent") == "over_10_pct"
    assert public_shapes.indicator_id("Støtte og inspiration") == "stoette_og_inspiration"
