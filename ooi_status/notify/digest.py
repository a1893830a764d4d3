"""The daily digest of one subscription (pure: facts + audience → message).

Plain text and HTML carry the same sections: counts per status (instruments and streams
under the subscription's prefix), everything still failed or degraded with how long (the
daily reminder of failures nobody has fixed), the status changes of the last 24 hours, the
silences in force, and uptime per site over 24 h and 7 d when uptime figures exist. Long
lists are cut at LIST_LIMIT lines, saying how many more there are. The HTML uses inline
styles only and no scripts, for mail clients that strip both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from html import escape

from ooi_status.notify.messages import (
    SEVERITY,
    Audience,
    Item,
    Message,
    format_age,
    format_time,
    matches,
    relevant,
)
from ooi_status.status import rollup

#: Most lines of one list section.
LIST_LIMIT = 100
STATUS_ORDER = ("operational", "degraded", "failed", "notTracked")
STATUS_NAMES = {"operational": "operational", "degraded": "degraded", "failed": "failed",
                "notTracked": "not tracked"}  # fmt: skip


@dataclass(frozen=True)
class StreamState:
    refdes: str
    method: str
    stream: str
    status: str
    since: datetime | None
    data_age: timedelta | None


@dataclass(frozen=True)
class PastChange:
    at: datetime
    refdes: str
    method: str
    stream: str
    old: str
    new: str


@dataclass(frozen=True)
class ActiveSilence:
    refdes: str
    method: str | None
    stream: str | None
    ends_at: datetime
    reason: str


@dataclass(frozen=True)
class DigestFacts:
    """Everything a digest is made from, for the whole fleet (each audience takes its part).

    ``statuses``: (refdes, status) of every deployed stream; ``uptime``: site → (24 h, 7 d)
    fractions (None: no figure), empty when uptime reports are not available."""

    now: datetime
    statuses: Sequence[tuple[str, str]]
    bad: Sequence[StreamState]
    changes: Sequence[PastChange]
    silences: Sequence[ActiveSilence]
    uptime: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


def digest_moment(now: datetime, hour: int) -> datetime:
    """The latest DIGEST_HOUR o'clock (UTC) at or before ``now``."""
    today = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    return today if today <= now else today - timedelta(days=1)


def digest_due(last_digest_at: datetime | None, created_at: datetime, now: datetime, hour: int) -> bool:
    """Once a day: due when the latest digest hour passed after the last digest (or, for a
    subscription that never had one, after it was made: its first digest is the next one)."""
    return digest_moment(now, hour) > (last_digest_at or created_at)


def _counts(facts: DigestFacts, match: str) -> tuple[dict[str, int], dict[str, int]]:
    streams: dict[str, int] = defaultdict(int)
    per_instrument: dict[str, list[str]] = defaultdict(list)
    for refdes, status in facts.statuses:
        if matches(match, refdes):
            streams[status] += 1
            per_instrument[refdes].append(status)
    instruments: dict[str, int] = defaultdict(int)
    for statuses in per_instrument.values():
        instruments[rollup(statuses).value] += 1
    return instruments, streams


def _silence_concerns(silence: ActiveSilence, match: str) -> bool:
    return silence.refdes.startswith(match) or match.startswith(silence.refdes)


@dataclass
class _Sections:
    """The digest's lists for one audience, as rows of cells (text and HTML share them)."""

    title: str
    counts: list[tuple[str, str]]
    lists: list[tuple[str, int, list[list[str]]]]


def _sections(facts: DigestFacts, audience: Audience) -> _Sections:
    match, now = audience.match, facts.now
    scope = f"instruments under {match}" if match else "all instruments"
    instruments, streams = _counts(facts, match)
    counts = [
        (kind, ", ".join(f"{STATUS_NAMES[s]} {tally.get(s, 0)}" for s in STATUS_ORDER))
        for kind, tally in (("Instruments", instruments), ("Streams", streams))
    ]
    threshold = SEVERITY[audience.min_status]
    bad = [s for s in facts.bad if matches(match, s.refdes) and SEVERITY.get(s.status, -1) >= threshold]
    bad.sort(key=lambda s: (-SEVERITY[s.status], s.since or now, s.refdes, s.method, s.stream))
    bad_rows = [
        [s.refdes, f"{s.method} {s.stream}", s.status,
         f"for {format_age(now - s.since)}" if s.since else "", f"data age {format_age(s.data_age)}"]
        for s in bad
    ]  # fmt: skip
    changes = [
        c
        for c in facts.changes
        if matches(match, c.refdes)
        and relevant(Item(c.refdes, c.method, c.stream, c.old, c.new), audience.min_status)
    ]
    change_rows = [
        [format_time(c.at), c.refdes, f"{c.method} {c.stream}", f"{c.old} -> {c.new}"]
        for c in sorted(changes, key=lambda c: c.at, reverse=True)
    ]
    silence_rows = [
        [s.refdes + "".join(f" {part}" for part in (s.method, s.stream) if part),
         f"until {format_time(s.ends_at)}", s.reason]
        for s in facts.silences if _silence_concerns(s, match)
    ]  # fmt: skip
    lists = [
        ("Still failed or degraded", len(bad_rows), bad_rows),
        ("Status changes in the last 24 hours", len(change_rows), change_rows),
        ("Silences in force", len(silence_rows), silence_rows),
    ]
    sites = sorted(site for site in facts.uptime if matches(match[:8], site))  # a site is 8 characters
    if sites:
        uptime_rows = [[site, *(_percent(v) for v in facts.uptime[site])] for site in sites]
        lists.append(("Uptime per site (24 h, 7 d)", len(uptime_rows), uptime_rows))
    return _Sections(f"Daily digest: {scope}, {format_time(now)}", counts, lists)


def _percent(value: float | None) -> str:
    """One decimal; never 100.0% for what is not whole (99.96% shows as 99.9%)."""
    if value is None:
        return "n/a"
    shown = round(value * 100, 1)
    return f"{min(shown, 99.9) if value < 1 else shown:.1f}%"


def digest_message(facts: DigestFacts, audience: Audience) -> Message:
    sections = _sections(facts, audience)
    return Message(
        subject=f"[ooi_status] {sections.title}", text=_plain(sections, audience), html=_html(sections)
    )


def _plain(sections: _Sections, audience: Audience) -> str:
    lines = [sections.title, ""]
    lines += [f"{kind}: {counts}" for kind, counts in sections.counts]
    for heading, total, rows in sections.lists:
        lines += ["", f"{heading} ({total}):"]
        lines += ["  " + "  ".join(cell for cell in row if cell) for row in rows[:LIST_LIMIT]]
        if total > LIST_LIMIT:
            lines.append(f"  ... and {total - LIST_LIMIT} more")
        if not rows:
            lines.append("  none")
    lines += ["", f"Subscription {audience.id}: {audience.min_status} or worse."]
    return "\n".join(lines) + "\n"


_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"


def _html(sections: _Sections) -> str:
    parts = [
        '<!DOCTYPE html><html><body style="font-family:sans-serif;font-size:14px;color:#222">',
        f'<h1 style="font-size:18px">{escape(sections.title)}</h1>',
    ]
    parts += [f"<p><strong>{escape(kind)}:</strong> {escape(counts)}</p>" for kind, counts in sections.counts]
    for heading, total, rows in sections.lists:
        parts.append(f'<h2 style="font-size:16px;margin-top:16px">{escape(heading)} ({total})</h2>')
        if not rows:
            parts.append("<p>none</p>")
            continue
        parts.append('<table style="border-collapse:collapse">')
        for row in rows[:LIST_LIMIT]:
            cells = "".join(f'<td style="{_CELL}">{escape(cell)}</td>' for cell in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
        if total > LIST_LIMIT:
            parts.append(f"<p>... and {total - LIST_LIMIT} more</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
