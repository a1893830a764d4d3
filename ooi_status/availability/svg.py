"""The availability timeline drawn as one self-contained SVG image (``format=svg``).

Pure string building, no drawing library: a browser, an e-mail client or an <img> tag
shows it directly, without JavaScript. Layout, top to bottom: a title (refdes and
window), the Deployments row, one row per stream (its measure written on the left),
a time axis labelled with dates, and a legend of the categories.

Every span is exactly one ``<rect class="span">`` with a ``<title>`` tooltip (measure,
label, start and end); the only other rects are the white background and one
``<rect class="legend">`` per legend entry, so that the image can be checked shape by
shape against the JSON of the same request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from ooi_status.availability.engine import Span, Timeline
from ooi_status.availability.report import (
    DEPLOYMENTS_MEASURE,
    FALLBACK_COLOR,
    Style,
    timestamp_text,
    timestamp_texts,
)
from ooi_status.times import datetime_to_ntp, ntp_to_datetime

WIDTH = 1000
MARGIN = 12
TITLE_HEIGHT = 40
ROW_HEIGHT = 18
ROW_GAP = 6
AXIS_HEIGHT = 28
LEGEND_ENTRY = 150
LEGEND_HEIGHT = 22
CHAR_WIDTH = 6.6  # of the 11 px sans-serif font, for the width of the label column
FONT = 'font-family="Helvetica,Arial,sans-serif" font-size="11"'
TICK_SPACING = 110  # fewest pixels between two labelled ticks

_FIXED_STEPS = (60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400)
_MONTH_STEPS = (1, 3, 6)
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100)


class _Frame:
    """Where things go: the label column, the plot area and the time scale."""

    def __init__(self, timeline: Timeline) -> None:
        names = [DEPLOYMENTS_MEASURE] + [row.measure for row in timeline.streams]
        longest = max(len(name) for name in names)
        self.label_width = min(380, max(100, int(CHAR_WIDTH * longest) + 14))
        self.x0 = MARGIN + self.label_width
        self.plot_width = WIDTH - self.x0 - MARGIN
        self.rows = len(timeline.streams) + (1 if timeline.deployments else 0)
        self.rows_bottom = TITLE_HEIGHT + self.rows * (ROW_HEIGHT + ROW_GAP)
        window = timeline.window
        self.start = window.start if window else 0.0
        self.scale = self.plot_width / (window.stop - window.start) if window else 0.0

    def x(self, t: float) -> float:
        return self.x0 + (t - self.start) * self.scale

    def row_y(self, index: int) -> int:
        return TITLE_HEIGHT + index * (ROW_HEIGHT + ROW_GAP)


def render_svg(timeline: Timeline, style: Style) -> str:
    """The whole image as text (UTF-8 XML)."""
    frame = _Frame(timeline)
    legend_top = frame.rows_bottom + AXIS_HEIGHT
    height = legend_top + LEGEND_HEIGHT * _legend_lines(style) + MARGIN
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" {FONT}>\n',
        f"<title>Data availability of {escape(timeline.refdes)}</title>\n",
        f'<rect class="background" x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>\n',
    ]
    parts.extend(_title(timeline))
    parts.extend(_axis(frame, timeline))
    index = 0
    if timeline.deployments:
        parts.extend(_deployment_row(frame, timeline, style))
        index = 1
    for row in timeline.streams:
        parts.extend(_stream_row(frame, index, row.measure, row.spans, style))
        index += 1
    parts.extend(_legend(style, legend_top))
    parts.append("</svg>\n")
    return "".join(parts)


def _title(timeline: Timeline) -> list[str]:
    if timeline.window is None:
        subtitle = "nothing of this instrument lies in the requested window"
    else:
        window = timeline.window
        subtitle = f"{timestamp_text(window.start)} – {timestamp_text(window.stop)} UTC"
    return [
        f'<text x="{MARGIN}" y="16" font-size="14" font-weight="bold">{escape(timeline.refdes)}</text>\n',
        f'<text x="{MARGIN}" y="31" fill="#555555">{escape(subtitle)}</text>\n',
    ]


def _row_frame(frame: _Frame, y: int, measure: str) -> str:
    """The measure on the left and a light outline of the row (white spans stay visible)."""
    return (
        f'<text x="{frame.x0 - 6}" y="{y + 13}" text-anchor="end">{escape(measure)}</text>\n'
        f'<path d="M{frame.x0} {y}h{frame.plot_width}v{ROW_HEIGHT}h-{frame.plot_width}z" '
        f'fill="none" stroke="#bbbbbb" stroke-width="0.5"/>\n'
    )


def _span(frame: _Frame, y: int, start: float, stop: float, color: str, tip: str) -> str:
    x = frame.x(start)
    width = max((stop - start) * frame.scale, 0.5)  # a short gap stays a visible hairline
    return (
        f'<rect class="span" x="{x:.2f}" y="{y}" width="{width:.2f}" height="{ROW_HEIGHT}" '
        f'fill="{color}"><title>{tip}</title></rect>\n'
    )


def _deployment_row(frame: _Frame, timeline: Timeline, style: Style) -> list[str]:
    y = frame.row_y(0)
    parts = [_row_frame(frame, y, DEPLOYMENTS_MEASURE), '<g shape-rendering="crispEdges">\n']
    colors = style.deployment_colors
    labels = []
    for position, (start, stop, number) in enumerate(timeline.deployments):
        label = escape(style.deployment_label.format(number=number))
        tip = f"{label}: {timestamp_text(start)} – {timestamp_text(stop)} UTC"
        parts.append(_span(frame, y, start, stop, escape(colors[position % len(colors)]), tip))
        if (stop - start) * frame.scale > 24:
            middle = frame.x((start + stop) / 2)
            labels.append(
                f'<text x="{middle:.1f}" y="{y + 13}" text-anchor="middle" fill="#ffffff">{number}</text>\n'
            )
    parts.append("</g>\n")
    return parts + labels


def _stream_row(frame: _Frame, index: int, measure: str, spans: Sequence[Span], style: Style) -> list[str]:
    y = frame.row_y(index)
    name = escape(measure)
    looks = {
        key: (escape(style.colors.get(label, FALLBACK_COLOR)), escape(label))
        for key, label in style.labels.items()
    }
    parts = [_row_frame(frame, y, measure), '<g shape-rendering="crispEdges">\n']
    starts = timestamp_texts([span.start for span in spans])
    stops = timestamp_texts([span.stop for span in spans])
    for span, start, stop in zip(spans, starts, stops, strict=True):
        color, label = looks.get(span.category) or (FALLBACK_COLOR, escape(span.category))
        tip = f"{name}: {label}, {start} – {stop} UTC"
        parts.append(_span(frame, y, span.start, span.stop, color, tip))
    parts.append("</g>\n")
    return parts


def _axis(frame: _Frame, timeline: Timeline) -> list[str]:
    """Vertical grid lines through the rows and a date under each."""
    if timeline.window is None:
        return []
    window = timeline.window
    ticks, fmt = axis_ticks(window.start, window.stop, max(1, frame.plot_width // TICK_SPACING))
    top, bottom = TITLE_HEIGHT - 3, frame.rows_bottom
    parts = []
    for tick in ticks:
        x = frame.x(tick)
        label = ntp_to_datetime(tick).strftime(fmt)
        # A label centred on a tick near the right edge would be cut off: end it at the tick.
        anchor = "end" if x + CHAR_WIDTH * len(label) / 2 > WIDTH - 2 else "middle"
        parts.append(
            f'<line x1="{x:.2f}" y1="{top}" x2="{x:.2f}" y2="{bottom}" stroke="#dddddd"/>\n'
            f'<text x="{x:.2f}" y="{bottom + 14}" text-anchor="{anchor}" fill="#333333">{label}</text>\n'
        )
    return parts


def axis_ticks(start: float, stop: float, most: int) -> tuple[list[float], str]:
    """Round calendar moments (NTP seconds) inside [start, stop], at most ``most`` of them,
    and the strftime format of their labels."""
    length = stop - start
    for step in _FIXED_STEPS:
        if length / step <= most:
            first = -(-start // step) * step
            ticks = [first + k * step for k in range(int((stop - first) // step) + 1)]
            return ticks, "%Y-%m-%d %H:%M" if step < 86_400 else "%Y-%m-%d"
    for months in _MONTH_STEPS:
        if length / (months * 30.4 * 86_400) <= most:
            return _calendar_ticks(start, stop, months), "%Y-%m"
    for years in _YEAR_STEPS:
        if length / (years * 365.25 * 86_400) <= most:
            return _calendar_ticks(start, stop, 12 * years), "%Y"
    return [], "%Y"


def _calendar_ticks(start: float, stop: float, months: int) -> list[float]:
    """First days of months (a multiple of ``months`` since year 0) inside [start, stop]."""
    moment = ntp_to_datetime(start)
    index = -(-(moment.year * 12 + moment.month - 1) // months) * months
    ticks: list[float] = []
    while True:
        year, month = divmod(index, 12)
        tick = datetime_to_ntp(datetime(year, month + 1, 1, tzinfo=moment.tzinfo))
        if tick > stop:
            return ticks
        if tick >= start:
            ticks.append(tick)
        index += months


def _legend_lines(style: Style) -> int:
    per_line = max(1, (WIDTH - 2 * MARGIN) // LEGEND_ENTRY)
    return -(-len(style.labels) // per_line)


def _legend(style: Style, top: int) -> list[str]:
    """One square and label per category of the stream rows, in label order."""
    per_line = max(1, (WIDTH - 2 * MARGIN) // LEGEND_ENTRY)
    parts = []
    for position, label in enumerate(sorted(style.labels.values())):
        line, column = divmod(position, per_line)
        x, y = MARGIN + column * LEGEND_ENTRY, top + line * LEGEND_HEIGHT
        color = escape(style.colors.get(label, FALLBACK_COLOR))
        parts.append(
            f'<rect class="legend" x="{x}" y="{y}" width="12" height="12" fill="{color}" '
            f'stroke="#888888" stroke-width="0.5"/>\n'
            f'<text x="{x + 17}" y="{y + 10}">{escape(label)}</text>\n'
        )
    return parts
