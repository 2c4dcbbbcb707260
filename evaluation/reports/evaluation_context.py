"""The evaluation report's object: its checked parameters, the data, and what its sections cache
for one another (the model fit, the effect result, the demo's known truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evaluation.reports import common as rc
from evaluation.texts import Texts, format_school_year


@dataclass
class EvaluationReport:
    """Everything the section builders need; made once by `prepare_report`."""

    data: rc.ReportData
    t: Texts
    municipality: str
    year: int
    indicator_id: str
    draws: int
    seed: int
    tables_dir: Path | None
    parameters: dict
    cache: dict = field(default_factory=dict)

    @property
    def indicator(self):
        return self.data.catalog.get(self.indicator_id)

    @property
    def school_year(self) -> str:
        return format_school_year(self.year)
