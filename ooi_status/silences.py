"""Silences and maintenance windows: which streams are silenced at a moment (pure rules).

A silence names a reference-designator prefix (a site ``CE01ISSM``, a node
``CE01ISSM-MFD35`` or one instrument ``CE01ISSM-MFD35-04-ADCPTM000``), optionally one
delivery method and one stream name, and a time span [starts_at, ends_at). While it is in
force the streams it covers are shown as silenced and left out of notifications to people;
their status is computed, recorded and sent to the OOI events service as always.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SilenceRule:
    id: int
    refdes: str
    method: str | None
    stream: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str


def covers(rule: SilenceRule, refdes: str, method: str, stream: str) -> bool:
    """The rule's prefix is the refdes or a dash-separated head of it; method/stream None = any."""
    prefix = rule.refdes
    if refdes != prefix and not (refdes.startswith(prefix) and refdes[len(prefix)] == "-"):
        return False
    return (rule.method is None or rule.method == method) and (rule.stream is None or rule.stream == stream)


def in_force(rule: SilenceRule, now: datetime) -> bool:
    return rule.starts_at <= now < rule.ends_at


def silence_for(
    rules: Iterable[SilenceRule], refdes: str, method: str, stream: str, now: datetime
) -> SilenceRule | None:
    """The in-force rule covering this stream that ends last (ties: the lowest id), or None."""
    found: SilenceRule | None = None
    for rule in rules:
        later = found is None or (rule.ends_at, -rule.id) > (found.ends_at, -found.id)
        if later and in_force(rule, now) and covers(rule, refdes, method, stream):
            found = rule
    return found


def heads(refdes: str) -> list[str]:
    """Every prefix a silence may name for ``refdes``: ``A``, ``A-B``, ``A-B-C``, ... up to itself."""
    parts = refdes.split("-")
    return ["-".join(parts[:end]) for end in range(1, len(parts) + 1)]


def by_prefix(rules: Iterable[SilenceRule]) -> dict[str, list[SilenceRule]]:
    """Rules grouped by their prefix: a stream's candidates are the groups of its ``heads``, so a
    long list is matched against many silences without trying each rule on each stream."""
    grouped: dict[str, list[SilenceRule]] = {}
    for rule in rules:
        grouped.setdefault(rule.refdes, []).append(rule)
    return grouped


def candidates(grouped: dict[str, list[SilenceRule]], refdes: str) -> list[SilenceRule]:
    """The rules of ``grouped`` whose prefix covers ``refdes`` (method and stream not yet checked)."""
    return [rule for head in heads(refdes) for rule in grouped.get(head, ())]


def state(rule: SilenceRule, now: datetime) -> str:
    """ "upcoming", "active" or "ended" at ``now``."""
    if now < rule.starts_at:
        return "upcoming"
    return "active" if now < rule.ends_at else "ended"
