"""The validation report: one self-contained HTML page (inline SVG, no scripts, no network),
so it can be mailed to a clinical safety officer or attached to a go-live decision as it is.

It shows what `validation.json` holds: the cohort, each detector's figures with intervals,
burden against sensitivity as a chart with the what-if curves, when the first alert came, the
stays to review, and what was wrong with the input.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path

#: Colours: crsmon in the page's blue, each bedside score its own muted colour.
COLOURS = {
    "crsmon ≥ medium": "#1f5fbf",
    "crsmon ≥ high": "#0b2f6b",
    "NEWS2 ≥ 5": "#c0392b",
    "NEWS2 ≥ 7": "#7b1d12",
    "qSOFA ≥ 2": "#b7791f",
    "SIRS ≥ 2": "#2f855a",
}
CURVE_COLOURS = {"NEWS2": "#c0392b", "qSOFA": "#b7791f", "SIRS": "#2f855a"}

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1a202c}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #cbd5e0}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.3rem .6rem;border-bottom:1px solid #e2e8f0;
text-align:right}th:first-child,td:first-child{text-align:left}.ci{color:#718096;font-size:.85em}
.note{color:#4a5568;max-width:60rem}code{background:#edf2f7;padding:0 .2rem}
svg text{font:12px system-ui,sans-serif}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;max-width:720px}
"""


def _figure(figure: dict | None, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """A figure with its interval in grey: `12.9 % (12.2–13.7)`; a dash where there is none."""
    if not figure or figure.get("value") is None:
        return "–"
    low, high = figure["ci95"]
    ci = (
        ""
        if low is None or (isinstance(low, float) and math.isnan(low))
        else (f' <span class="ci">({scale * low:.{digits}f}–{scale * high:.{digits}f})</span>')
    )
    return f"{scale * figure['value']:.{digits}f}{unit}{ci}"


def _pct(figure: dict | None) -> str:
    return _figure(figure, 100.0, 1, " %")


def _rate(figure: dict | None) -> str:
    return _figure(figure)


def _detector_table(detectors: dict) -> str:
    rows = []
    for name, d in detectors.items():
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{_pct(d['flagged_at_onset_minus_6h'])}</td>"
            f"<td>{_pct(d['flagged_at_onset_minus_3h'])}</td>"
            f"<td>{_pct(d['flagged_at_onset_minus_0h'])}</td>"
            f"<td>{_pct(d['hours_flagged_share_non_septic'])}</td>"
            f"<td>{_rate(d['firings_per_patient_day_non_septic'])}</td>"
            f"<td>{_pct(d['hours_flagged_share_all'])}</td>"
            f"<td>{_rate(d['firings_per_patient_day_all'])}</td>"
            f"<td>{_median(d['first_firing_lead_time'])}</td></tr>"
        )
    return (
        "<table><tr><th>detector</th><th>flagged 6 h before onset</th><th>3 h before</th>"
        "<th>at onset</th><th>hours flagged, other patients</th>"
        "<th>firings per patient-day, other patients</th><th>hours flagged, all</th>"
        "<th>firings per patient-day, all</th><th>median lead of first firing</th></tr>" + "".join(rows) + "</table>"
    )


def _median(lead: dict) -> str:
    return "–" if lead.get("median_h") is None else f"{lead['median_h']:.0f} h"


class _Chart:
    """A scatter/line chart in percent on both axes, drawn as SVG."""

    def __init__(self, width: int = 720, height: int = 440, x_max: float = 40.0, y_max: float = 100.0) -> None:
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = 60, 20, 20, 50
        self.x_max, self.y_max = x_max, y_max
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        return self.left + (self.width - self.left - self.right) * min(value, self.x_max) / self.x_max

    def y(self, value: float) -> float:
        return self.height - self.bottom - (self.height - self.top - self.bottom) * value / self.y_max

    def axes(self, x_label: str, y_label: str) -> None:
        for tick in range(0, int(self.x_max) + 1, max(1, int(self.x_max) // 8)):
            x = self.x(tick)
            self.parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.y(0):.1f}" '
                f'y2="{self.y(self.y_max):.1f}" stroke="#edf2f7"/>'
                f'<text x="{x:.1f}" y="{self.y(0) + 16:.1f}" text-anchor="middle">{tick}</text>'
            )
        for tick in range(0, int(self.y_max) + 1, 10):
            y = self.y(tick)
            self.parts.append(
                f'<line x1="{self.x(0):.1f}" x2="{self.x(self.x_max):.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="#edf2f7"/>'
                f'<text x="{self.x(0) - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
            )
        self.parts.append(
            f'<text x="{(self.x(0) + self.x(self.x_max)) / 2:.1f}" y="{self.height - 12}" '
            f'text-anchor="middle">{html.escape(x_label)}</text>'
            f'<text transform="translate(16,{(self.y(0) + self.y(self.y_max)) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{html.escape(y_label)}</text>'
        )

    def svg(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" role="img">' + "".join(self.parts) + "</svg>"
        )


def _legend(entries: list[tuple[str, str, bool]]) -> str:
    """(label, colour, dashed) as an HTML list under a chart: labels wrap, SVG text does not."""
    items = []
    for label, colour, dashed in entries:
        mark = (
            f'<line x1="0" x2="22" y1="5" y2="5" stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
            if dashed
            else f'<circle cx="11" cy="5" r="5" fill="{colour}"/>'
        )
        items.append(f'<li><svg width="22" height="10">{mark}</svg> {html.escape(label)}</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def _burden_chart(detectors: dict, curves: dict, calibration: dict | None = None) -> str:
    points = [
        (
            100 * (d["hours_flagged_share_non_septic"]["value"] or 0),
            100 * (d["flagged_at_onset_minus_6h"]["value"] or 0),
        )
        for d in detectors.values()
    ]
    x_max = max([20.0] + [x * 1.15 for x, _ in points])
    x_max = math.ceil(x_max / 5) * 5
    chart = _Chart(x_max=x_max)
    chart.axes("% of other patients' hours flagged (alert burden)", "% of septic stays flagged 6 h before onset")
    legend: list[tuple[str, str, bool]] = []
    for name, curve in curves.items():
        ordered = [p for p in curve if p["hours_flagged_share_non_septic"] is not None]
        ordered.sort(key=lambda p: p["hours_flagged_share_non_septic"])
        if len(ordered) < 2:
            continue
        colour = CURVE_COLOURS.get(name, COLOURS.get(name.split(",")[0], "#718096"))
        path = " ".join(
            f"{chart.x(100 * p['hours_flagged_share_non_septic']):.1f},"
            f"{chart.y(100 * (p['flagged_at_onset_minus_6h'] or 0)):.1f}"
            for p in ordered
        )
        chart.parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        for p in ordered:
            x, y = (
                chart.x(100 * p["hours_flagged_share_non_septic"]),
                chart.y(100 * (p["flagged_at_onset_minus_6h"] or 0)),
            )
            chart.parts.append(
                f'<text x="{x + 4:.1f}" y="{y - 4:.1f}" fill="{colour}" '
                f'font-size="10">{html.escape(str(p["value"]))}</text>'
            )
        legend.append(
            (
                f"what if: {name} at other thresholds"
                if "," not in name
                else f"what if: {name.replace(', ', ' with another ')}",
                colour,
                True,
            )
        )
    for (name, d), (x, y) in zip(detectors.items(), points):
        colour = COLOURS.get(name, "#4a5568")
        sens, hours = d["flagged_at_onset_minus_6h"], d["hours_flagged_share_non_septic"]
        if sens["ci95"][0] is not None and not math.isnan(sens["ci95"][0]):
            chart.parts.append(
                f'<line x1="{chart.x(x):.1f}" x2="{chart.x(x):.1f}" '
                f'y1="{chart.y(100 * sens["ci95"][0]):.1f}" '
                f'y2="{chart.y(100 * sens["ci95"][1]):.1f}" stroke="{colour}"/>'
            )
        if hours["ci95"][0] is not None and not math.isnan(hours["ci95"][0]):
            chart.parts.append(
                f'<line x1="{chart.x(100 * hours["ci95"][0]):.1f}" '
                f'x2="{chart.x(100 * hours["ci95"][1]):.1f}" y1="{chart.y(y):.1f}" '
                f'y2="{chart.y(y):.1f}" stroke="{colour}"/>'
            )
        chart.parts.append(
            f'<circle cx="{chart.x(x):.1f}" cy="{chart.y(y):.1f}" r="5" '
            f'fill="{colour}"><title>{html.escape(name)}: {x:.1f} % of hours, '
            f"{y:.1f} % flagged 6 h ahead</title></circle>"
        )
        legend.append((name, colour, False))
    for level, d in (calibration or {}).get("levels", {}).items():
        hours = d["hours_flagged_share_non_septic"]["value"]
        sens = d["flagged_at_onset_minus_6h"]["value"]
        if hours is None or sens is None:
            continue
        x, y = chart.x(100 * hours), chart.y(100 * sens)
        colour = COLOURS.get(d["detector"], "#4a5568")
        chart.parts.append(
            f'<path d="M{x:.1f},{y - 8:.1f} L{x + 8:.1f},{y:.1f} L{x:.1f},{y + 8:.1f} '
            f'L{x - 8:.1f},{y:.1f} Z" fill="#fff" stroke="{colour}" stroke-width="2.5">'
            f"<title>calibrated {html.escape(d['detector'])} (score ≥ {d['open']:.3f}): "
            f"{100 * hours:.1f} % of hours, {100 * sens:.1f} % flagged 6 h ahead</title></path>"
            f'<text x="{x + 10:.1f}" y="{y + 14:.1f}" fill="{colour}" font-weight="bold">'
            f"calibrated {html.escape(level)}</text>"
        )
        legend.append((f"calibrated {d['detector']} (--target-burden)", colour, False))
    return chart.svg() + _legend(legend)


def _calibration(calibration: dict | None) -> str:
    """The thresholds chosen for the target burden, what they achieve here, and the file."""
    if not calibration:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(d['detector'])}</td><td>{html.escape(', '.join(d['targets'])) or '–'}</td>"
        f"<td>{d['open']:.3f}</td><td>{_pct(d['hours_flagged_share_non_septic'])}</td>"
        f"<td>{_rate(d['firings_per_patient_day_non_septic'])}</td>"
        f"<td>{_pct(d['flagged_at_onset_minus_6h'])}</td><td>{_pct(d['flagged_at_onset_minus_3h'])}</td></tr>"
        for d in calibration["levels"].values()
    )
    notes = "".join(f"<li>{html.escape(t)}: {html.escape(n)}</li>" for t, n in calibration["notes"].items())
    return (
        f'<h2>Calibrated to the burden you can staff</h2><p class="note">Targets '
        f"<code>{html.escape(', '.join(calibration['targets']))}</code>: the deterioration "
        "warning's open thresholds that meet them on these stays (shares of other patients' "
        "hours under alert; firings per patient-day), run over every stay again to give the "
        "figures below with their intervals. They are written to "
        f"<code>{html.escape(calibration['config_file'])}</code>, a clinical configuration "
        "for <code>crsmon worker --config</code> (or <code>CRSMON_CLINICAL_CONFIG</code>) and "
        "<code>crsmon replay --config</code>. The diamonds on the chart above mark them. A "
        "burden measured on past stays is an estimate for the next ones: run them in silent "
        "mode first (docs/validation.md).</p><table><tr><th>detector</th><th>target</th>"
        "<th>open threshold</th><th>non-septic hours flagged</th><th>firings / patient-day"
        "</th><th>flagged 6 h before onset</th><th>3 h before</th></tr>"
        + rows
        + "</table>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def _lead_chart(detectors: dict) -> str:
    names = list(detectors)
    buckets = list(next(iter(detectors.values()))["first_firing_lead_time"]["buckets"]) if names else []
    width, height, left, bottom = 720, 300, 60, 60
    group = (width - left - 20) / max(1, len(buckets))
    bar = group * 0.8 / max(1, len(names))
    top_value = max([1] + [d["first_firing_lead_time"]["buckets"][b] for d in detectors.values() for b in buckets])
    parts = []
    for i, bucket in enumerate(buckets):
        x0 = left + i * group
        parts.append(
            f'<text x="{x0 + group / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{html.escape(bucket)}</text>'
        )
        for j, name in enumerate(names):
            value = detectors[name]["first_firing_lead_time"]["buckets"][bucket]
            h = (height - bottom - 20) * value / top_value
            parts.append(
                f'<rect x="{x0 + group * 0.1 + j * bar:.1f}" y="{height - bottom - h:.1f}" '
                f'width="{bar - 1:.1f}" height="{h:.1f}" fill="{COLOURS.get(name, "#718096")}">'
                f"<title>{html.escape(name)}: {value} stays</title></rect>"
            )
    parts.append(
        f'<text x="{left + (width - left) / 2}" y="{height - 20}" text-anchor="middle">'
        "first firing, before the onset (or not)</text>"
        f'<text transform="translate(16,{(height - bottom) / 2}) rotate(-90)" '
        'text-anchor="middle">septic stays</text>'
    )
    legend = "".join(
        f'<rect x="{left + k * 115}" y="{height - 12}" width="10" height="10" '
        f'fill="{COLOURS.get(name, "#718096")}"/><text x="{left + k * 115 + 14}" '
        f'y="{height - 3}">{html.escape(name)}</text>'
        for k, name in enumerate(names)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 10}" '
        f'role="img">{"".join(parts)}{legend}</svg>'
    )


def _cohort_table(cohort: dict) -> str:
    rows = [
        ("stays", f"{cohort['patients']:,}"),
        ("patient-days", f"{cohort['patient_days']:,.0f}"),
        (
            "stays without the outcome",
            f"{cohort['non_septic']:,} ({cohort['non_septic_patient_days']:,.0f} patient-days)",
        ),
        ("stays with the outcome", f"{cohort['septic']:,}"),
        ("… counted for onset figures (onset ≥ 12 h after the first record)", f"{cohort['septic_onset_counted']:,}"),
        ("stays whose outcome the input did not give", f"{cohort['outcome_unknown']:,}"),
    ]
    return "<table>" + "".join(f"<tr><td>{html.escape(a)}</td><td>{b}</td></tr>" for a, b in rows) + "</table>"


def _rules_table(by_rule: dict) -> str:
    if not by_rule:
        return "<p>crsmon raised no clinical alert.</p>"
    return (
        "<table><tr><th>rule and severity</th><th>firings</th><th>per patient-day</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v['firings']:,}</td><td>{v['per_patient_day']:.3f}</td></tr>"
            for k, v in by_rule.items()
        )
        + "</table>"
    )


def _case_link(patient_id: str, files: dict) -> str:
    """A stay to review: its case report when drawn, else its replay input."""
    entry = files.get(patient_id, {})
    target = entry.get("report") or entry.get("input")
    name = html.escape(patient_id)
    return f'<a href="{html.escape(target)}">{name}</a>' if target else name


def _cases(cases: dict, files: dict) -> str:
    parts = []
    for name, lists in cases.items():
        missed = ", ".join(_case_link(p, files) for p in lists["missed_6h_before_onset"]) or "none"
        busy = (
            ", ".join(
                f"{_case_link(c['patient_id'], files)} ({100 * c['hours_flagged_share']:.0f} %)"
                for c in lists["non_septic_most_flagged"]
            )
            or "none"
        )
        parts.append(
            f"<p><b>{html.escape(name)}</b> — septic stays not flagged 6 h before onset "
            f"(first 20): {missed}</p><p>Other stays flagged longest (share of their "
            f"hours): {busy}</p>"
        )
    drawn = any("report" in entry for entry in files.values())
    how = (
        "Each links its case report (PNG; the PDF beside it)."
        if drawn
        else "Each links its events as JSON Lines under <code>cases/</code>: <code>crsmon report "
        "PATIENT_ID --from cases/PATIENT_ID.jsonl</code> draws its course on one page, "
        "<code>crsmon replay</code> prints every alert with its reasons; "
        "<code>crsmon validate … --case-reports</code> draws them all."
    )
    return "".join(parts) + f'<p class="note">{how}</p>'


def _problems(problems: dict) -> str:
    if not problems:
        return "<p>Nothing: every row and column was used.</p>"
    items = []
    for kind, entry in problems.items():
        examples = "".join(f"<li>{html.escape(e)}</li>" for e in entry["examples"])
        items.append(f"<li><b>{entry['count']:,} × {html.escape(kind)}</b><ul>{examples}</ul></li>")
    return "<ul>" + "".join(items) + "</ul>"


def render(figures: dict) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run = figures["run"]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>crsmon validation — {html.escape(run["input"])}</title><style>{_STYLE}</style></head><body>
<h1>crsmon silent-mode validation</h1>
<p class="note">Input <code>{html.escape(run["input"])}</code>, clinical configuration: {run["config"]};
made {when} in {run.get("seconds", 0):.1f} s; lab results {"read" if run.get("labs", True) else "not read (--no-labs)"}.
Nothing was paged: this is what crsmon would have done.</p>
<h2>Patients</h2>{_cohort_table(figures["cohort"])}
<h2>What each detector would have done</h2>
<p class="note">A patient is <i>flagged</i> in an hour when an alert of at least that severity is open
at any moment of it (crsmon: a clinical alert; signal loss does not count), or when a bedside score
computed at that hour reaches its threshold. A <i>firing</i> is a passage from not flagged to flagged.
Each clinical rule on is also a detector of its own (<i>crsmon RULE rule</i>: an episode of it open, at any severity).
The bedside scores carry each value forward 4 hours, as crsmon does. Onset figures count the stays
whose onset is at least 12 h after their first record. In brackets: bootstrap 95 % intervals over
patients (1,000 resamples).</p>
{_detector_table(figures["detectors"])}
<h2>Alert burden against early detection</h2>
<p class="note">Up and to the left is better. Whiskers are the 95 % intervals; dashed lines are the
what-if sweep: each bedside score at other thresholds, and crsmon with one setting changed (the
label is the setting's value).</p>
{_burden_chart(figures["detectors"], figures["what_if"], figures.get("calibration"))}
{_calibration(figures.get("calibration"))}
<h2>When the first alert came</h2>
<p class="note">For each septic stay counted for onset figures: how long before the onset each detector
first fired.</p>
{_lead_chart(figures["detectors"])}
<h2>crsmon's firings by rule and severity</h2>{_rules_table(figures["crsmon_firings_by_rule"])}
<h2>Stays to review</h2>{_cases(figures["cases"], figures.get("case_files", {}))}
<h2>What was wrong with the input</h2>{_problems(figures["problems"])}
</body></html>
"""


def write_report(figures: dict, path: Path) -> None:
    path.write_text(render(figures), encoding="utf-8")
