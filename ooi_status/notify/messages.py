"""A round's news → one message per subscription, grouped by node (pure: no I/O).

The input is a list of ``Item``: one stream's status change, a stream still failed or
degraded when the silence over it ended, or a stream that stopped flapping. A subscription
gets the items under its prefix that reach its ``min_status`` (a recovery from that status
too), as one message:

- items are grouped by instrument, and instruments by node (``CE01ISSM-MFD35``);
- a node where NOTIFY_GROUP_MIN or more instruments have news is one line
  (``CE01ISSM-MFD35: 5 instruments failed, 1 recovered``) with its instruments under it;
- every instrument line carries the worst of its streams' news and a link to its page,
  every stream line its change and its data age.

Changes to or from notTracked are bookkeeping (a stream switched off, a stream's first
status), not news: only a change to or from a tracked status counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Severity of the statuses people are told about; notTracked has none.
SEVERITY = {"operational": 0, "degraded": 1, "failed": 2}
#: Kinds of items.
CHANGE, STILL, SETTLED = "change", "still", "settled"
#: Instrument labels, worst first: an instrument shows its worst label, summaries count in this order.
LABELS = ("failed", "still failed", "degraded", "still degraded", "settled after flapping", "recovered")
#: Subscription choices.
KINDS = ("email", "chat")
MIN_STATUSES = ("degraded", "failed")
MODES = ("immediate", "digest", "both")
#: Most instruments shown in detail in one message; the rest are counted (a site going down is
#: thousands of streams: the message must stay readable and under chat services' size limits).
DETAIL_LIMIT = 100


@dataclass(frozen=True)
class Item:
    """One stream's news. ``since``: when it entered ``new`` (for a silence that ended);
    ``note``: the diagnosis of its instrument (ooi_status.diagnosis), shown once per instrument."""

    refdes: str
    method: str
    stream: str
    old: str
    new: str
    kind: str = CHANGE
    data_age: timedelta | None = None
    since: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class Audience:
    """A subscription as plain values."""

    id: int
    kind: str
    target: str
    match: str
    min_status: str
    mode: str


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class Layout:
    """What shapes the text: NOTIFY_GROUP_MIN and PUBLIC_URL."""

    group_min: int
    public_url: str

    def instrument_url(self, refdes: str) -> str:
        return f"{self.public_url.rstrip('/')}/ui/instrument/{refdes}"


def matches(match: str, refdes: str) -> bool:
    """A subscription's ``match`` is a plain prefix: "" everything, "CE" a whole array."""
    return refdes.startswith(match)


def node_of(refdes: str) -> str:
    return "-".join(refdes.split("-")[:2])


def relevant(item: Item, min_status: str) -> bool:
    """Does this item reach ``min_status``? A recovery from it does too."""
    threshold = SEVERITY[min_status]
    new, old = SEVERITY.get(item.new), SEVERITY.get(item.old)
    if new is None:
        return False
    if item.kind == SETTLED:
        return new >= threshold or new == 0
    if new >= threshold:
        return True
    return item.kind == CHANGE and old is not None and old >= threshold


def label(item: Item) -> str:
    if item.kind == STILL:
        return f"still {item.new}"
    if item.kind == SETTLED:
        return "settled after flapping"
    return "recovered" if item.new == "operational" else item.new


def worst(labels: Iterable[str]) -> str:
    return min(labels, key=LABELS.index)


def summary(labels: Sequence[str]) -> str:
    """``5 instruments failed, 1 recovered``: counts in LABELS order."""
    counts = {name: labels.count(name) for name in LABELS if name in labels}
    parts: list[str] = []
    for name, count in counts.items():
        noun = "" if parts else (" instrument" if count == 1 else " instruments")
        parts.append(f"{count}{noun} {name}")
    return ", ".join(parts)


def format_age(age: timedelta | None) -> str:
    """Whole seconds, as the event notes write intervals (``1 day, 2:01:00``)."""
    return "no data" if age is None else str(timedelta(seconds=int(age.total_seconds())))


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def stream_line(item: Item) -> str:
    head = f"{item.method} {item.stream}"
    age = f"data age {format_age(item.data_age)}"
    if item.kind == STILL:
        since = f" since {format_time(item.since)}" if item.since else ""
        return f"{head}: still {item.new}{since}, its silence ended; {age}"
    if item.kind == SETTLED:
        return f"{head}: stopped flapping, settled at {item.new}; {age}"
    return f"{head}: {item.old} -> {item.new}; {age}"


def _instrument_lines(refdes: str, items: list[Item], layout: Layout, indent: str) -> list[str]:
    lines = [f"{indent}{refdes}: {worst(label(i) for i in items)}  <{layout.instrument_url(refdes)}>"]
    notes = dict.fromkeys(item.note for item in items if item.note)  # the instrument's diagnosis, once
    lines += [f"{indent}  diagnosis: {note}" for note in notes]
    lines += [f"{indent}  {stream_line(item)}" for item in items]
    return lines


def round_message(items: Sequence[Item], audience: Audience, now: datetime, layout: Layout) -> Message | None:
    """The message for one subscription, or None when none of the items concern it."""
    chosen = [i for i in items if matches(audience.match, i.refdes) and relevant(i, audience.min_status)]
    if not chosen:
        return None
    by_instrument: dict[str, list[Item]] = defaultdict(list)
    for item in sorted(chosen, key=lambda i: (i.refdes, i.method, i.stream)):
        by_instrument[item.refdes].append(item)
    by_node: dict[str, list[str]] = defaultdict(list)
    for refdes in by_instrument:
        by_node[node_of(refdes)].append(refdes)
    blocks: list[list[str]] = []
    titles: list[str] = []
    shown = 0
    for node, instruments in sorted(by_node.items()):
        if shown >= DETAIL_LIMIT:
            titles.append(node)  # counted in the summary, not shown
            continue
        shown += len(instruments)
        labels = [worst(label(i) for i in by_instrument[r]) for r in instruments]
        if len(instruments) >= layout.group_min:
            titles.append(f"{node}: {summary(labels)}")
            block = [titles[-1]]
            for refdes in instruments:
                block += _instrument_lines(refdes, by_instrument[refdes], layout, "  ")
            blocks.append(block)
            continue
        for refdes, name in zip(instruments, labels, strict=True):
            titles.append(f"{refdes}: {name}")
            blocks.append(_instrument_lines(refdes, by_instrument[refdes], layout, ""))
    every = [worst(label(i) for i in group) for group in by_instrument.values()]
    headline = titles[0] if len(titles) == 1 else summary(every)
    body = "\n\n".join("\n".join(block) for block in blocks)
    if shown < len(by_instrument):
        rest = len(by_instrument) - shown
        body += f"\n\n... and {rest} more instrument{'s' if rest > 1 else ''}: see {layout.public_url}"
    # A single block starts with its own title; several get the summary above them.
    top = "" if len(titles) == 1 else f"{headline}\n\n"
    text = f"{top}{body}\n\n{footer(audience, now)}\n"
    return Message(subject=f"[ooi_status] {headline}", text=text)


def footer(audience: Audience, now: datetime) -> str:
    scope = f"instruments under {audience.match}" if audience.match else "all instruments"
    return (
        f"ooi_status, {format_time(now)}. Subscription {audience.id}: {scope}, "
        f"{audience.min_status} or worse."
    )


def trial_message(audience: Audience, now: datetime) -> Message:
    """What ``POST /subscription/<id>/test`` sends."""
    text = f"Test message: this subscription reaches you.\n\n{footer(audience, now)}\n"
    return Message(subject="[ooi_status] Test message", text=text)
