"""The `workbench` command. Each subcommand is a small function that calls into the package.

Imports happen inside the subcommands so `workbench --help` answers at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from evaluation import config
from evaluation.errors import STOP_REQUESTED, EvaluationError

# Each command imports its stage inside the function: `workbench --help` and a refused argument
# stay instant instead of paying for pandas, duckdb and papermill.


def run_demo_data(args: argparse.Namespace) -> int:
    from evaluation.data import demo

    out = Path(args.out) if args.out else config.demo_raw_dir()
    written = demo.write_demo_data(out, seed=args.seed, municipalities=args.municipalities)
    print(f"Demo data written to {written}")
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from evaluation.data import ingest

    target = Path(args.warehouse) if args.warehouse else config.warehouse_path()
    summary = ingest.ingest_paths(
        [Path(p) for p in args.paths], target, replace=args.replace, municipality=args.municipality
    )
    print(summary)
    return 0


def run_actions_template(args: argparse.Namespace) -> int:
    """A cluster's decisions sheet for the meeting: its decisions so far and suggestions."""
    from evaluation.data import decision_sheet, warehouse
    from evaluation.texts import Texts, format_school_year
    from evaluation.values import decisions

    path = warehouse.require_warehouse(args.warehouse or config.warehouse_path())
    rows, year = decisions.template_rows(path, args.cluster, args.year, min_n=args.min_n)
    name = decisions.cluster_names(path)[args.cluster]
    title = Texts("da")("decisions.sheet_title", cluster=name, school_year=format_school_year(year))
    out = Path(args.out) if args.out else config.data_dir() / "handlinger"
    written = decision_sheet.write_decision_sheet(
        rows, out, args.cluster, title, sheet_format=args.format
    )
    suggested = sum(1 for r in rows if not r.get("action"))
    print(f"{suggested} suggestion(s) for {name} ({format_school_year(year)}); written:")
    print(f"  {written}")
    print(
        "Fill in handling, ansvarlig, besluttet and ses_igen, then `workbench ingest` the folder "
        "of all clusters' sheets: an imported decisions list replaces the whole earlier list."
    )
    return 0


def run_fetch_public(args: argparse.Namespace) -> int:
    """Fetch one municipality's figures from uddannelsesstatistik.dk, store them, ingest them."""
    from evaluation.data import public_fetch

    settings = public_fetch.ApiSettings()
    if args.api_url:
        settings.url = args.api_url
    if args.page_size:
        settings.page_size = args.page_size
    out = Path(args.out) if args.out else config.raw_dir() / "public"
    target = Path(args.warehouse) if args.warehouse else config.warehouse_path()
    summary = public_fetch.fetch_public(
        args.municipality,
        args.years,
        out,
        target,
        key_file=args.key_file,
        settings=settings,
        cubes=args.cubes,
    )
    print(summary)
    return 0


def run_render(args: argparse.Namespace) -> int:
    from evaluation.render import run as render

    return render.main(args)


def run_verify(args: argparse.Namespace) -> int:
    from evaluation.render import verify

    return verify.verify_run(Path(args.run_dir))


def run_demo(args: argparse.Namespace) -> int:
    """Demo data, ingest, render: the whole path on built-in data."""
    from evaluation.data import demo, ingest
    from evaluation.render import run as render

    raw = demo.write_demo_data(config.demo_raw_dir(), seed=args.seed, municipalities=1)
    target = Path(args.warehouse) if getattr(args, "warehouse", None) else config.warehouse_path()
    print(ingest.ingest_paths([raw], target, replace=True))
    args.warehouse = str(target)
    return render.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Evaluation and learning-community workbench: wellbeing and inclusion "
        "indicators per cluster, rendered as offline HTML reports.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="build demo data, load it and render every report")
    p.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")
    add_render_arguments(p)
    p.set_defaults(func=run_demo)

    p = sub.add_parser("demo-data", help="write a synthetic demo municipality to data/raw/demo")
    p.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")
    p.add_argument(
        "--municipalities", type=int, default=1, help="how many municipalities (98 = national)"
    )
    p.add_argument("--out", help="folder to write to (default data/raw/demo)")
    p.set_defaults(func=run_demo_data)

    p = sub.add_parser(
        "ingest", help="validate files or folders of exports and load them into the warehouse"
    )
    p.add_argument("paths", nargs="+", help="CSV/XLSX/YAML files or folders")
    p.add_argument("--warehouse", help="warehouse file (default data/warehouse/workbench.duckdb)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="start a new warehouse instead of adding to the current one",
    )
    p.add_argument(
        "--municipality",
        help="with the ministry's public files: load only this municipality's schools "
        "(default: the municipality of the cluster map's schools)",
    )
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("actions", help="the learning communities' decisions (handlinger)")
    actions = p.add_subparsers(dest="actions_command", metavar="ACTION", required=True)
    p = actions.add_parser(
        "template", help="write a cluster's decisions sheet (XLSX, or CSV) with suggestions"
    )
    p.add_argument(
        "--format",
        choices=("xlsx", "csv"),
        default="xlsx",
        help="write handlinger_<ID>.xlsx (default) or handlinger_<ID>.csv: one file only",
    )
    p.add_argument("--cluster", required=True, help="the cluster's id")
    p.add_argument("--warehouse", help="warehouse file (default data/warehouse/workbench.duckdb)")
    p.add_argument("--out", help="folder to write to (default data/handlinger)")
    p.add_argument("--year", type=int, help="school year of the suggestions (default: the latest)")
    p.add_argument(
        "--min-n",
        type=int,
        default=config.MIN_N_DEFAULT,
        help=f"smallest group shown (default {config.MIN_N_DEFAULT})",
    )
    p.set_defaults(func=run_actions_template)

    add_fetch_public_parser(sub)

    p = sub.add_parser("render", help="render reports to reports/<run-id>/")
    add_render_arguments(p)
    p.set_defaults(func=run_render)

    p = sub.add_parser(
        "verify", help="re-execute a run from its manifest and compare every key figure"
    )
    p.add_argument("run_dir", help="a folder reports/<run-id>")
    p.set_defaults(func=run_verify)
    return parser


def add_fetch_public_parser(sub) -> None:
    """`workbench fetch-public`: the ministry's API answers for one municipality, ingested."""
    p = sub.add_parser(
        "fetch-public",
        help="fetch a municipality's public school figures from uddannelsesstatistik.dk "
        "(key in UDDANNELSESSTATISTIK_API_KEY), store them under data/raw/public and ingest them",
    )
    p.add_argument("--municipality", required=True, help="municipality name, e.g. Aarhus")
    p.add_argument(
        "--years", required=True, help="school years, e.g. 2019/2020-2025/2026 or 2024/2025"
    )
    p.add_argument("--out", help="folder for the stored answers (default data/raw/public)")
    p.add_argument("--warehouse", help="warehouse file (default data/warehouse/workbench.duckdb)")
    p.add_argument("--key-file", help="file holding the API key (instead of the variable)")
    p.add_argument("--api-url", help="the API's address (default: as public code uses it)")
    p.add_argument("--page-size", type=int, help="records per page (default 10000)")
    p.add_argument(
        "--cubes",
        nargs="*",
        choices=["TRIVIND", "OVERSKO", "TRIVSP", "ELEVEX", "FRAVAAR"],
        help="which of the ministry's tables to fetch (default: all five)",
    )
    p.set_defaults(func=run_fetch_public)


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--year", type=int, help="school year by its first calendar year (2024 = 2024/25)"
    )
    p.add_argument(
        "--cluster",
        nargs="*",
        help="render only these clusters' reports (default: every cluster report of the year, "
        "the leader summary and the evaluator report)",
    )
    p.add_argument("--language", choices=["da", "en"], default="da", help="report language")
    p.add_argument("--jobs", type=int, help="parallel workers (default: number of cores)")
    p.add_argument("--out", help="reports folder (default reports/)")
    p.add_argument("--force", action="store_true", help="render even reports that are up to date")
    p.add_argument(
        "--source",
        choices=["warehouse", "public"],
        default="warehouse",
        help="warehouse (default) or the ministry's public school figures",
    )
    p.add_argument("--municipality", help="municipality name (with --source public)")
    add_dask_arguments(p)
    p.add_argument(
        "--warehouse",
        help="DuckDB warehouse to render from (default data/warehouse/workbench.duckdb)",
    )
    p.add_argument(
        "--min-n",
        type=int,
        default=config.MIN_N_DEFAULT,
        help=f"smallest group shown (default {config.MIN_N_DEFAULT}; below "
        f"{config.MIN_N_FLOOR} is refused)",
    )


def add_dask_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        help="render on a Dask cluster: tls://HOST:PORT (a running `dask scheduler`), "
        "tcp://127.0.0.1:PORT on this machine, or local (a LocalCluster of --jobs workers, "
        "default 2); needs pip install '.[dask]'",
    )
    p.add_argument("--tls-ca-file", help="with a tls:// scheduler: the CA certificate (PEM)")
    p.add_argument("--tls-cert", help="with a tls:// scheduler: this client's certificate (PEM)")
    p.add_argument("--tls-key", help="with a tls:// scheduler: this client's private key (PEM)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds as for Ctrl-C: temporary copies and
    half-written runs are removed on the way out."""


def request_stop(signum, frame) -> None:
    """Ctrl-C or SIGTERM: raise where the program is, and keep the request (errors.STOP_REQUESTED)
    in case that exception is swallowed, so the render's next check raises it again."""
    kind = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    STOP_REQUESTED.append(kind)
    raise kind()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    in_main_thread = threading.current_thread() is threading.main_thread()
    stops = (signal.SIGTERM, signal.SIGINT) if in_main_thread else ()
    previous = {signum: signal.signal(signum, request_stop) for signum in stops}
    try:
        return args.func(args)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("Stopped. The warehouse and published reports are untouched.", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        STOP_REQUESTED.clear()


if __name__ == "__main__":
    sys.exit(main())
