"""What a drawn case report shows, read back from the figure's own artists (by their gids): what
the tests check, and what a caller can log, instead of the drawing code's intentions or pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from alerting.case_report.course import CaseCourse


@dataclass
class DrawnLine:
    times: list[datetime]
    values: list[float]  # NaN where the line breaks


@dataclass
class DrawnReport:
    """What the page shows, read back from the figure."""

    png: Path
    pdf: Path
    patient_id: str
    start: datetime
    end: datetime
    lines: dict[str, DrawnLine] = field(default_factory=dict)
    marks: list[tuple[datetime, str]] = field(default_factory=list)
    spans: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)  # rule, severity, from, to
    acks: list[tuple[datetime, str]] = field(default_factory=list)
    labs: list[tuple[datetime, str]] = field(default_factory=list)  # a lab marker: when, the tests (a,b)
    ice: list[tuple[datetime, str]] = field(default_factory=list)  # an ICE point: when, the score
    bands: dict[str, list[tuple[datetime, datetime, str]]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    axis_labels: list[str] = field(default_factory=list)
    smallest_font_pt: float = 0.0


def read_back(figure: Figure, course: CaseCourse, png: Path, pdf: Path) -> DrawnReport:
    """What the figure holds, from its artists."""
    report = DrawnReport(png=png, pdf=pdf, patient_id=course.patient_id, start=course.start, end=course.end)
    sizes: list[Any] = []  # points; matplotlib types a font size as float | str
    for text in figure.texts:
        report.texts.append(text.get_text())
        sizes.append(text.get_fontsize())
    for ax in figure.axes:
        for line in ax.get_lines():
            gid = line.get_gid() or ""
            # matplotlib types the data as any ArrayLike; a Line2D's are the sequences drawn
            xdata: Any = line.get_xdata()
            ydata: Any = line.get_ydata()
            if gid.startswith("sign:"):
                xs = [mdates.num2date(value) if isinstance(value, float) else value for value in xdata]
                report.lines[gid[5:]] = DrawnLine(list(xs), [float(value) for value in ydata])
            elif gid.startswith("ack|"):
                report.acks.append((_as_datetime(xdata[0]), gid[4:]))
            elif gid.startswith("lab|"):
                report.labs.append((_as_datetime(xdata[0]), gid[4:]))
        for patch in ax.patches:
            gid = patch.get_gid() or ""
            rectangle = cast(Rectangle, patch)  # the renderer draws no other patch
            left, width = rectangle.get_x(), rectangle.get_width()
            if gid.startswith("span|"):
                _, rule, severity = gid.split("|")
                report.spans.append((rule, severity, mdates.num2date(left), mdates.num2date(left + width)))
            elif ":" in gid:
                band, value = gid.split(":", 1)
                report.bands.setdefault(band, []).append((mdates.num2date(left), mdates.num2date(left + width), value))
        for text in ax.texts:
            report.texts.append(text.get_text())
            sizes.append(text.get_fontsize())
            text_gid = text.get_gid() or ""
            if text_gid.startswith("ice:"):
                report.ice.append((_as_datetime(text.get_position()[0]), text_gid[4:]))
            if text_gid.startswith("mark:"):
                # marks are drawn with ax.annotate, whose Text is an Annotation
                report.marks.append((_as_datetime(cast(Annotation, text).xy[0]), text.get_text()))
        report.axis_labels.append(ax.get_ylabel())
        report.axis_labels.append(ax.get_xlabel())
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            if label.get_visible() and label.get_text():
                sizes.append(label.get_fontsize())
    report.smallest_font_pt = min(sizes) if sizes else 0.0
    return report


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return mdates.num2date(value)
