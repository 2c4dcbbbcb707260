"""The index page of a run: every report with status, parameters and provenance (offline,
accessible, Danish or English)."""

from __future__ import annotations

from evaluation.render.workers import describe_error
from evaluation.reports.html import SCROLL_REGION_CSS, esc, scroll_region
from evaluation.texts import LANGUAGES, format_school_year, texts_for

INDEX_CSS = (
    """
body { font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a; background: #fff;
       max-width: 64rem; margin: 0 auto; padding: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
td.num { text-align: right; }
a { color: #0b4f8a; }
code { overflow-wrap: anywhere; }
.failed { color: #a4000f; font-weight: bold; }
"""
    + SCROLL_REGION_CSS
)


def format_parameters(parameters: dict) -> str:
    shown = {k: v for k, v in parameters.items() if k not in ("warehouse", "tables_dir")}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def index_texts(language: str) -> dict:
    """The page's wording, `index_page` in evaluation/texts/<language>.yaml (English for a
    language we have no texts for)."""
    return texts_for(language if language in LANGUAGES else "en").lookup("index_page")


def build_index_html(record: dict) -> str:
    """The run's front page: every report with status, parameters and provenance (offline)."""
    language = record["parameters"]["language"]
    t = index_texts(language)
    title = t["title"].format(school_year=format_school_year(record["parameters"]["year"]))
    reports = record["reports"]
    counts = {s: sum(r["status"] == s for r in reports) for s in ("ok", "reused", "failed")}
    rows = []
    titles = [r["title"] for r in reports]
    for r in reports:
        name = esc(r["title"] if titles.count(r["title"]) == 1 else f"{r['title']} ({r['id']})")
        link = f'<a href="{esc(r["html"])}">{name}</a>' if r.get("html") else name
        status = (
            f'<span class="failed">{t["failed"]}</span>'
            if r["status"] == "failed"
            else (t[r["status"]])
        )
        rows.append(
            f'<tr><th scope="row">{link}</th><td>{status}</td>'
            f"<td>{esc(format_parameters(r['parameters']))}</td>"
            f'<td class="num">{r.get("seconds") or 0:.1f}</td></tr>'
        )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(language)}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{INDEX_CSS}</style></head>",
        "<body><main>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(t['run'].format(run_id=record['run_id'], started=record['started']))}</p>",
        f"<p>{esc(t['summary'].format(**counts))}</p>",
        scroll_region(
            "".join(
                [
                    f"<table><caption>{esc(t['caption'])}</caption><thead><tr>",
                    *(
                        f'<th scope="col">{esc(t[k])}</th>'
                        for k in ("report", "status", "parameters")
                    ),
                    f'<th scope="col">{esc(t["seconds"])}</th></tr></thead>',
                    "<tbody>",
                    *rows,
                    "</tbody></table>",
                ]
            ),
            t["caption"],
        ),
    ]
    failed = [r for r in reports if r["status"] == "failed"]
    if failed:
        parts += [f"<h2>{esc(t['failures'])}</h2>", f"<p>{esc(t['failures_intro'])}</p>"]
        parts.append("<ul>")
        for r in failed:
            notebook = (
                f' (<a href="{esc(r["executed"])}">{esc(t["executed"])}</a>)'
                if r.get("executed")
                else ""
            )
            parts.append(
                f"<li><strong>{esc(r['id'])}</strong>{notebook}: "
                f"<code>{esc(describe_error(r.get('error')))}</code></li>"
            )
        parts.append("</ul>")
    parts += build_provenance_html(record, t)
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def build_provenance_html(record: dict, t: dict) -> list[str]:
    warehouse = record["inputs"]["warehouse"]
    items = [
        (t["warehouse"], f"{warehouse['path']} (SHA-256 {warehouse['sha256']})"),
        (t["git"], record.get("git_commit", "unknown")),
        (t["code"], record.get("code_sha256", "")),
        (t["finished"], record.get("finished", "")),
    ]
    items += [
        (t["files"], f"{f['path']} (SHA-256 {f['sha256']})") for f in record["inputs"]["files"]
    ]
    parts = [f"<h2>{esc(t['provenance'])}</h2>", "<dl>"]
    parts += [f"<dt>{esc(k)}</dt><dd><code>{esc(v)}</code></dd>" for k, v in items]
    rows = "".join(
        f'<tr><th scope="row">{esc(name)}</th><td>{esc(version)}</td></tr>'
        for name, version in record.get("packages", {}).items()
    )
    table = (
        f"<table><caption>{esc(t['packages_caption'])}</caption>"
        f'<thead><tr><th scope="col">{esc(t["package"])}</th>'
        f'<th scope="col">{esc(t["version"])}</th></tr></thead><tbody>{rows}</tbody></table>'
    )
    parts += ["</dl>", scroll_region(table, t["packages_caption"])]
    return parts
