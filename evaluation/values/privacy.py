"""Primary and secondary suppression of indicator values (DESIGN.md, Privacy).

Primary rule (per cell): a mean, rate or median needs n >= min_n; a proportion needs
numerator >= min_n and n - numerator >= min_n (0 % or 100 % of a small group discloses everyone).

Secondary rule (per additive relation). Counts are additive: n and the numerator (and the sum
and sum of squares behind a mean and its SD) of a parent are the sums over its children, so in a
relation `parent = child_1 + ... + child_k` a single hidden cell is found by subtraction. Each
relation must therefore hold either no suppressed cell or at least two. Where exactly one is
suppressed, the published child with the smallest n is suppressed too (or, when no child is left,
the parent); this repeats until no relation has exactly one suppressed cell.

Bounds (evaluation.values.privacy_bounds): subtraction still gives the pool of a relation's
hidden cells, and answers lie on the scale, so a pool at a scale end pins its cells (4 and 6
respondents with a pooled mean of 1.00 all answered 1). When no relation holds a lone hidden cell
any more, a relation whose pool narrows a primary-hidden cell beyond the protection rule below
gets one more cell hidden (its published child with the smallest n, else its parent), and the
loop goes on.

The protection rule (tested end to end in tests/test_privacy_render.py with
scipy.optimize.linprog over every number a run publishes, each taken as an interval at its
published precision): a cell hidden by the primary rule keeps
- for a mean or rate: a feasible range at least one scale point wide (or the whole scale, if
  narrower);
- for a proportion: its small count (numerator, or complement, below min_n) free to be any of
  0 .. min_n - 1 (at most its n).
Published numbers carry no more decimals than the page prints (key figures, chart coordinates
and CSV exports are rounded as printed: evaluation.reports.formatting.interval_scale), which is
what makes the rule hold for what a reader can actually see.

Relations guarded (built by `build_relations`, per year, grade band and indicator):
- survey and daycare indicators (cluster rows = sum of the member units of that year):
  cluster = its units (unit rows with that cluster_id); municipality = its clusters plus its
  units that belong to no cluster that year. A cluster belongs to the municipality of its units
  as the data hold them, not to the municipality a file labels it with (a mislabelled cluster
  would otherwise be missing from its municipality's relation);
- register indicators (unit rows by school attended, cluster rows by the pupils' home cluster):
  municipality = all its units; municipality = all its clusters;
- any further relation a caller publishes, passed as `extra_relations` (pairs of a parent row
  label and its child row labels). This is how sums across years are guarded: a module that
  publishes a multi-year total (or a cluster with a fixed membership next to the yearly one)
  passes those relations, and the same rule makes sure no single year or moved unit can be
  found by difference.

Attacks guarded against: every single-difference attack within one relation (parent minus the
published children, or the sum of the children in place of a hidden parent), chains of them
through shared cells (a cell hidden in one relation is then hidden in every relation it is in),
and in the hierarchies built here (a tree for survey/daycare; two trees sharing only the
municipality for register) any linear combination of the published relations: with every
relation holding 0 or >= 2 hidden cells, each hidden cell stays undetermined.

Grade bands: each indicator is published for one band only (the catalog's grade_band), so no
band is a part of another published band and no part/total relation exists between bands.

Across years: the indicator-values table publishes single years only, each year's clusters
with that year's membership; it holds no sum over years, so no published cell is recovered by
differencing two years. Guarded only if passed as `extra_relations`: multi-year totals or
fixed-membership clusters published elsewhere.

Not guarded against: bounds through longer chains of relations (the bounds rule looks at one
relation and the cells inside its hidden cells; the end-to-end test checks a whole run);
relations between different indicators (e.g. the high-wellbeing share and generel trivsel use
the same pupils); register clusters versus their units (by home cluster and by school attended
they are not sums of each other, so no difference applies); year-on-year changes of a hidden
cell (they are NULL because the cell is); outside knowledge of an attacker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.errors import PrivacyError
from evaluation.values import privacy_bounds

NUMBER_COLUMNS = ("n", "numerator", "value", "sd", "se")
REASONS = ("primary", "secondary")
ROLE_CHILD, ROLE_PARENT = 0, 1


def check_min_n(min_n) -> int:
    """Return min_n as an int, or refuse a minimum group size below the floor of 3."""
    try:
        value = int(min_n)
        whole = value == min_n and not isinstance(min_n, bool)
    except (TypeError, ValueError):
        value, whole = None, False
    if not whole or value < config.MIN_N_FLOOR:
        raise PrivacyError(
            f"min_n={min_n!r} is refused: the smallest group shown must be a whole number from "
            f"{config.MIN_N_FLOOR} upwards (default {config.MIN_N_DEFAULT}), because smaller "
            "groups let a reader identify single children. Raising it is allowed."
        )
    return value


def primary_failures(values: pd.DataFrame, min_n: int) -> np.ndarray:
    """True where a cell breaks the primary rule (or has no n at all)."""
    n = pd.to_numeric(values["n"]).astype("Float64").fillna(-1).to_numpy(float)
    num = pd.to_numeric(values["numerator"]).astype("Float64").fillna(-1).to_numpy(float)
    is_prop = (values["kind"] == "proportion").to_numpy()
    prop_ok = (num >= min_n) & (n - num >= min_n)
    return ~np.where(is_prop, prop_ok, n >= min_n)


def rollup_lookup(values: pd.DataFrame, catalog=None) -> np.ndarray:
    """Per row: `home_cluster` for register indicators, else `membership`."""
    catalog = catalog or load_catalog()
    rollup = {ind.id: ind.cluster_rollup for ind in catalog.indicators}
    return values["indicator_id"].map(rollup).fillna("membership").to_numpy()


def build_relations(values: pd.DataFrame, catalog=None) -> pd.DataFrame:
    """Additive relations as a long table: relation, pos (row position), role (0 child, 1 parent).

    See the module docstring for which relations are built.
    """
    v = pd.DataFrame(
        {
            "pos": np.arange(len(values)),
            "year": values["year"].to_numpy(),
            "grade_band": values["grade_band"].astype(object).to_numpy(),
            "indicator_id": values["indicator_id"].astype(object).to_numpy(),
            "level": values["level"].astype(object).to_numpy(),
            "entity_id": values["entity_id"].astype(object).to_numpy(),
            "cluster_id": values["cluster_id"].astype(object).to_numpy(),
            "municipality": municipality_of_rows(values),
            "rollup": rollup_lookup(values, catalog),
        }
    )
    key = ["year", "grade_band", "indicator_id"]
    unit = v[v["level"] == "unit"]
    cluster = v[v["level"] == "cluster"]
    muni = v[v["level"] == "municipality"].rename(columns={"entity_id": "parent_muni"})
    member = unit["rollup"] == "membership"

    pieces = []
    # 1: cluster = its member units (membership indicators)
    pieces.append(
        link(
            unit[member & unit["cluster_id"].notna()],
            cluster.rename(columns={"entity_id": "link"}),
            key,
            child_on="cluster_id",
            kind=1,
        )
    )
    # 2: municipality = its clusters + its unclustered units (membership indicators)
    cluster = with_units_municipality(cluster, unit)  # as in the data, not as labelled
    kids = pd.concat(
        [cluster[cluster["rollup"] == "membership"], unit[member & unit["cluster_id"].isna()]]
    )
    muni_link = muni.rename(columns={"parent_muni": "link"})
    pieces.append(link(kids, muni_link, key, child_on="municipality", kind=2))
    # 3 and 4: municipality = its units; municipality = its clusters (register indicators)
    pieces.append(link(unit[~member], muni_link, key, child_on="municipality", kind=3))
    reg_clusters = cluster[cluster["rollup"] == "home_cluster"]
    pieces.append(link(reg_clusters, muni_link, key, child_on="municipality", kind=4))
    return pd.concat(pieces, ignore_index=True)


def with_units_municipality(cluster: pd.DataFrame, unit: pd.DataFrame) -> pd.DataFrame:
    """Cluster rows tied to the municipality of their units (the relation that exists in the
    data), not to the municipality a file labels them with: a cluster labelled with another
    municipality than its schools would otherwise drop out of its municipality's relation, and
    the municipality minus its published clusters would show it (issue #18). A cluster with
    units in several municipalities is a child of each; one without unit rows keeps its label.
    """
    members = unit.dropna(subset=["cluster_id", "municipality"])
    by_year = members[["year", "cluster_id", "municipality"]].drop_duplicates()
    any_year = members[["cluster_id", "municipality"]].drop_duplicates()
    rows = cluster.drop(columns="municipality").reset_index(drop=True)
    found = rows.merge(
        by_year.rename(columns={"cluster_id": "entity_id"}), on=["year", "entity_id"], how="left"
    )
    missing = rows[~rows["pos"].isin(found.dropna(subset=["municipality"])["pos"])]
    later = missing.merge(any_year.rename(columns={"cluster_id": "entity_id"}), on="entity_id")
    labelled = cluster[~cluster["pos"].isin(found.dropna(subset=["municipality"])["pos"])]
    labelled = labelled[~labelled["pos"].isin(later["pos"])]
    return pd.concat([found.dropna(subset=["municipality"]), later, labelled], ignore_index=True)


def municipality_of_rows(values: pd.DataFrame) -> np.ndarray:
    """Each row's municipality; a table without the column must hold a single municipality."""
    if "municipality" in values:
        return values["municipality"].astype(object).to_numpy()
    names = values.loc[values["level"] == "municipality", "entity_id"].unique()
    if len(names) > 1:
        raise PrivacyError(
            "The values hold several municipalities but no `municipality` column, so cluster "
            "and unit rows cannot be tied to their municipality; keep the column from "
            "evaluation.values.aggregate.compute_indicator_values."
        )
    return np.full(len(values), names[0] if len(names) else None, dtype=object)


def link(children: pd.DataFrame, parents: pd.DataFrame, key, child_on: str, kind: int):
    """Relation rows joining children to their parent row (parents' id column is `link`)."""
    pairs = children[[*key, child_on, "pos"]].merge(
        parents[[*key, "link", "pos"]],
        left_on=[*key, child_on],
        right_on=[*key, "link"],
        suffixes=("", "_parent"),
    )
    relation = pairs["pos_parent"].to_numpy() * 4 + (kind - 1)
    child_rows = pd.DataFrame({"relation": relation, "pos": pairs["pos"], "role": ROLE_CHILD})
    parent_rows = pd.DataFrame(
        {"relation": relation, "pos": pairs["pos_parent"], "role": ROLE_PARENT}
    ).drop_duplicates()
    return pd.concat([child_rows, parent_rows], ignore_index=True)


def extra_relation_rows(values: pd.DataFrame, extra_relations, start: int) -> pd.DataFrame:
    """Caller-given relations [(parent_label, [child_labels]), ...] as relation rows."""
    rows = []
    for i, (parent, children) in enumerate(extra_relations or []):
        rel = start + i
        rows.append((rel, values.index.get_loc(parent), ROLE_PARENT))
        rows.extend((rel, values.index.get_loc(c), ROLE_CHILD) for c in children)
    return pd.DataFrame(rows, columns=["relation", "pos", "role"])


def all_relations(values: pd.DataFrame, catalog=None, extra_relations=None) -> pd.DataFrame:
    rel = build_relations(values, catalog)
    start = int(rel["relation"].max()) + 1 if len(rel) else 0
    extra = extra_relation_rows(values, extra_relations, start)
    return pd.concat([rel, extra], ignore_index=True) if len(extra) else rel


def lone_suppressed(relations: pd.DataFrame, hidden: np.ndarray) -> np.ndarray:
    """Relation ids holding exactly one hidden cell."""
    counts = pd.Series(hidden[relations["pos"].to_numpy()]).groupby(
        relations["relation"].to_numpy()
    )
    total = counts.sum()
    return total.index[total == 1].to_numpy()


def secondary_choices(
    relations: pd.DataFrame, hidden: np.ndarray, n: np.ndarray, bad
) -> np.ndarray:
    """For each relation with one hidden cell: the published child with the smallest n, else the
    published parent."""
    cand = relations[relations["relation"].isin(bad)]
    cand = cand[~hidden[cand["pos"].to_numpy()]]
    cand = cand.assign(n=n[cand["pos"].to_numpy()])
    cand = cand.sort_values(["relation", "role", "n", "pos"])
    return cand.drop_duplicates("relation")["pos"].to_numpy()


def suppress_values(
    values: pd.DataFrame, min_n: int = config.MIN_N_DEFAULT, catalog=None, extra_relations=None
) -> pd.DataFrame:
    """Apply primary and secondary suppression (module docstring); returns a new table.

    Suppressed rows keep their keys; n, numerator, value, sd and se become NULL,
    `suppressed` is True and `suppression_reason` is "primary" or "secondary".
    """
    min_n = check_min_n(min_n)
    out = values.copy()
    primary = primary_failures(out, min_n)
    hidden = primary.copy()
    reason = np.where(hidden, "primary", None).astype(object)
    relations = all_relations(out, catalog, extra_relations)
    n = pd.to_numeric(out["n"]).astype("Float64").fillna(0).to_numpy(float)
    while len(relations):
        bad = lone_suppressed(relations, hidden)
        if len(bad) == 0:  # no cell found by subtraction: are the hidden pools wide enough?
            bad = privacy_bounds.narrowed_relations(out, relations, hidden, primary, min_n)
        if len(bad) == 0:
            break
        chosen = secondary_choices(relations, hidden, n, bad)
        if len(chosen) == 0:  # every cell of those relations is hidden already
            break
        hidden[chosen] = True
        reason[chosen] = "secondary"
    return mark_suppressed(out, hidden, reason)


def mark_suppressed(values: pd.DataFrame, hidden: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    """Blank the numbers of hidden rows and set the marker columns."""
    for col in NUMBER_COLUMNS:
        if col in ("n", "numerator"):
            values[col] = values[col].astype("Int64").mask(hidden)
        else:
            values[col] = values[col].astype("float64").mask(hidden)
    values["suppressed"] = hidden.astype(bool)
    values["suppression_reason"] = pd.Series(reason, index=values.index, dtype=object)
    return values


def find_privacy_leaks(
    values: pd.DataFrame, min_n: int = config.MIN_N_DEFAULT, catalog=None, extra_relations=None
) -> pd.DataFrame:
    """Rows that break the rules, each with a `leak` column saying which rule.

    Checks: published cells that fail the primary rule; suppressed cells that still show a
    number or lack a valid reason; hidden cells that are alone in an additive relation (and so
    can be found by subtraction). An empty result means no leak was found.
    """
    min_n = check_min_n(min_n)
    values = values.reset_index(drop=True)
    hidden = values["suppressed"].fillna(False).astype(bool).to_numpy()
    problems: list[tuple[int, str]] = []
    primary = primary_failures(values, min_n)
    problems += [
        (i, "published cell breaks the primary rule") for i in np.flatnonzero(primary & ~hidden)
    ]
    shows = np.zeros(len(values), dtype=bool)
    for col in NUMBER_COLUMNS:
        shows |= values[col].notna().to_numpy()
    problems += [(i, "suppressed cell shows a number") for i in np.flatnonzero(shows & hidden)]
    bad_reason = ~values["suppression_reason"].isin(REASONS).to_numpy()
    problems += [(i, "suppressed cell lacks a reason") for i in np.flatnonzero(hidden & bad_reason)]
    relations = all_relations(values, catalog, extra_relations)
    if len(relations):
        for bad, leak in (
            (
                lone_suppressed(relations, hidden),
                "suppressed cell recoverable by subtraction in its relation",
            ),
            (
                privacy_bounds.pinned_relations(values, relations, hidden),
                "suppressed cells pinned at a scale end by their relation's published figures",
            ),
        ):
            cells = relations[relations["relation"].isin(bad)]
            cells = cells[hidden[cells["pos"].to_numpy()]]
            problems += [(int(p), leak) for p in cells["pos"].unique()]
    if not problems:
        return values.iloc[0:0].assign(leak=pd.Series(dtype=object))
    pos, leak = zip(*problems, strict=True)
    return values.iloc[list(pos)].assign(leak=list(leak))
