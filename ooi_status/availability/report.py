"""An instrument's availability timeline and its text forms: visavail.js JSON, CSV and TSV.

Pure: no Flask, no database, no clock. A Timeline holds the spans the engine
(ooi_status.availability.engine) computed, in NTP seconds; this module turns them into the
layouts of the API (spec API.md, "Data availability"). Timestamps are UTC
``YYYY-MM-DD HH:MM:SS``, truncated to the second, computed by arithmetic (one cached
date text per day) rather than through datetime for each of the thousands of spans.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from ooi_status.availability.engine import Span, Timeline
from ooi_status.exports import csv_row
from ooi_status.times import NTP_EPOCH

DEPLOYMENTS_MEASURE = "Deployments"
HEADER = ("measure", "start", "category", "stop")
#: Color of a label that the settings give no color.
FALLBACK_COLOR = "#cccccc"


@dataclass(frozen=True, slots=True)
class Style:
    """Labels and colors of the timeline, from the settings."""

    labels: Mapping[str, str]  # category key → label
    colors: Mapping[str, str]  # label → color
    deployment_label: str  # template with {number}
    deployment_colors: Sequence[str]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Style:
        return cls(
            labels=dict(settings["AVAILABILITY_LABELS"]),
            colors=dict(settings["AVAILABILITY_COLORS"]),
            deployment_label=str(settings["DEPLOYMENT_LABEL"]),
            deployment_colors=tuple(settings["DEPLOYMENT_COLORS"]) or (FALLBACK_COLOR,),
        )

    def stream_categories(self) -> dict[str, dict[str, str]]:
        """Every label of a stream row with its color, in label order."""
        return {
            label: {"color": self.colors.get(label, FALLBACK_COLOR)} for label in sorted(self.labels.values())
        }

    def deployment_categories(self, numbers: Sequence[int]) -> dict[str, dict[str, str]]:
        """ "Deployment: N" of each deployment shown, colors alternating by position."""
        colors = self.deployment_colors
        return {
            self.deployment_label.format(number=number): {"color": colors[position % len(colors)]}
            for position, number in enumerate(numbers)
        }


# --- timestamps --------------------------------------------------------------------------------

_DAY = 86_400
_CLOCK = [f" {h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}" for s in range(60)]


@lru_cache(maxsize=1 << 16)
def _date_text(day: int) -> str:
    return (NTP_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def timestamp_text(ntp: float) -> str:
    """NTP seconds → ``YYYY-MM-DD HH:MM:SS`` UTC, truncated to the second (as times.format_ntp)."""
    day, second = divmod(int(ntp // 1), _DAY)
    return _date_text(day) + _CLOCK[second // 60] + _SECONDS[second % 60]


def timestamp_texts(times: Sequence[float]) -> list[str]:
    """``timestamp_text`` of each time, the arithmetic done on all of them at once."""
    days, seconds = np.divmod(np.floor(np.asarray(times, dtype=np.float64)).astype(np.int64), _DAY)
    minutes, seconds = np.divmod(seconds, 60)
    date, clock, second = _date_text, _CLOCK, _SECONDS
    return [
        date(day) + clock[minute] + second[s]
        for day, minute, s in zip(days.tolist(), minutes.tolist(), seconds.tolist(), strict=True)
    ]


# --- rows ----------------------------------------------------------------------------------------


def deployment_rows(timeline: Timeline, style: Style) -> list[list[str]]:
    """[start, "Deployment: N", stop] of each deployment in the window."""
    label = style.deployment_label
    return [
        [timestamp_text(start), label.format(number=number), timestamp_text(stop)]
        for start, stop, number in timeline.deployments
    ]


def stream_rows(spans: Sequence[Span], style: Style) -> list[list[str]]:
    """[start, label, stop] of each span of one stream."""
    labels = style.labels
    starts = timestamp_texts([s.start for s in spans])
    # A stream's spans tile the window: each stop is the next start, whose text is made already.
    stops = [
        starts[i] if i < len(spans) and spans[i].start == s.stop else timestamp_text(s.stop)
        for i, s in enumerate(spans, 1)
    ]
    return [
        [start, labels.get(s.category, s.category), stop]
        for start, s, stop in zip(starts, spans, stops, strict=True)
    ]


def visavail(timeline: Timeline, style: Style) -> dict[str, list[dict[str, Any]]]:
    """The JSON document of API.md: the Deployments row first (when any), then one per stream."""
    measures: list[dict[str, Any]] = []
    if timeline.deployments:
        numbers = [number for _, _, number in timeline.deployments]
        measures.append(
            {
                "measure": DEPLOYMENTS_MEASURE,
                "categories": style.deployment_categories(numbers),
                "data": deployment_rows(timeline, style),
            }
        )
    categories = style.stream_categories()
    for row in timeline.streams:
        measures.append(
            {"measure": row.measure, "categories": categories, "data": stream_rows(row.spans, style)}
        )
    return {"availability": measures}


def span_records(timeline: Timeline, style: Style) -> Iterator[tuple[str, str, str, str]]:
    """(measure, start, category, stop) of every span, in the order of the JSON document."""
    for start, label, stop in deployment_rows(timeline, style):
        yield DEPLOYMENTS_MEASURE, start, label, stop
    for row in timeline.streams:
        measure = row.measure
        for start, label, stop in stream_rows(row.spans, style):
            yield measure, start, label, stop


def delimited(timeline: Timeline, style: Style, delimiter: str = ",") -> str:
    """CSV (``,``, CRLF line ends as RFC 4180) or TSV (tab, LF) with a header row."""
    out = io.StringIO()
    lineterminator = "\r\n" if delimiter == "," else "\n"
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(csv_row(HEADER))
    writer.writerows(csv_row(record) for record in span_records(timeline, style))
    return out.getvalue()
