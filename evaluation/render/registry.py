"""What a run can render: report kinds (one notebook each) and how each is parameterised.

A new report is one `ReportSpec` entry in `REPORTS`; its `source` names an entry of
`evaluation.render.sources.SOURCES` (where the figures come from).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation import config
from evaluation.errors import ParameterError
from evaluation.render.workers import RenderJob


@dataclass(frozen=True)
class RenderSettings:
    """What every report of one run shares; validated against the warehouse before use."""

    year: int
    language: str
    warehouse: str
    min_n: int
    clusters: tuple[str, ...]
    clusters_chosen: bool = False  # --cluster given: render only those cluster reports
    municipality: str = ""  # --source public: the municipality of the public report
    # --source public: a warehouse of the ministry's figures (respondent counts, years), or ""
    public_warehouse: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """One kind of report: its notebook and how to build the parameters of each copy.

    `build_parameters` returns one parameter dict per report to render (e.g. one per cluster);
    the renderer adds `tables_dir`.
    """

    name: str
    notebook: str
    build_parameters: Callable[[RenderSettings], list[dict]]
    source: str = "warehouse"  # a key of evaluation.render.sources.SOURCES
    needs_pupil_level: bool = False  # skipped for a warehouse of published aggregates only
    # notebook parameters the renderer leaves at the notebook's own default (one home for each)
    notebook_defaults: tuple[str, ...] = ()
    # starts only after the run's shared precomputation (evaluation.reports.shared); False: it
    # reads none of it, so it runs while the parent still precomputes (issue 17)
    waits_for_shared: bool = True

    def notebook_path(self) -> Path:
        path = Path(self.notebook)
        return path if path.is_absolute() else config.notebooks_dir() / path


def build_cluster_parameters(settings: RenderSettings) -> list[dict]:
    """One cluster report per cluster of the year."""
    return [
        {
            "cluster": cluster,
            "year": settings.year,
            "language": settings.language,
            "warehouse": settings.warehouse,
            "min_n": settings.min_n,
        }
        for cluster in settings.clusters
    ]


def build_municipality_parameters(settings: RenderSettings) -> list[dict]:
    """One report for the whole municipality (skipped when only some clusters were asked for)."""
    if settings.clusters_chosen:
        return []
    return [
        {
            "year": settings.year,
            "language": settings.language,
            "warehouse": settings.warehouse,
            "min_n": settings.min_n,
        }
    ]


def build_public_parameters(settings: RenderSettings) -> list[dict]:
    """One public report for the chosen municipality (settings.warehouse is the data folder)."""
    return [
        {
            "municipality": settings.municipality,
            "language": settings.language,
            "data_dir": settings.warehouse,
            "min_n": settings.min_n,
            "warehouse": settings.public_warehouse,
        }
    ]


REPORTS: list[ReportSpec] = [
    ReportSpec("cluster_report", "cluster_report.ipynb", build_cluster_parameters),
    ReportSpec(
        "leader_summary",
        "leader_summary.ipynb",
        build_municipality_parameters,
        notebook_defaults=("municipality",),
    ),
    # the effect estimate needs years of pupil-level answers or registers, not one public year;
    # of the shared results it would read only the effect, which it computes itself as fast
    ReportSpec(
        "evaluation_report",
        "evaluation_report.ipynb",
        build_municipality_parameters,
        needs_pupil_level=True,
        notebook_defaults=("municipality", "indicator", "bootstrap_draws", "seed"),
        waits_for_shared=False,
    ),
    ReportSpec("public_report", "public_report.ipynb", build_public_parameters, source="public"),
]


def make_report_id(name: str, parameters: dict) -> str:
    """File-name-safe id: the report name, plus the cluster for per-cluster reports."""
    for key in ("cluster", "municipality"):
        if key in parameters:
            return f"{name}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(parameters[key]))}"
    return name


def plan_jobs(registry: list[ReportSpec], settings: RenderSettings) -> list[RenderJob]:
    """Every report of the run, in registry order; refuses a registered notebook that is missing."""
    missing = [str(s.notebook_path()) for s in registry if not s.notebook_path().is_file()]
    if missing:
        raise ParameterError(
            "report notebooks not found: " + ", ".join(missing) + ". Fix: reinstall the package "
            "(pip install .) or restore them from git "
            "(git checkout -- evaluation/reports/notebooks)."
        )
    jobs = []
    for spec in registry:
        for parameters in spec.build_parameters(settings):
            jobs.append(
                RenderJob(
                    report_id=make_report_id(spec.name, parameters),
                    name=spec.name,
                    notebook=str(spec.notebook_path()),
                    parameters=parameters,
                    language=settings.language,
                    waits_for_shared=spec.waits_for_shared,
                )
            )
    return jobs
