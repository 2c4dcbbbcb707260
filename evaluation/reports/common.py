"""Building blocks shared by the report builders, under one name: every report imports this module
as `rc` (`from evaluation.reports import common as rc`) and finds here what it needs from

- `inputs`: parameter checks and the warehouse data a report reads (ReportData),
- `formatting`: numbers and indicator names as the reports write them,
- `status`: level, change and position of an indicator, and the status tables,
- `html` and `page`: HTML pieces, the stylesheet, the header and the section headings.

Everything a report shows goes through these or `evaluation.reports.charts`, so names from data
are escaped in one place and a suppressed figure becomes the marker "–", never a blank or a zero.
"""

from __future__ import annotations

from evaluation.reports.formatting import (
    axis_label,
    display_scale,
    extra_decimals,
    format_difference,
    format_interval,
    format_value,
    indicator_name,
    indicator_phrase,
    join_names,
    lower_first,
    missing_years_sentences,
)
from evaluation.reports.html import Html, bullets, esc, paragraph, section
from evaluation.reports.inputs import (
    DATA_TABLES,
    CheckedParameters,
    ReportData,
    ReportFrame,
    build_report,
    check_cluster,
    check_common,
    check_municipality,
    check_report_parameters,
    check_year,
    load_report_data,
    missing_years_by_source,
    open_report,
    previous_year,
    read_warehouse_tables,
    resolve_warehouse,
    shared_result,
)
from evaluation.reports.page import (
    REPORT_CSS,
    credit_html,
    municipality_title,
    report_for,
    report_header,
    section_title,
    section_titles,
    table_of_contents,
)
from evaluation.reports.status import (
    Z95,
    change_decimals,
    comparison_kind,
    judge,
    level_interval,
    position_against,
    status_frame,
    status_table,
    summarise_entity,
    verdict_for,
    year_change,
)
from evaluation.texts import is_missing

HEADLINE_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
    "hoej_trivsel_andel",
    "inklusionsgrad",
    "fravaer",
)
INCLUSION_INDICATORS = (
    "inklusionsgrad",
    "naerhed",
    "tilbagevenden",
    "ventetid",
    "fravaer",
    "fravaer_over_10",
    "sprog_indsats",
)

__all__ = [
    "DATA_TABLES",
    "HEADLINE_INDICATORS",
    "INCLUSION_INDICATORS",
    "REPORT_CSS",
    "Z95",
    "CheckedParameters",
    "Html",
    "ReportData",
    "ReportFrame",
    "build_report",
    "axis_label",
    "bullets",
    "check_cluster",
    "check_common",
    "check_municipality",
    "check_report_parameters",
    "check_year",
    "change_decimals",
    "comparison_kind",
    "credit_html",
    "display_scale",
    "extra_decimals",
    "esc",
    "format_difference",
    "format_interval",
    "format_value",
    "indicator_name",
    "indicator_phrase",
    "is_missing",
    "join_names",
    "judge",
    "level_interval",
    "load_report_data",
    "lower_first",
    "missing_years_by_source",
    "missing_years_sentences",
    "municipality_title",
    "open_report",
    "paragraph",
    "position_against",
    "previous_year",
    "read_warehouse_tables",
    "report_for",
    "report_header",
    "resolve_warehouse",
    "section",
    "section_title",
    "section_titles",
    "shared_result",
    "status_frame",
    "status_table",
    "summarise_entity",
    "table_of_contents",
    "verdict_for",
    "year_change",
]
