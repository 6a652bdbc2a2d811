"""``report.html``: the results file as a page an auditor can read without Python.

One self-contained file: inline CSS, inline SVG charts, system fonts, no JavaScript and nothing
fetched from anywhere, so it opens the same on an air-gapped machine and can be archived with
the results. Every piece of text from the results is HTML-escaped.

Layout: the run's provenance; a summary table of every metric (value, 95% interval, n, goal,
whether it was met, and which direction is better); then per suite its notes, its metrics, and
per metric a bar chart of the groups with interval whiskers (the best group green, the worst
orange, the goal as a dashed line), the group table and the comparison table (difference,
ratio, test, p and Holm-adjusted p); last, the suite's detail tables.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

PERCENT_UNITS = {"proportion"}


def write_report(results: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    path.write_text(render(results), encoding="utf-8")
    return path


# --- formatting ---------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def fmt(value: float | None, unit: str | None = "proportion") -> str:
    """A value for people: proportions as percentages, counts as integers."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if unit in PERCENT_UNITS:
        return f"{100 * value:.1f} %"
    if unit == "count":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_diff(value: float | None, unit: str | None) -> str:
    if value is None:
        return "–"
    if unit in PERCENT_UNITS:
        return f"{100 * value:+.1f} pts"
    return ("+" if value >= 0 else "") + fmt(value, unit)


def fmt_interval(interval: dict[str, Any] | None, unit: str | None, *, diff: bool = False) -> str:
    if not interval:
        return "–"
    f = fmt_diff if diff else fmt
    return f"{f(interval['low'], unit)} to {f(interval['high'], unit)}"


def fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "&lt; 0.001" if p < 0.001 else f"{p:.3f}"


def direction(higher_is_better: bool) -> str:
    return (
        '<span class="dir" title="higher is better">&#8593; higher</span>'
        if higher_is_better
        else '<span class="dir" title="lower is better">&#8595; lower</span>'
    )


def met(value: bool | None) -> str:
    if value is None:
        return '<span class="na">–</span>'
    return (
        '<span class="ok">&#10003; met</span>'
        if value
        else '<span class="bad">&#10007; not met</span>'
    )


def _slug(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "-" for c in p.lower()) for p in parts)


# --- charts -------------------------------------------------------------------------------------
def _ticks(low: float, high: float) -> list[float]:
    """Four to six round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 x 10^k)."""
    span = (high - low) or abs(high) or 1.0
    raw = span / 4
    exp = 10 ** math.floor(math.log10(raw))
    step = next(m * exp for m in (1, 2, 2.5, 5, 10) if m * exp >= raw)
    start = math.floor(low / step + 1e-9) * step
    ticks = [round(start, 12)]
    while len(ticks) < 2 or ticks[-1] < high - 1e-12:
        ticks.append(round(start + len(ticks) * step, 12))
    return ticks


def bar_chart(metric: dict[str, Any]) -> str:
    """Horizontal bars, one per group, with the 95% interval as a whisker."""
    groups = metric.get("groups") or {}
    rows = [(g, v) for g, v in groups.items() if v.get("value") is not None]
    if not rows:
        return ""
    unit = metric.get("unit")
    comps = metric.get("comparisons") or []
    best = comps[0]["reference"] if comps and comps[0].get("test") is None else None
    worst = comps[0]["other"] if comps and comps[0].get("test") is None else None
    highs = [v["value"] for _, v in rows]
    highs += [v["interval"]["high"] for _, v in rows if v.get("interval")]
    if metric.get("goal") is not None:
        highs.append(metric["goal"])
    lows = [v["value"] for _, v in rows] + [
        v["interval"]["low"] for _, v in rows if v.get("interval")
    ]
    ticks = _ticks(min(0.0, min(lows)), max(highs))
    bottom, top = ticks[0], ticks[-1]
    span = (top - bottom) or 1.0
    label_w, plot_w, value_w, row_h, pad_top = 190, 420, 90, 24, 14
    width = label_w + plot_w + value_w
    height = pad_top + row_h * len(rows) + 30

    def x(v: float) -> float:
        return label_w + (v - bottom) / span * plot_w

    parts = [
        f'<svg class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(metric["name"])} by {_e(metric.get("group_by") or "group")}">'
    ]
    for tick in ticks:
        tx = x(tick)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{pad_top - 4}" x2="{tx:.1f}" '
            f'y2="{pad_top + row_h * len(rows)}" class="grid"/>'
            f'<text x="{tx:.1f}" y="{height - 10}" class="tick" text-anchor="middle">'
            f"{_e(fmt(tick, unit))}</text>"
        )
    for i, (name, v) in enumerate(rows):
        y = pad_top + i * row_h
        cls = "bar best" if name == best else "bar worst" if name == worst else "bar"
        x0, x1 = x(max(bottom, 0.0)), x(v["value"])
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" class="label" '
            f'text-anchor="end">{_e(name)} <tspan class="n">(n={_e(v.get("n"))})</tspan></text>'
            f'<rect x="{min(x0, x1):.1f}" y="{y + 4}" width="{max(abs(x1 - x0), 1):.1f}" '
            f'height="{row_h - 8}" class="{cls}"><title>{_e(name)}: '
            f"{_e(fmt(v['value'], unit))}</title></rect>"
        )
        ci = v.get("interval")
        if ci:
            lo, hi, cy = x(ci["low"]), x(ci["high"]), y + row_h / 2
            parts.append(
                f'<line x1="{lo:.1f}" y1="{cy:.1f}" x2="{hi:.1f}" y2="{cy:.1f}" class="whisker"/>'
                f'<line x1="{lo:.1f}" y1="{cy - 5:.1f}" x2="{lo:.1f}" y2="{cy + 5:.1f}" '
                f'class="whisker"/><line x1="{hi:.1f}" y1="{cy - 5:.1f}" x2="{hi:.1f}" '
                f'y2="{cy + 5:.1f}" class="whisker"/>'
            )
        parts.append(
            f'<text x="{label_w + plot_w + 8}" y="{y + row_h / 2 + 4:.1f}" class="value">'
            f"{_e(fmt(v['value'], unit))}</text>"
        )
    if metric.get("goal") is not None:
        gx = x(metric["goal"])
        parts.append(
            f'<line x1="{gx:.1f}" y1="{pad_top - 8}" x2="{gx:.1f}" '
            f'y2="{pad_top + row_h * len(rows)}" class="goal"/>'
            f'<text x="{gx + 3:.1f}" y="{pad_top - 2}" class="goaltext">goal</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- tables -------------------------------------------------------------------------------------
def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """Cells are already escaped HTML."""
    h = "".join(f"<th>{c}</th>" for c in head)
    b = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>'


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict) and data:
        out = []
        for k, v in data.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(data, list):
        return [(prefix, ", ".join(json.dumps(x) if not isinstance(x, str) else x for x in data))]
    return [(prefix, data)]


def provenance_table(prov: dict[str, Any]) -> str:
    rows = [
        [f"<code>{_e(k)}</code>", f'<span class="mono">{_e(v)}</span>'] for k, v in _flatten(prov)
    ]
    return _table(["field", "value"], rows, "prov")


def summary_table(results: dict[str, Any]) -> str:
    rows = []
    for r in results.get("summary", []):
        unit = r.get("unit")
        rows.append(
            [
                _e(r["suite"]),
                f'<a href="#{_slug(r["suite"], r["metric"])}"><code>{_e(r["metric"])}</code></a>',
                f"<b>{_e(fmt(r['value'], unit))}</b>",
                _e(fmt_interval(r.get("interval"), unit)),
                _e(r["n"]),
                _e(fmt(r.get("goal"), unit)) if r.get("goal") is not None else "–",
                met(r.get("meets_goal")),
                direction(r["higher_is_better"]),
            ]
        )
    if not rows:
        return "<p>No metrics were produced.</p>"
    return _table(
        ["suite", "metric", "value", "95% interval", "n", "goal", "met?", "better"], rows, "summary"
    )


def metric_block(suite: str, m: dict[str, Any]) -> str:
    unit = m.get("unit")
    parts = [
        f'<section class="metric" id="{_slug(suite, m["name"])}">',
        f"<h3><code>{_e(m['name'])}</code> {direction(m['higher_is_better'])}</h3>",
        f'<p class="desc">{_e(m.get("description"))}</p>',
        _table(
            ["value", "95% interval", "n", "unit", "goal", "met?", "grouped by"],
            [
                [
                    f"<b>{_e(fmt(m['value'], unit))}</b>",
                    _e(fmt_interval(m.get("interval"), unit)),
                    _e(m["n"]),
                    _e(unit),
                    _e(fmt(m.get("goal"), unit)) if m.get("goal") is not None else "–",
                    met(m.get("meets_goal")),
                    _e(m.get("group_by") or "–"),
                ]
            ],
            "overall",
        ),
    ]
    groups = m.get("groups") or {}
    if groups:
        parts.append('<div class="groups">')
        parts.append(bar_chart(m))
        parts.append(
            _table(
                [_e(m.get("group_by") or "group"), "value", "95% interval", "n"],
                [
                    [
                        _e(g),
                        _e(fmt(v.get("value"), unit)),
                        _e(fmt_interval(v.get("interval"), unit)),
                        _e(v.get("n")),
                    ]
                    for g, v in groups.items()
                ],
                "grouptable",
            )
        )
        parts.append("</div>")
    comps = m.get("comparisons") or []
    if comps:
        rows = [
            [
                _e(c.get("reference")),
                _e(c.get("other")),
                _e(fmt_diff(c.get("difference"), unit)),
                _e(fmt_interval(c.get("difference_interval"), unit, diff=True)),
                _e("–" if c.get("ratio") is None else f"{c['ratio']:.2f}"),
                _e(c.get("test") or "best vs worst group (no test: chosen after looking)"),
                fmt_p(c.get("p_value")),
                fmt_p(c.get("p_adjusted")),
            ]
            for c in comps
        ]
        parts.append(
            _table(
                [
                    "reference",
                    "other",
                    "difference (other − ref.)",
                    "95% interval",
                    "ratio (other / ref.)",
                    "test",
                    "p",
                    "p adjusted (Holm)",
                ],
                rows,
                "comparisons",
            )  # fmt: skip
        )
    parts.append("</section>")
    return "".join(parts)


def details_tables(details: dict[str, Any]) -> str:
    tables = (details or {}).get("tables") or {}
    parts = []
    for name, table in tables.items():
        cols = table.get("columns") or []
        rows = table.get("rows") or []
        parts.append(f"<h4>{_e(name.replace('_', ' '))}</h4>")
        if table.get("note"):
            parts.append(f'<p class="note">{_e(table["note"])}</p>')
        parts.append(
            _table(
                [_e(c) for c in cols],
                [[_e(json.dumps(c) if isinstance(c, dict | list) else c) for c in r] for r in rows],
                "details",
            )
        )
    other = {k: v for k, v in (details or {}).items() if k != "tables"}
    if other:
        parts.append("<h4>other details</h4>")
        parts.append(provenance_table(other))
    return "".join(parts)


def suite_block(name: str, result: dict[str, Any]) -> str:
    status = result.get("status", "ok")
    badge = {"ok": "ok", "error": "bad"}.get(status, "na")
    head = (
        f'<section class="suite" id="{_slug("suite", name)}"><h2>{_e(name)} '
        f'<span class="badge {badge}">{_e(status)}</span></h2>'
        f'<p class="meta">version {_e(result.get("suite_version") or "–")} · '
        f"{_e(result.get('duration_s'))} s · started {_e(result.get('started_at'))}</p>"
    )
    if status != "ok":
        return head + f'<p class="reason">{_e(result.get("reason"))}</p></section>'
    parts = [head]
    if result.get("dataset"):
        parts.append(
            '<p class="meta">datasets: '
            + " · ".join(
                f'{_e(k)} <span class="mono">{_e(str(v)[:16])}…</span>'
                for k, v in result["dataset"].items()
            )
            + "</p>"
        )
    if result.get("notes"):
        parts.append(
            '<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in result["notes"]) + "</ul>"
        )
    for m in result.get("metrics", []):
        parts.append(metric_block(name, m))
    if result.get("details"):
        parts.append("<details open><summary>Details</summary>")
        parts.append(details_tables(result["details"]))
        parts.append("</details>")
    parts.append("</section>")
    return "".join(parts)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 margin:0;padding:24px 32px;color:#1d2330;background:#fff;max-width:1180px;line-height:1.4}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:21px;margin:36px 0 6px;border-bottom:2px solid #dfe3ea;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 4px}h4{font-size:14px;margin:16px 0 4px}
.sub{color:#586174;margin:0 0 16px}
.facts{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:8px;margin:12px 0 20px}
.fact{background:#f4f6fa;border-radius:6px;padding:8px 10px}
.fact b{display:block;font-size:11px;text-transform:uppercase;color:#586174;letter-spacing:.04em}
.fact span{font-size:14px;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #dfe3ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6fa;font-weight:600}
table.summary td:nth-child(3),table.summary td:nth-child(5){text-align:right;white-space:nowrap}
table.prov td:first-child{white-space:nowrap}
table.details td{max-width:360px;word-wrap:break-word}
.mono,code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
.prov .mono{word-break:break-all}
.dir{font-size:12px;color:#586174;font-weight:normal;white-space:nowrap}
.ok{color:#1a7f37;font-weight:600}.bad{color:#c0362c;font-weight:600}.na{color:#8a93a6}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;vertical-align:middle;
 background:#eef1f6}.badge.ok{background:#dcf3e3}.badge.bad{background:#fbe1de}
.meta,.desc,.note{color:#586174;font-size:13px;margin:2px 0 6px}
.notes{font-size:13px;color:#3a4252;margin:6px 0 10px}
.groups{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.chart{background:#fbfcfe;border:1px solid #eef1f6;border-radius:6px}
.chart .grid{stroke:#e3e7ee;stroke-width:1}
.chart .tick{font-size:11px;fill:#6b7488}.chart .label{font-size:12px;fill:#1d2330}
.chart .n{fill:#8a93a6;font-size:11px}.chart .value{font-size:12px;fill:#1d2330}
.chart .bar{fill:#6f8fcf}.chart .bar.best{fill:#4caf72}.chart .bar.worst{fill:#e8904a}
.chart .whisker{stroke:#1d2330;stroke-width:1.4}
.chart .goal{stroke:#c0362c;stroke-width:1.5;stroke-dasharray:5 3}
.chart .goaltext{font-size:11px;fill:#c0362c}
.metric{border-left:3px solid #dfe3ea;padding-left:14px;margin:14px 0}
.reason{color:#c0362c}
details{margin:12px 0}summary{cursor:pointer;font-weight:600}
footer{margin-top:40px;color:#8a93a6;font-size:12px}
"""


def render(results: dict[str, Any]) -> str:
    prov = results.get("provenance", {})
    inv = results.get("invocation", {})
    models = prov.get("models") or {}
    model_names = ", ".join(
        f"{role}: {ref.get('name')}" for role, ref in models.items() if isinstance(ref, dict)
    )
    facts = [
        ("suite", inv.get("suite")),
        ("run", "quick slice" if inv.get("quick") else "full"),
        ("profile", prov.get("profile") or inv.get("profile")),
        ("models", model_names or "–"),
        ("git commit", prov.get("git_commit")),
        ("started (UTC)", prov.get("started_at")),
        ("duration", f"{prov.get('duration_s')} s"),
        ("seed", inv.get("seed")),
    ]
    suites = results.get("suites", {})
    toc = " · ".join(
        f'<a href="#{_slug("suite", n)}">{_e(n)}</a> ({_e(s.get("status"))})'
        for n, s in suites.items()
    )
    body = [
        "<h1>caseassist evaluation report</h1>",
        f'<p class="sub">{_e(results.get("schema"))} · suites: {toc}</p>',
        '<div class="facts">'
        + "".join(f'<div class="fact"><b>{_e(k)}</b><span>{_e(v)}</span></div>' for k, v in facts)
        + "</div>",
        "<h2>Summary</h2>",
        '<p class="meta">Intervals are 95% percentile bootstrap intervals. '
        "&#8593; higher is better, &#8595; lower is better. Proportions are shown as percentages; "
        "differences between proportions in percentage points. An interval shown as – could not be "
        "estimated (fewer than two items, or two clusters where items are resampled in clusters)."
        "</p>",
        summary_table(results),
        *[suite_block(n, s) for n, s in suites.items()],
        "<h2>Provenance</h2>",
        provenance_table(prov),
        "<footer>Written by eval/report.py from results.json. Self-contained: no scripts, no "
        "external resources.</footer>",
    ]
    title = f"caseassist evaluation · {inv.get('suite')} · {prov.get('started_at')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
