"""The index page of a run: a landing page in the report language that says who each report is
for (the leader summary first, the cluster reports in Danish order, the evaluation last), the run
in plain words, failures named, and the provenance folded away below (offline, no script)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from evaluation.render.workers import describe_error
from evaluation.reports.fonts import font_face_css
from evaluation.reports.html import PRINT_CSS, SCROLL_REGION_CSS, esc, scroll_region
from evaluation.reports.public_credit import index_credit_html
from evaluation.texts import LANGUAGES, danish_order, format_school_year, texts_for

# The municipalities are Danish: the run's time is shown as a Danish reader's clock shows it.
REPORT_TIMEZONE = "Europe/Copenhagen"
# Report kinds in the order a reader meets them; kinds not listed come before the evaluation.
GROUP_ORDER = ("leader_summary", "public_report", "cluster_report", "other", "evaluation_report")

INDEX_CSS = (
    """
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; line-height: 1.5;
       color: #1a1a1a; background: #fff; max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { line-height: 1.25; }
h2 { margin-top: 1.8rem; font-size: 1.3rem; }
table { border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
a { color: #0b4f8a; }
code { overflow-wrap: anywhere; }
.wb-audience { margin: 0.2rem 0 0.5rem 0; max-width: 48rem; }
.wb-reports { padding-left: 1.2rem; }
.wb-reports li { margin-bottom: 0.3rem; }
.wb-quiet { color: #4d4d4d; }
.failed { color: #a4000f; font-weight: bold; }
details { margin-top: 2rem; border-top: 1px solid #bbb; padding-top: 0.5rem; }
summary { font-weight: bold; cursor: pointer; }
"""
    + SCROLL_REGION_CSS
    + PRINT_CSS
)


def format_parameters(parameters: dict) -> str:
    shown = {k: v for k, v in parameters.items() if k not in ("warehouse", "tables_dir")}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def index_texts(language: str) -> dict:
    """The page's wording, `index_page` in evaluation/texts/<language>.yaml (English for a
    language we have no texts for)."""
    return texts_for(page_language(language)).lookup("index_page")


def page_language(language: str) -> str:
    return language if language in LANGUAGES else "en"


def format_moment(stamp: str, language: str) -> tuple[str, str]:
    """("28. november 2026", "18.29") from an ISO time stamp, on a Danish clock."""
    t = index_texts(language)
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(REPORT_TIMEZONE))
    date = t["date"].format(day=moment.day, month=t["months"][moment.month - 1], year=moment.year)
    return date, t["clock"].format(hour=moment.hour, minute=f"{moment.minute:02d}")


def format_seconds(seconds, language: str) -> str:
    """Seconds with the language's decimal mark ("3,2 sekunder")."""
    texts = texts_for(page_language(language))
    return index_texts(language)["seconds_value"].format(
        seconds=texts.number(float(seconds or 0), decimals=1)
    )


def group_reports(reports: list[dict]) -> list[tuple[str, list[dict]]]:
    """(kind, reports) in GROUP_ORDER; within a kind by title in Danish order."""
    groups: dict[str, list[dict]] = {}
    for r in reports:
        kind = r.get("name") or r["id"].split("-")[0]
        groups.setdefault(kind if kind in GROUP_ORDER else "other", []).append(r)
    return [
        (kind, sorted(groups[kind], key=lambda r: title_order(r["title"])))
        for kind in GROUP_ORDER
        if kind in groups
    ]


def title_order(title: str) -> str:
    """Danish order of a title word by word, so the cluster's name inside "Klyngerapport for
    Aabyen" sorts as Åbyen."""
    return " ".join(danish_order(word) for word in str(title).split())


def report_item(r: dict, t: dict, language: str, titles: list[str]) -> str:
    """One report: its title (linked when its page exists) and what became of it, in words."""
    name = esc(r["title"] if titles.count(r["title"]) == 1 else f"{r['title']} ({r['id']})")
    link = f'<a href="{esc(r["html"])}">{name}</a>' if r.get("html") else name
    if r["status"] == "failed":
        state = f'<span class="failed">{esc(t["failed"])}</span>'
    else:
        state = esc(t[r["status"]]) + ", " + esc(format_seconds(r.get("seconds"), language))
    return f'<li>{link} <span class="wb-quiet">({state})</span></li>'


def reports_html(record: dict, t: dict, language: str) -> list[str]:
    """Every report under a heading that says whom it is for."""
    titles = [r["title"] for r in record["reports"]]
    parts = []
    for kind, reports in group_reports(record["reports"]):
        audience = t["audience"].get(kind, t["audience"]["other"])
        parts += [
            f"<h2>{esc(audience['heading'])}</h2>",
            f'<p class="wb-audience">{esc(audience["for"])}</p>',
            '<ul class="wb-reports">',
            *(report_item(r, t, language, titles) for r in reports),
            "</ul>",
        ]
    return parts


def failures_html(record: dict, t: dict) -> list[str]:
    """The reports that failed, named, with the step and error in words and the notebook."""
    failed = [r for r in record["reports"] if r["status"] == "failed"]
    if not failed:
        return []
    parts = [f"<h2>{esc(t['failures'])}</h2>", f"<p>{esc(t['failures_intro'])}</p>", "<ul>"]
    for r in failed:
        error = r.get("error") or {}
        sentence = t["failure_item"].format(
            title=r["title"], cell=error.get("cell") or "?", error=error.get("ename") or "?"
        )
        notebook = (
            f' (<a href="{esc(r["executed"])}">{esc(t["executed"])}</a>)'
            if r.get("executed")
            else ""
        )
        parts.append(
            f"<li>{esc(sentence)}{notebook}<br>"
            f"<code>{esc(describe_error(r.get('error')))}</code></li>"
        )
    return parts + ["</ul>"]


def build_index_html(record: dict) -> str:
    """The run's front page: the reports by audience, the run in plain words, provenance below."""
    language = record["parameters"]["language"]
    t = index_texts(language)
    title = t["title"].format(school_year=format_school_year(record["parameters"]["year"]))
    reports = record["reports"]
    counts = {s: sum(r["status"] == s for r in reports) for s in ("ok", "reused", "failed")}
    date, clock = format_moment(record["started"], language)
    run = t["run"].format(
        date=date, time=clock, duration=format_seconds(record.get("seconds"), language)
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(page_language(language))}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{font_face_css()}{INDEX_CSS}</style></head>",
        "<body><main>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(t['intro'])}</p>",
        f"<p>{esc(run)} {esc(t['summary'].format(**counts))}</p>",
        *reports_html(record, t, language),
        index_credit_html(language) if record["parameters"].get("public_figures") else "",
        *failures_html(record, t),
        *build_provenance_html(record, t),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def build_provenance_html(record: dict, t: dict) -> list[str]:
    """Parameters, hashes, versions and the commit, folded into a <details> block."""
    warehouse = record["inputs"]["warehouse"]
    items = [
        (t["run_id"], record.get("run_id", "")),
        (t["started"], record.get("started", "")),
        (t["finished"], record.get("finished", "")),
        (t["warehouse"], f"{warehouse['path']} (SHA-256 {warehouse['sha256']})"),
        (t["git"], record.get("git_commit", "unknown")),
        (t["code"], record.get("code_sha256", "")),
    ]
    items += [
        (t["files"], f"{f['path']} (SHA-256 {f['sha256']})") for f in record["inputs"]["files"]
    ]
    parts = [f"<details><summary>{esc(t['provenance'])}</summary>", "<dl>"]
    parts += [f"<dt>{esc(k)}</dt><dd><code>{esc(v)}</code></dd>" for k, v in items]
    parts.append("</dl>")
    parameters = [
        (r["title"], format_parameters(r["parameters"]))
        for _, group in group_reports(record["reports"])
        for r in group
    ]
    parts.append(two_column_table(t["caption"], (t["report"], t["parameters"]), parameters))
    packages = list(record.get("packages", {}).items())
    parts.append(two_column_table(t["packages_caption"], (t["package"], t["version"]), packages))
    return parts + ["</details>"]


def two_column_table(caption: str, heads: tuple[str, str], rows: list[tuple]) -> str:
    """A captioned name/value table in its own scroll box."""
    body = "".join(f'<tr><th scope="row">{esc(a)}</th><td>{esc(b)}</td></tr>' for a, b in rows)
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in heads)
    return scroll_region(
        f"<table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>",
        caption,
    )
