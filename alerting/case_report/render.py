"""A one-page case report of one patient's course, as PNG and PDF, for case review and for
clinicians checking a rule on retrospective data.

The page is the patient view of the dashboard on paper: the vital signs on one time axis,
NEWS2 and the provisional CRS grade as bands, every alert episode as a span coloured by its
IEC 60601-1-8 priority, clinical events as lines through every panel, and the episodes with
their reasons written out below (a printed page has no hover). A4 landscape, no text smaller
than 7 pt, units on every axis, times in UTC and in days since the therapy.

`render_case_report` returns what it drew, read back from the figure's own artists: the tests
(and a curious caller) check the drawing, not the intentions and not the pixels.
"""

from __future__ import annotations

import math
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

import matplotlib
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from alerting.case_report.course import CaseCourse, Output, build_course
from alerting.case_report.readback import DrawnReport, read_back
from alerting.case_report.words import describe_event, describe_risk
from monitor.catalogue import CATALOGUE
from monitor.rules import TECHNICAL_RULES
from monitor.wire import PatientStatus

A4_LANDSCAPE_IN = (11.69, 8.27)
PNG_DPI = 150
BASE_PT = 8.5
SMALL_PT = 7.5

# IEC 60601-1-8 priorities, as on the dashboard: high red, medium yellow, low cyan.
PRIORITY = {"critical": "high", "high": "high", "medium": "medium", "low": "low"}
PRIORITY_COLOUR = {"high": "#ff2d2d", "medium": "#ffd400", "low": "#00c8f0"}
NEWS2_COLOUR = {"low": "#2e9d4a", "low_medium": "#ffd400", "medium": "#ff9100", "high": "#ff2d2d"}
CRS_COLOUR = {0: "#e6e9ed", 1: "#ffd400", 2: "#ff9100", 3: "#ff2d2d", 4: "#b00000"}

# Panel: key, its title (None: the sign's short label), the signs drawn in it with colour and line
# style, threshold lines (clinical reference). Words and units are the catalogue's.
_PANEL_LAYOUT: tuple[tuple[str, str | None, tuple[tuple[str, str, str], ...], tuple[tuple[float, str], ...]], ...] = (
    ("temperature", None, (("temperature", "#d46b00", "-"),), ((38.0, "fever 38.0"),)),
    ("heart_rate", None, (("heart_rate", "#1a7f37", "-"),), ()),
    (
        "bp",
        "BP",
        (
            ("systolic_bp", "#111111", "-"),
            ("diastolic_bp", "#666666", "--"),
            ("mean_arterial_pressure", "#8250df", "-"),
        ),
        ((90.0, "sys 90"), (65.0, "MAP 65")),
    ),
    ("spo2", None, (("spo2", "#0969da", "-"),), ((93.0, "93 %"),)),
    ("respiratory_rate", None, (("respiratory_rate", "#bf3989", "-"),), ()),
)


def _axis_label(title: str | None, first_sign: str) -> str:
    """`Temp\n(°C)`: the panel's title over the unit of its signs, as the catalogue gives them."""
    entry = CATALOGUE[first_sign]
    return f"{title or entry.short_label}\n({entry.unit})"


# Panel: key, label with unit, the signs drawn in it (name, legend label, colour, style), thresholds.
PANELS: tuple[tuple[str, str, tuple[tuple[str, str, str, str], ...], tuple[tuple[float, str], ...]], ...] = tuple(
    (
        key,
        _axis_label(title, signs[0][0]),
        tuple((sign, CATALOGUE[sign].short_label, colour, style) for sign, colour, style in signs),
        thresholds,
    )
    for key, title, signs, thresholds in _PANEL_LAYOUT
)
NUMERIC_GAP = timedelta(minutes=5)


def render_case_report(
    events: Iterable[Any],
    outputs: Iterable[Output],
    path_png: str | Path,
    path_pdf: str | Path,
    *,
    patient_id: str | None = None,
) -> DrawnReport:
    """Draw one patient's course on one page and write it as PNG and PDF.

    `events`: the engine's inputs (VitalSigns and ClinicalEvent models); `outputs`: what the
    engine made of them (PatientStatus, Alert) and Acknowledgements. Other patients' items are
    left out; `patient_id` may be None when the input holds one patient only.
    """
    course = build_course(events, outputs, patient_id)
    figure = draw(course)
    path_png, path_pdf = Path(path_png), Path(path_pdf)
    FigureCanvasAgg(figure)
    figure.savefig(path_png, dpi=PNG_DPI, facecolor="white")
    with matplotlib.rc_context({"pdf.fonttype": 42}):  # TrueType in the PDF: text stays text, searchable
        figure.savefig(path_pdf, facecolor="white")
    return read_back(figure, course, path_png, path_pdf)


def draw(course: CaseCourse) -> Figure:
    """The page as a matplotlib Figure (no pyplot: no global state, safe in any process)."""
    figure = Figure(figsize=A4_LANDSCAPE_IN, layout=None)
    lanes = sorted({episode.rule for episode in course.episodes}) or ["alerts"]
    # The ICANS and labs lanes only for a patient who has them: other pages keep their layout.
    icans_runs = _icans_runs(course)
    with_icans = bool(icans_runs or course.neuro)
    with_labs = bool(course.labs)
    ratios = [
        0.7,
        1.1,
        1.0,
        1.2,
        0.9,
        0.9,
        0.22,
        0.22,
        *([0.3] if with_icans else []),
        *([0.3] if with_labs else []),
        0.24 * len(lanes),
    ]
    grid = figure.add_gridspec(
        len(ratios), 1, height_ratios=ratios, hspace=0.12, left=0.085, right=0.975, top=0.905, bottom=0.30
    )
    axes = [figure.add_subplot(grid[0])]
    for row in range(1, len(ratios)):
        axes.append(figure.add_subplot(grid[row], sharex=axes[0]))
    marks_ax, panel_axes, news2_ax, crs_ax, alerts_ax = axes[0], axes[1:6], axes[6], axes[7], axes[-1]
    start, end = course.start, max(course.end, course.start + timedelta(minutes=10))
    margin = (end - start) * 0.01
    x0, x1 = start - margin, end + margin

    _header(figure, course)
    for ax, (key, label, series, thresholds) in zip(panel_axes, PANELS):
        _panel(ax, course, key, label, series, thresholds)
    _band(news2_ax, "NEWS2", _news2_runs(course), "news2")
    _band(crs_ax, "CRS grade", _crs_runs(course), "crs")
    lane_axes = iter(axes[8:-1])
    if with_icans:
        icans_ax = next(lane_axes)
        _band(icans_ax, "ICANS\ngrade, ICE", icans_runs, "icans", empty="no ICANS grade in the statuses")
        _ice_points(icans_ax, course)
    if with_labs:
        _lab_lane(next(lane_axes), course, x0, x1)
    _episodes(alerts_ax, course, lanes, end)
    _marks(marks_ax, axes[1:], course, x0, x1)

    for ax in axes:
        ax.set_xlim(x0, x1)  # type: ignore[arg-type]  # datetimes: matplotlib converts them, its types say float
        ax.tick_params(labelsize=BASE_PT, length=3)
        if ax is not alerts_ax:
            ax.tick_params(labelbottom=False)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    locator = mdates.AutoDateLocator(minticks=6, maxticks=14, tz=timezone.utc)
    alerts_ax.xaxis.set_major_locator(locator)
    alerts_ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=timezone.utc))
    alerts_ax.set_xlabel(
        "time (UTC)" + (", and days since the therapy (above)" if course.therapy else ""), fontsize=BASE_PT
    )
    _episode_table(figure, course)
    return figure


def _header(figure: Figure, course: CaseCourse) -> None:
    where = " · ".join(part for part in (course.ward, f"bed {course.bed}" if course.bed else None) if part)
    figure.text(
        0.085,
        0.975,
        f"Case report — patient {course.patient_id}" + (f" — {where}" if where else ""),
        fontsize=13,
        fontweight="bold",
        gid="title",
    )
    span = f"{course.start:%d %b %Y %H:%M} – {course.end:%d %b %Y %H:%M} UTC"
    therapy = (
        (
            f"; {describe_event(course.therapy).replace(' (day 0)', '')} on "
            f"{course.therapy.ts:%d %b %Y %H:%M} UTC (day 0)"
        )
        if course.therapy
        else "; no therapy in the input"
    )
    figure.text(0.085, 0.953, span + therapy, fontsize=BASE_PT + 0.5, gid="subtitle")
    # m-EASIX at therapy start, under the therapy it belongs to: the newest status's (the score
    # changes only with a new therapy).
    risk = next((status.risk for status in reversed(course.statuses) if status.risk is not None), None)
    if risk is not None:
        figure.text(0.085, 0.933, describe_risk(risk), fontsize=BASE_PT + 0.5, gid="risk")
    figure.text(
        0.975,
        0.975,
        f"crsmon · drawn {datetime.now(timezone.utc):%d %b %Y %H:%M} UTC",
        fontsize=SMALL_PT,
        ha="right",
        color="#555555",
        gid="generated",
    )


def _with_gaps(times: list[datetime], values: list[float | None], gap: timedelta) -> tuple[list, list]:
    """Break the line at a missing value or where readings are further apart than `gap`."""
    xs, ys = [], []
    previous = None
    for at, value in zip(times, values):
        if previous is not None and at - previous > gap:
            xs.append(previous + (at - previous) / 2)
            ys.append(math.nan)
        xs.append(at)
        ys.append(math.nan if value is None else value)
        previous = at
    return xs, ys


def _typical_gap(times: list[datetime]) -> timedelta:
    """Readings further apart than three times the usual interval (at least 5 min) are a gap:
    minutes for monitor numerics, hours for cuff pressures and nurse rounds."""
    if len(times) < 3:
        return timedelta(hours=6)
    steps = sorted(later - earlier for earlier, later in zip(times, times[1:]))
    return max(NUMERIC_GAP, steps[len(steps) // 2] * 3)


def _panel(ax, course: CaseCourse, key: str, label: str, series, thresholds) -> None:
    ax.set_gid(f"panel:{key}")
    ax.set_ylabel(label, fontsize=BASE_PT, rotation=0, ha="right", va="center", labelpad=6)
    ax.grid(True, axis="both", color="#e3e6ea", linewidth=0.6)
    drawn = False
    for sign, name, colour, style in series:
        times, values = course.vitals[sign]
        if not times:
            continue
        xs, ys = _with_gaps(times, values, _typical_gap(times))
        sparse = _typical_gap(times) > NUMERIC_GAP
        ax.plot(
            xs,
            ys,
            color=colour,
            linestyle=style,
            linewidth=1.1,
            marker="." if sparse else None,
            markersize=3,
            label=name,
            gid=f"sign:{sign}",
        )
        drawn = True
    if drawn:
        for level, text in thresholds:
            ax.axhline(level, color="#b08800", linestyle=(0, (4, 3)), linewidth=0.8, gid=f"threshold:{key}")
            ax.annotate(
                text,
                xy=(1, level),
                xycoords=("axes fraction", "data"),
                xytext=(-2, 2),
                textcoords="offset points",
                ha="right",
                fontsize=SMALL_PT,
                color="#8a6d00",
            )
        if len(series) > 1:
            ax.legend(loc="upper left", fontsize=SMALL_PT, ncols=len(series), frameon=False, borderaxespad=0.1)
    else:
        ax.text(
            0.5,
            0.5,
            "no readings",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=BASE_PT,
            color="#777777",
            style="italic",
        )
        ax.set_yticks([])


def _news2_runs(course: CaseCourse) -> list[tuple[datetime, datetime, str, str, Any]]:
    return _runs(course, lambda status: status.news2.band, lambda status: str(status.news2.score), NEWS2_COLOUR)


def _crs_runs(course: CaseCourse) -> list[tuple[datetime, datetime, str, str, Any]]:
    return _runs(
        course,
        lambda status: status.crs.grade,
        lambda status: str(status.crs.grade),
        {grade: colour for grade, colour in CRS_COLOUR.items()},
    )


def _icans_runs(course: CaseCourse) -> list[tuple[datetime, datetime, str, str, Any]]:
    """The ICANS grade of the statuses that carry one (from the first neuro assessment on)."""
    assessed = [status for status in course.statuses if status.icans is not None]
    return _runs(
        course, lambda status: status.icans.grade, lambda status: str(status.icans.grade), CRS_COLOUR, assessed
    )


def _runs(
    course: CaseCourse, key, label, colours, statuses: list[PatientStatus] | None = None
) -> list[tuple[datetime, datetime, str, str, Any]]:
    """Stretches of equal band (or grade), each to the next status; the label is its worst score."""
    runs: list[list] = []
    statuses = course.statuses if statuses is None else statuses
    for index, status in enumerate(statuses):
        until = statuses[index + 1].ts if index + 1 < len(statuses) else course.end
        if until - status.ts > timedelta(minutes=15):
            until = status.ts + timedelta(minutes=15)  # no status for long: the band says nothing
        value = key(status)
        if runs and runs[-1][2] == value and runs[-1][1] >= status.ts:
            runs[-1][1] = until
            runs[-1][3] = max(runs[-1][3], label(status), key=lambda text: float(text))
        else:
            runs.append([status.ts, until, value, label(status)])
    return [(start, end, colours.get(value, "#cccccc"), text, value) for start, end, value, text in runs]


def _ice_points(ax, course: CaseCourse) -> None:
    """Each bedside assessment's ICE score (10 is normal) over the ICANS band, at its time."""
    for assessment in course.neuro:
        score = "–" if assessment.ice is None else str(assessment.ice)
        ax.text(
            assessment.ts,
            0.5,
            f"ICE {score}",
            fontsize=SMALL_PT,
            ha="center",
            va="center",
            gid=f"ice:{score}",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff", "edgecolor": "#8250df", "linewidth": 0.6},
        )


def _lab_lane(ax, course: CaseCourse, x0: datetime, x1: datetime) -> None:
    """A marker for each time results came (tests resulted together are one sample), with the
    results written beside it where there is room: paper has no tap to show them."""
    ax.set_gid("labs")
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("labs", fontsize=BASE_PT, rotation=0, ha="right", va="center", labelpad=6)
    by_time: dict[datetime, list[Any]] = {}
    for lab in course.labs:
        by_time.setdefault(lab.ts, []).append(lab)
    span = (x1 - x0).total_seconds()
    times = sorted(by_time)
    label_end = x0
    for index, at in enumerate(times):
        results = by_time[at]
        ax.plot(
            [at],
            [0.3],
            marker="o",
            markersize=4.5,
            color="#0969da",
            linestyle="none",
            gid="lab|" + ",".join(lab.test for lab in results),
        )
        text = ", ".join(
            f"{CATALOGUE[lab.test].short_label} {lab.value:.{CATALOGUE[lab.test].digits}f}" for lab in results
        )
        width = timedelta(seconds=span * (len(text) + 2) * 0.0072)  # ≈ its width at 7.5 pt, as the marks'
        following = times[index + 1] if index + 1 < len(times) else x1
        if at >= label_end and at + width <= following:
            ax.text(at, 0.72, text, fontsize=SMALL_PT, ha="left", va="center", gid="lab-text")
            label_end = at + width


def _band(ax, name: str, runs, gid: str, empty: str = "no status") -> None:
    ax.set_gid(f"band:{gid}")
    ax.set_yticks([])
    ax.set_ylabel(name, fontsize=BASE_PT, rotation=0, ha="right", va="center", labelpad=6)
    ax.set_ylim(0, 1)
    for start, end, colour, text, value in runs:
        width = mdates.date2num(end) - mdates.date2num(start)
        ax.add_patch(
            Rectangle((mdates.date2num(start), 0), width, 1, facecolor=colour, edgecolor="none", gid=f"{gid}:{value}")
        )
    if not runs:
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center", fontsize=SMALL_PT, color="#777777")
    ax._crsmon_runs = runs  # noqa: SLF001 (our own attribute on the axes: labelled once the x range is final, see _label_bands)


def _episodes(ax, course: CaseCourse, lanes: list[str], end: datetime) -> None:
    ax.set_gid("episodes")
    ax.set_ylim(len(lanes), 0)
    ax.set_yticks(
        [index + 0.5 for index in range(len(lanes))], [lane.replace("_", " ") for lane in lanes], fontsize=BASE_PT
    )
    ax.set_ylabel("alerts", fontsize=BASE_PT, rotation=0, ha="right", va="center", labelpad=52)
    for episode in course.episodes:
        row = lanes.index(episode.rule)
        for segment in episode.segments(end):
            left = mdates.date2num(segment.start)
            width = max(mdates.date2num(segment.end) - left, 1e-4)
            ax.add_patch(
                Rectangle(
                    (left, row + 0.12),
                    width,
                    0.76,
                    facecolor=PRIORITY_COLOUR[PRIORITY[segment.severity]],
                    edgecolor="#000000" if segment.severity == "critical" else "#333333",
                    linewidth=1.4 if segment.severity == "critical" else 0.4,
                    hatch="///" if segment.severity == "critical" else None,
                    gid=f"span|{episode.rule}|{segment.severity}",
                )
            )
        for ack in episode.acks:
            ax.plot([ack.ts], [row + 0.12], marker="v", color="#000000", markersize=5, gid=f"ack|{ack.by}")
    if not course.episodes:
        ax.text(
            0.5,
            0.5,
            "no alert episodes",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=BASE_PT,
            color="#777777",
        )


def _marks(marks_ax, through, course: CaseCourse, x0: datetime, x1: datetime) -> None:
    marks_ax.set_gid("marks")
    marks_ax.set_ylim(0, 1)
    marks_ax.set_yticks([])
    marks_ax.spines["left"].set_visible(False)
    marks_ax.spines["bottom"].set_visible(False)
    marks_ax.set_ylabel("events", fontsize=BASE_PT, rotation=0, ha="right", va="center", labelpad=6)
    rows = 3  # rows of words; a fourth, lowest, holds the numbers of events without room for words
    row_ends = [x0] * rows
    numbers = None  # the last numbered label and where it ends
    span = (x1 - x0).total_seconds()
    for number, event in enumerate(course.events, start=1):
        if not x0 <= event.ts <= x1:
            continue
        strong = event.type in ("therapy", "discharge")
        for ax in through:
            ax.axvline(
                event.ts,
                color="#222222" if strong else "#8c959f",
                linestyle="-" if strong else (0, (2, 2)),
                linewidth=1.0 if strong else 0.7,
                gid=f"eventline:{event.type}",
            )
        text = describe_event(event)
        width = timedelta(seconds=span * (len(text) + 2) * 0.0072)  # ≈ the label's width at 7.5 pt
        row = next((index for index, row_end in enumerate(row_ends) if row_end <= event.ts), None)
        if row is None:  # no room for the words: its number on the bottom row, the words listed below
            text = str(number)
            width = timedelta(seconds=span * 3 * 0.0072)
            row = rows
            if numbers is not None and numbers[1] > event.ts:  # numbers would touch: "6, 7"
                numbers[0].set_text(f"{numbers[0].get_text()}, {number}")
                numbers[1] += width
                continue
        else:
            row_ends[row] = event.ts + width
        at_right_edge = event.ts + width > x1  # the label would run off the page: it ends at its line
        label = marks_ax.annotate(
            text,
            xy=(event.ts, 0),
            xytext=(event.ts, 0.86 - row * 0.25),
            fontsize=SMALL_PT,
            ha="right" if at_right_edge else "left",
            va="center",
            gid=f"mark:{event.type}",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff", "edgecolor": "#8c959f", "linewidth": 0.5},
            arrowprops={"arrowstyle": "-", "color": "#8c959f", "linewidth": 0.5},
        )
        if row == rows:
            numbers = [label, event.ts + width]
    if course.therapy:
        day0 = course.therapy.ts
        first = max(0, math.ceil((x0 - day0) / timedelta(days=1)))
        step = 1 if (x1 - x0) <= timedelta(days=8) else 2
        for day in range(first, int((x1 - day0) / timedelta(days=1)) + 1, step):
            at = day0 + timedelta(days=day)
            marks_ax.text(
                at, 1.02, f"day {day}", fontsize=BASE_PT, fontweight="bold", ha="center", va="bottom", gid="day"
            )
            for ax in through:
                ax.axvline(at, color="#d0d7de", linewidth=0.6, zorder=0)


def _label_bands(figure: Figure) -> None:
    for ax in figure.axes:
        runs = getattr(ax, "_crsmon_runs", None)
        if not runs:
            continue
        x0, x1 = ax.get_xlim()
        for start, end, colour, text, value in runs:
            left, right = mdates.date2num(start), mdates.date2num(end)
            if (right - left) / (x1 - x0) > 0.025:
                ax.text(
                    (left + right) / 2,
                    0.5,
                    text,
                    ha="center",
                    va="center",
                    fontsize=SMALL_PT,
                    fontweight="bold",
                    color="#ffffff" if colour in ("#ff2d2d", "#b00000", "#2e9d4a") else "#000000",
                )


def _episode_table(figure: Figure, course: CaseCourse) -> None:
    """The episodes written out (when each fired, changed, was acknowledged and resolved, and why),
    clinical ones before technical ones; and the clinical events, numbered as on the chart."""
    _label_bands(figure)
    ordered = sorted(course.episodes, key=lambda episode: (episode.rule in TECHNICAL_RULES, episode.opened_at))
    lines: list[str] = []
    for episode in ordered:
        steps = []
        for change in episode.changes:
            verb = {"firing": "fired", "updated": "→", "resolved": "resolved"}[change.status]
            severity = "" if change.status == "resolved" else f" {change.severity.upper()}"
            steps.append(f"{verb}{severity} {change.observed_at:%d %b %H:%M}")
        steps += [f"ack {ack.by} {ack.ts:%H:%M}" for ack in episode.acks]
        reasons = "; ".join(dict.fromkeys(reason for change in episode.changes for reason in change.reasons))
        wrapped = textwrap.wrap(
            f"{episode.rule}: {', '.join(steps)} — {reasons}",
            width=128,
            subsequent_indent="    ",
            max_lines=3,
            placeholder=" …",
        )
        lines.extend(wrapped)
    room = 15
    shown = lines[:room]
    if len(lines) > room:
        shown[-1] = "… more episodes than the page holds (crsmon replay lists every one)"
    figure.text(
        0.085,
        0.235,
        "Alert episodes" if lines else "Alert episodes: none",
        fontsize=BASE_PT + 0.5,
        fontweight="bold",
        gid="episodes-title",
    )
    for index, line in enumerate(shown):
        figure.text(0.085, 0.215 - index * 0.0138, line, fontsize=SMALL_PT, gid="episode-line")
    figure.text(
        0.735,
        0.235,
        "Clinical events" if course.events else "Clinical events: none",
        fontsize=BASE_PT + 0.5,
        fontweight="bold",
        gid="events-title",
    )
    listed = course.events[:room]
    for index, event in enumerate(listed):
        text = f"{index + 1}. {event.ts:%d %b %H:%M} {describe_event(event)}"
        if index == room - 1 and len(course.events) > room:
            text = f"… and {len(course.events) - room + 1} more"
        figure.text(0.735, 0.215 - index * 0.0138, text, fontsize=SMALL_PT, gid="event-line")
