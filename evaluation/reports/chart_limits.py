"""Label limits a chart does not need, turned off before vl-convert draws it (issue 17).

Vega cuts a label longer than its limit (axis `labelLimit`, 180 px by default; legend and header
limits from the charts' config). To know, it measures the label: twice while laying the chart
out and once more when it writes the SVG, and vl-convert's measuring is its dearest step (about
0.15 ms a character). A label without a limit is measured once. Where every label of a channel
fits its limit for sure, the limit cannot cut anything, so it goes: the SVG stays the same, byte
for byte, and the chart is drawn in about two thirds of the time.

"Fits for sure": the label's width summed from Liberation Sans' advance widths (fonts.text_width,
no kerning, which only narrows text that is not all capitals) at the guide's label size, with a
margin, is below the limit. Without the font nothing changes.
"""

from __future__ import annotations

from evaluation.reports.fonts import text_width

# where a channel's labels are drawn and the config block of their default limit
GUIDES = {
    "x": "axis",
    "y": "axis",
    "row": "header",
    "column": "header",
    "facet": "header",
    "color": "legend",
    "fill": "legend",
    "stroke": "legend",
    "shape": "legend",
    "strokeDash": "legend",
}
DEFAULT_LIMITS = {"axis": 180.0, "legend": 160.0, "header": 0.0}  # Vega's; header: none known
FALLBACK_SIZE = 14.0  # px: where neither the guide nor the config names a label size
NUMBER_WIDTH = 100.0  # px: wider than any number a quantitative axis or legend prints
MARGIN = 1.03


def drop_needless_limits(spec: dict, config: dict) -> dict:
    """The Vega-Lite `spec` (changed in place) with a zero label limit on every channel whose
    labels all fit its limit; a channel that fails anywhere in the spec keeps its limits."""
    if text_width("0", FALLBACK_SIZE) is None:
        return spec
    rows = [row for values in dataset_values(spec) for row in values if isinstance(row, dict)]
    labelled = []
    fits: dict[str, bool] = {}
    for channel, definition in channel_definitions(spec):
        guide = GUIDES[channel]
        limit = effective_limit(definition, guide, config)
        if limit is None:
            continue
        size = label_size(definition[guide] if guide in definition else {}, guide, config)
        widest = widest_label(definition, rows, size)
        fits[channel] = fits.get(channel, True) and 0 < widest * MARGIN < limit
        labelled.append((channel, definition))
    for channel, definition in labelled:
        if fits[channel]:
            guide = GUIDES[channel]
            definition[guide] = {**definition.get(guide, {}), "labelLimit": 0}
    return spec


def dataset_values(spec) -> list[list]:
    """Every table of rows in the spec: the named datasets and inline `data.values`."""
    found = []
    if isinstance(spec, dict):
        found += [v for v in spec.get("datasets", {}).values() if isinstance(v, list)]
        data = spec.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            found.append(data["values"])
        for key, value in spec.items():
            if key not in ("datasets", "data"):
                found += dataset_values(value)
    elif isinstance(spec, list):
        for value in spec:
            found += dataset_values(value)
    return found


def channel_definitions(spec):
    """(channel, definition) of every guided channel: encodings and facet headers, nested."""
    if isinstance(spec, list):
        for value in spec:
            yield from channel_definitions(value)
        return
    if not isinstance(spec, dict):
        return
    for name, value in spec.get("encoding", {}).items():
        if name in GUIDES and isinstance(value, dict):
            yield name, value
    facet = spec.get("facet")
    if isinstance(facet, dict):
        if "field" in facet:
            yield "facet", facet
        for name in ("row", "column"):
            if isinstance(facet.get(name), dict):
                yield name, facet[name]
    for key, value in spec.items():
        if key not in ("encoding", "facet", "datasets", "data", "config"):
            yield from channel_definitions(value)


def effective_limit(definition: dict, guide: str, config: dict) -> float | None:
    """The label limit the channel's guide gets; None where it draws no labels."""
    own = definition.get(guide, {})
    if own is None or definition.get("value") is not None or "field" not in definition:
        return None
    if "labelExpr" in own:
        return 0.0  # labels of its own: never sure they fit
    if "labelLimit" in own:
        return float(own["labelLimit"] or 0)
    return float(config.get(guide, {}).get("labelLimit", DEFAULT_LIMITS[guide]))


def label_size(own: dict, guide: str, config: dict) -> float:
    """The font size of the guide's labels: its own, the config's, or a generous fallback."""
    size = own.get("labelFontSize", config.get(guide, {}).get("labelFontSize"))
    return float(size) if isinstance(size, (int, float)) else FALLBACK_SIZE


def widest_label(definition: dict, rows: list[dict], size: float) -> float:
    """The widest label the channel can draw: a number, or its field's values, sort and domain."""
    if definition.get("type") in ("quantitative", "temporal"):
        return NUMBER_WIDTH
    field = definition["field"]
    labels = [row[field] for row in rows if field in row]
    if not labels:
        return float("inf")  # a field not found (nested or computed): not sure
    for extra in (definition.get("sort"), (definition.get("scale") or {}).get("domain")):
        if isinstance(extra, list):
            labels += extra
    # each label once: a column repeats its values row after row (3,400 widths a report, #17)
    return max(text_width(label, size) for label in set(map(str, labels)))
