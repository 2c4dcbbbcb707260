"""The indicator catalog (`catalog.yaml` beside this file): forms, items and indicators.

Indicators are data, not code: a municipality can swap in the official item list without code
changes. Every stage reads indicator names, kinds, directions and items from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evaluation import config
from evaluation.errors import EvaluationError

KINDS = ("mean", "proportion", "median", "rate")
SOURCES = ("survey", "register", "daycare_language")
DIRECTIONS = ("higher_better", "lower_better")
REGISTER_COLUMNS = (
    "pupils",
    "in_general_setting",
    "in_special_class",
    "in_special_school",
    "special_in_own_cluster",
    "returned_to_general",
    "referrals",
    "median_wait_days",
    "absence_pct",
    "absence_sd",
    "pupils_over_10pct_absence",
)
DAYCARE_COLUMNS = ("assessed", "generel", "fokuseret", "saerlig")
ITEM_COLUMNS = tuple(f"q{i:02d}" for i in range(1, 41))
SCALE_BY_KIND = {  # the range a published value of each kind of indicator can take
    "mean": (1.0, 5.0),
    "proportion": (0.0, 1.0),
    "rate": (0.0, 100.0),
    "median": (0.0, float("inf")),
}
WELLBEING_INDICATORS = (  # the indicators of the ministry's public wellbeing file
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
)


@dataclass(frozen=True)
class Item:
    """One survey question of one form."""

    item_id: str
    text_da: str
    reverse: bool
    status: str


@dataclass(frozen=True)
class Form:
    """A questionnaire (grades 4-9 or 0-3) and its items."""

    grade_band: str
    grades: tuple[int, ...]
    items: dict[str, Item]


@dataclass(frozen=True)
class Indicator:
    """One catalog entry; fields not used by its source/kind are empty."""

    id: str
    name_da: str
    name_en: str
    source: str
    kind: str
    direction: str
    grade_band: str
    items: tuple[str, ...] = ()
    min_answered: float = 0.5
    threshold: float | None = None
    based_on: str | None = None
    favourable_at: float | None = None
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    value_column: str | None = None
    weight: str | None = None
    sd_column: str | None = None
    statement: int | None = None
    official: bool = False
    short_da: str = ""  # a short name with its unit for narrow table headers (default: name_da)
    short_en: str = ""

    @property
    def cluster_rollup(self) -> str:
        """How cluster rows are formed: `membership` (sum of member units) or `home_cluster`."""
        return "home_cluster" if self.source == "register" else "membership"


@dataclass(frozen=True)
class Catalog:
    """The forms and indicators of catalog.yaml, validated."""

    forms: dict[str, Form]
    indicators: tuple[Indicator, ...]
    by_id: dict[str, Indicator] = field(default_factory=dict)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id, or an error listing the known ids."""
        if indicator_id not in self.by_id:
            known = ", ".join(sorted(self.by_id))
            raise EvaluationError(f"Unknown indicator {indicator_id!r}. Known indicators: {known}")
        return self.by_id[indicator_id]

    def from_source(self, source: str) -> list[Indicator]:
        return [ind for ind in self.indicators if ind.source == source]


def as_tuple(value) -> tuple[str, ...]:
    """A YAML scalar or list as a tuple of strings (numerator: x or numerator: [x, y])."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate the indicator catalog (default: evaluation/catalog.yaml)."""
    path = Path(path) if path else config.catalog_path()
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: same result, faster
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationError(f"Cannot read the indicator catalog {path}: {exc}") from exc
    if not isinstance(raw, dict) or "forms" not in raw or "indicators" not in raw:
        raise EvaluationError(
            f"The indicator catalog {path} needs two top-level keys, `forms` and `indicators`."
        )
    forms = {band: parse_form(band, spec, path) for band, spec in raw["forms"].items()}
    indicators = tuple(parse_indicator(spec, path) for spec in raw["indicators"])
    catalog = Catalog(forms=forms, indicators=indicators, by_id={i.id: i for i in indicators})
    validate_catalog(catalog, path)
    return catalog


def parse_form(band: str, spec: dict, path: Path) -> Form:
    """One `forms:` entry."""
    items = {}
    for item_id, item in (spec.get("items") or {}).items():
        if item_id not in ITEM_COLUMNS:
            raise EvaluationError(
                f"{path}: form {band!r} has item {item_id!r}; items are named q01 ... q40."
            )
        items[item_id] = Item(
            item_id=item_id,
            text_da=str(item.get("text_da", "")),
            reverse=bool(item.get("reverse", False)),
            status=str(item.get("status", "")),
        )
    grades = tuple(int(g) for g in spec.get("grades", []))
    if not grades or not items:
        raise EvaluationError(f"{path}: form {band!r} needs `grades` and `items`.")
    return Form(grade_band=str(band), grades=grades, items=items)


def parse_indicator(spec: dict, path: Path) -> Indicator:
    """One `indicators:` entry (validation of references happens in validate_catalog)."""
    if not isinstance(spec, dict) or "id" not in spec:
        raise EvaluationError(f"{path}: every indicator needs an `id`; found {spec!r}.")
    missing = [k for k in ("source", "kind", "direction", "grade_band") if k not in spec]
    if missing:
        raise EvaluationError(
            f"{path}: indicator {spec['id']!r} lacks {', '.join(missing)}; add them to the entry."
        )
    return Indicator(
        id=str(spec["id"]),
        name_da=str(spec.get("name_da", spec["id"])),
        name_en=str(spec.get("name_en", spec["id"])),
        source=str(spec["source"]),
        kind=str(spec["kind"]),
        direction=str(spec["direction"]),
        grade_band=str(spec["grade_band"]),
        items=as_tuple(spec.get("items")),
        min_answered=float(spec.get("min_answered", 0.5)),
        threshold=None if spec.get("threshold") is None else float(spec["threshold"]),
        based_on=spec.get("based_on"),
        favourable_at=None if spec.get("favourable_at") is None else float(spec["favourable_at"]),
        numerator=as_tuple(spec.get("numerator")),
        denominator=as_tuple(spec.get("denominator")),
        value_column=spec.get("value_column"),
        weight=spec.get("weight"),
        sd_column=spec.get("sd_column"),
        statement=spec.get("statement"),
        official=bool(spec.get("official", False)),
        short_da=str(spec.get("short_da", spec.get("name_da", spec["id"]))),
        short_en=str(spec.get("short_en", spec.get("name_en", spec["id"]))),
    )


def validate_catalog(catalog: Catalog, path: Path) -> None:
    """Raise EvaluationError naming the first indicator whose entry cannot be computed."""
    seen: set[str] = set()
    for ind in catalog.indicators:
        where = f"{path}: indicator {ind.id!r}"
        if ind.id in seen:
            raise EvaluationError(f"{where} appears twice; ids must be unique.")
        seen.add(ind.id)
        for attr, allowed in (("source", SOURCES), ("kind", KINDS), ("direction", DIRECTIONS)):
            if getattr(ind, attr) not in allowed:
                raise EvaluationError(
                    f"{where} has unknown {attr} {getattr(ind, attr)!r}; use one of "
                    f"{', '.join(allowed)}."
                )
        if ind.source == "survey":
            validate_survey_indicator(ind, catalog, where)
        elif ind.source == "register":
            validate_table_indicator(ind, REGISTER_COLUMNS, "register", where)
        else:
            validate_table_indicator(ind, DAYCARE_COLUMNS, "daycare_language", where)


def validate_survey_indicator(ind: Indicator, catalog: Catalog, where: str) -> None:
    if ind.kind not in ("mean", "proportion"):
        raise EvaluationError(f"{where}: a survey indicator is a mean or a proportion.")
    if ind.grade_band not in catalog.forms:
        raise EvaluationError(
            f"{where} has grade_band {ind.grade_band!r}, but the catalog has forms "
            f"{', '.join(catalog.forms)} only."
        )
    if ind.based_on:
        base = catalog.by_id.get(ind.based_on)
        if base is None or base.source != "survey" or base.kind != "mean" or base.based_on:
            raise EvaluationError(
                f"{where} is based_on {ind.based_on!r}, which is not a survey mean in the catalog."
            )
        if base.grade_band != ind.grade_band:
            raise EvaluationError(f"{where} and its base {base.id!r} have different grade bands.")
        if ind.threshold is None or ind.kind != "proportion":
            raise EvaluationError(f"{where}: based_on needs kind proportion and a threshold.")
        return
    if not ind.items:
        raise EvaluationError(f"{where} needs `items` (or `based_on` and `threshold`).")
    form = catalog.forms[ind.grade_band]
    unknown = [i for i in ind.items if i not in form.items]
    if unknown:
        raise EvaluationError(
            f"{where} uses item(s) {', '.join(unknown)}, which form {ind.grade_band!r} does not "
            "have; correct the item key."
        )
    if len(set(ind.items)) != len(ind.items):
        raise EvaluationError(f"{where} lists an item twice.")
    if not 0 < ind.min_answered <= 1:
        raise EvaluationError(f"{where}: min_answered must be a share in (0, 1].")
    if ind.kind == "proportion" and ind.favourable_at is None:
        raise EvaluationError(f"{where}: a survey proportion needs `favourable_at`.")


def validate_table_indicator(
    ind: Indicator, columns: Iterable[str], table: str, where: str
) -> None:
    columns = tuple(columns)
    if ind.kind == "proportion":
        needed = ind.numerator + ind.denominator
        if not ind.numerator or not ind.denominator:
            raise EvaluationError(f"{where}: a proportion needs `numerator` and `denominator`.")
    elif ind.kind in ("rate", "median"):
        needed = tuple(c for c in (ind.value_column, ind.weight, ind.sd_column) if c)
        if not ind.value_column or not ind.weight:
            raise EvaluationError(f"{where}: a {ind.kind} needs `value_column` and `weight`.")
    else:
        raise EvaluationError(f"{where}: a {table} indicator cannot be a {ind.kind}.")
    unknown = [c for c in needed if c not in columns]
    if unknown:
        raise EvaluationError(
            f"{where} uses column(s) {', '.join(unknown)}, which table {table} does not have "
            f"(it has {', '.join(columns)})."
        )
