"""The demo municipality's layout: years, units, clusters, who moves, who joins the effort when.

Part of the synthetic demo (evaluation.data.demo): one municipality's units (schools, special
schools, daycares, clubs) with Danish names, their clusters and cluster membership (one school
and one daycare move in 2021), and the staggered programme starts. Municipality 1 has Aarhus's
45 schools; more municipalities are smaller, their sizes drawn so 98 give about the 487,000
pupils of the real folkeskoler with survey values (about 1,150 schools). School sizes follow the
real 2024/25 distribution (draw_grade_sizes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = list(range(2016, 2026))

NATIONAL_PUPILS = 487_000  # real 2024/25: pupils of the 1,146 folkeskoler with survey values

BASE_PUPILS = 19_000  # municipality 1: 45 schools of the national mean size (about 425 pupils)

# Pupils per school (all grades), real 2024/25 folkeskoler with survey values (Elevtal,
# ../shared/data/real, validation/demo_calibration.py): quantile -> pupils.
SCHOOL_PUPIL_QUANTILES = (
    (0.0, 14),
    (0.02, 62),
    (0.05, 81),
    (0.10, 104),
    (0.25, 212),
    (0.50, 418),
    (0.75, 597),
    (0.90, 752),
    (0.95, 844),
    (0.98, 963),
    (1.0, 1402),
)

NATIONAL_MUNICIPALITIES = 98

START_YEARS = (2023, 2024)
# the staggered effort: programme starts

CLUSTERS = [
    ("nord", "Nord"),
    ("syd", "Syd"),
    ("vest", "Vest"),
    ("oest", "Øst"),
    ("midtby", "Midtby"),
    ("skovbrynet", "Skovbrynet"),
    ("havnen", "Havnen"),
    ("aabyen", "Åbyen"),
    ("engdalen", "Engdalen"),
    ("bakkerne", "Bakkerne"),
]

SCHOOL_NAMES = (
    "Skovvangskolen Bakkegårdsskolen Engdalskolen Møllevangskolen Sølystskolen Rosenvangskolen "
    "Ellevangskolen Vorrevangskolen Bavnehøjskolen Egebjergskolen Højvangskolen Lindebjergskolen "
    "Kildevangskolen Søndervangskolen Nordbyskolen Vestergårdsskolen Østervangskolen Fjordskolen "
    "Havbakkeskolen Strandskolen Tranehøjskolen Kragebakkeskolen Bøgeskovskolen Egeskovskolen "
    "Ådalskolen Mosevangskolen Tjørnehøjskolen Hedeskolen Lyngbakkeskolen Enghaveskolen "
    "Birkevangskolen Granhøjskolen Solbakkeskolen Klostervangskolen Kirkebakkeskolen "
    "Møllebakkeskolen Grønnegårdsskolen Præstemarkskolen Toftevangskolen Bymarkskolen "
    "Søagerskolen Åbjergskolen Fuglsangskolen Lærkevangskolen Stensballeskolen Havrevangskolen "
    "Vibeskolen Damhusskolen Æblehaveskolen Kærhøjskolen"
).split()

SPECIAL_SCHOOL_NAMES = ["Langagerskolen", "Stensagerskolen", "Kastanjehusets Specialskole"]

DAYCARE_STEMS = (
    "Bakkegårdens Skovbrynets Engdalens Møllegårdens Solbakkens Kildevangens Lindehusets "
    "Egeskovens Rosenhavens Fjordens Ådalens Strandens Mosens Kirkebakkens Lyngens Hedens "
    "Birkelundens Havrevangens Tjørnehøjens Søagerens Lærkereden Æblegårdens"
).split()

DAYCARE_KINDS = ["Børnehus", "Vuggestue", "Børnehave"]

DAYCARE_NICKNAMES = (
    "Mælkebøtten Regnbuen Troldehøjen Solsikken Spiren Myretuen Mariehønen Humlebien Grævlingen "
    "Pindsvinet Egernet Bikuben Kastanjen Valmuen Guldsmeden Sommerfuglen Rævegraven Uglereden"
).split()

CLUB_STEMS = (
    "Tranehøj Skovvang Engdal Havnen Bakken Fjorden Mosen Lyngen Heden Kilden Birken Vangen "
    "Toften Ådalen Bymarken Søen Stranden Granen Egen Møllen Kæret Enghaven"
).split()

CLUB_KINDS = ["Klub", "Ungdomsklubben", "Fritidsklubben"]


def draw_size_factors(seed: int, municipalities: int) -> np.ndarray:
    """Size of each municipality relative to municipality 1; 98 of them make a country."""
    rng = np.random.default_rng([seed, 0])
    others = rng.lognormal(0.0, 0.8, NATIONAL_MUNICIPALITIES - 1)
    total = NATIONAL_PUPILS / BASE_PUPILS - 1
    for _ in range(20):  # scale to the national total, no municipality above Aarhus size
        others = np.minimum(others * total / others.sum(), 1.0)
    return np.concatenate([[1.0], others])[:municipalities]


def municipality_name(m: int) -> str:
    return "Demo Kommune" if m == 1 else f"Demo Kommune {m}"


def build_municipality(rng: np.random.Generator, m: int, factor: float) -> dict[str, pd.DataFrame]:
    """Units, clusters, membership (one school and one daycare move) and programme starts."""
    name = municipality_name(m)
    code = 750 + m
    n_clusters = int(max(2, min(len(CLUSTERS), round(10 * factor**0.6))))
    n_schools = int(max(n_clusters, round(45 * factor)))
    n_special = int(max(1, min(len(SPECIAL_SCHOOL_NAMES), round(2 * factor))))
    n_daycare = int(max(2, round(65 * factor)))
    n_clubs = int(max(1, round(20 * factor)))
    suffix = "" if m == 1 else f"-{m:02d}"
    clusters = pd.DataFrame(
        {
            "cluster_id": [c[0] + suffix for c in CLUSTERS[:n_clusters]],
            "name": [c[1] for c in CLUSTERS[:n_clusters]],
            "municipality": name,
        }
    )
    school_names = rng.permutation(SCHOOL_NAMES)[:n_schools]
    daycare_names = draw_daycare_names(rng, n_daycare)
    club_names = [
        f"{CLUB_KINDS[i % 3]} {s}" for i, s in enumerate(rng.permutation(CLUB_STEMS)[:n_clubs])
    ]
    units = pd.concat(
        [
            unit_frame(
                [f"{code:03d}{i + 1:03d}" for i in range(n_schools)], school_names, "school"
            ),
            unit_frame(
                [f"{code:03d}9{j + 1:02d}" for j in range(n_special)],
                SPECIAL_SCHOOL_NAMES[:n_special],
                "special_school",
            ),
            unit_frame(
                [f"D{code:03d}{i + 1:03d}" for i in range(n_daycare)], daycare_names, "daycare"
            ),
            unit_frame([f"K{code:03d}{i + 1:03d}" for i in range(n_clubs)], club_names, "club"),
        ],
        ignore_index=True,
    )
    units["municipality"] = name
    units["first_year"] = YEARS[0]
    units["last_year"] = pd.array([pd.NA] * len(units), dtype="Int64")
    units["first_year"] = units["first_year"].astype("Int64")
    daycares = units.index[units.kind == "daycare"]
    clubs = units.index[units.kind == "club"]
    units.loc[daycares[-1], "first_year"] = 2019  # a new daycare opens
    if len(clubs) > 1:
        units.loc[clubs[-1], "last_year"] = 2022  # a club closes
    membership = assign_clusters(rng, units, clusters.cluster_id.tolist())
    order = rng.permutation(n_clusters)
    n_first = int(round(0.3 * n_clusters))
    n_second = int(round(0.3 * n_clusters))
    start = pd.array([pd.NA] * n_clusters, dtype="Int64")
    start[order[:n_first]] = START_YEARS[0]
    start[order[n_first : n_first + n_second]] = START_YEARS[1]
    programme = pd.DataFrame({"cluster_id": clusters.cluster_id, "start_year": start})
    return {
        "units": units,
        "clusters": clusters,
        "cluster_membership": membership,
        "cluster_programme": programme,
    }


def unit_frame(ids: list[str], names, kind: str) -> pd.DataFrame:
    return pd.DataFrame({"unit_id": ids, "name": list(names), "kind": kind})


def draw_daycare_names(rng: np.random.Generator, n: int) -> list[str]:
    """Danish daycare names: "Bakkegårdens Børnehus" or "Børnehuset Mælkebøtten"."""
    combos = [f"{s} {k}" for s in DAYCARE_STEMS for k in DAYCARE_KINDS]
    combos += [f"{k} {nick}" for nick in DAYCARE_NICKNAMES for k in ("Børnehuset", "Børnehaven")]
    chosen = rng.choice(len(combos), size=min(n, len(combos)), replace=False)
    names = [combos[i] for i in chosen]
    return names + [f"Dagtilbud {i + 1}" for i in range(n - len(names))]


def assign_clusters(rng: np.random.Generator, units: pd.DataFrame, cluster_ids: list[str]):
    """Spread each kind of unit evenly over clusters; one school and one daycare move in 2021."""
    rows = []
    k = len(cluster_ids)
    for kind in ("school", "special_school", "daycare", "club"):
        ids = units.unit_id[units.kind == kind].tolist()
        slots = rng.permutation(len(ids)) % k
        for uid, slot in zip(ids, slots, strict=True):
            rows.append([uid, cluster_ids[slot], YEARS[0], None])
    membership = pd.DataFrame(rows, columns=["unit_id", "cluster_id", "from_year", "to_year"])
    for kind in ("school", "daycare"):
        of_kind = membership[membership.unit_id.isin(units.unit_id[units.kind == kind])]
        crowded = of_kind.cluster_id.map(of_kind.cluster_id.value_counts()) >= 2
        if not crowded.any():
            continue
        first = of_kind.index[crowded.to_numpy()][0]
        old = membership.loc[first, "cluster_id"]
        new = cluster_ids[(cluster_ids.index(old) + 1) % k]
        membership.loc[first, "to_year"] = 2020
        moved = {"unit_id": membership.loc[first, "unit_id"], "cluster_id": new}
        membership.loc[len(membership)] = [moved["unit_id"], new, 2021, None]
    membership["from_year"] = membership["from_year"].astype("Int64")
    membership["to_year"] = pd.array(membership["to_year"].tolist(), dtype="Int64")
    return membership.sort_values(["unit_id", "from_year"], ignore_index=True)


def draw_grade_sizes(rng: np.random.Generator, muni: dict[str, pd.DataFrame]) -> np.ndarray:
    """Typical pupils per grade of each school (the register and the survey share them): a
    tenth of a school size drawn from the real distribution (SCHOOL_PUPIL_QUANTILES, log-linear
    between the quantiles), stratified so every municipality spans it, small schools included."""
    n_schools = int((muni["units"].kind == "school").sum())
    strata = (rng.permutation(n_schools) + rng.random(n_schools)) / n_schools
    quantile, pupils = np.array(SCHOOL_PUPIL_QUANTILES, dtype=float).T
    return np.exp(np.interp(strata, quantile, np.log(pupils))) / 10


def cluster_by_year(muni: dict[str, pd.DataFrame], unit_ids: list[str]) -> np.ndarray:
    """Cluster index (into clusters table) of each unit in each year: shape (units, years)."""
    cluster_ids = muni["clusters"].cluster_id.tolist()
    position = {u: i for i, u in enumerate(unit_ids)}
    out = np.full((len(unit_ids), len(YEARS)), -1, dtype=np.int64)
    for row in muni["cluster_membership"].itertuples():
        if row.unit_id not in position:
            continue
        last = YEARS[-1] if pd.isna(row.to_year) else int(row.to_year)
        for y in range(int(row.from_year), last + 1):
            out[position[row.unit_id], y - YEARS[0]] = cluster_ids.index(row.cluster_id)
    return out


def treated_matrix(muni: dict[str, pd.DataFrame]) -> np.ndarray:
    """Whether each cluster is in the effort each year: shape (clusters, years)."""
    start = muni["cluster_programme"].start_year.to_numpy(dtype="float64", na_value=np.inf)
    return np.array(YEARS)[None, :] >= start[:, None]


class EffectTally:
    """Collects per treated cluster-year the indicator value with and without the effect, and
    per effective decision and year its indicator's cluster value with and without it."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.decision_rows: list[dict] = []
        self.cluster_changes: list[dict] = []  # planted clear changes (demo_survey)
        self.outlier_schools: list[dict] = []  # planted schools far from the others

    def add_decision(self, decision_id: str, year: int, with_: float, without: float) -> None:
        self.decision_rows.append(
            {"decision_id": decision_id, "year": year, "effect": float(with_ - without)}
        )

    def add(self, indicator, band, cluster_id, year, with_: float, without: float) -> None:
        self.rows.append(
            {
                "indicator": indicator,
                "grade_band": band,
                "cluster_id": cluster_id,
                "year": year,
                "effect": float(with_ - without),
            }
        )
