"""The messages for people: grouping, levels, prefixes, and every text exactly (golden files).

A golden file is the exact text of one message for the scenario of notify/scenario.py,
reviewed by hand. After a deliberate change of wording, regenerate them with
``OOISTATUS_REGENERATE_GOLDEN=1 python -m pytest tests/notify`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notify.scenario import CE01_FAILED, DIGEST_FACTS, EVERYONE, LAYOUT, NOW, ROUND_ITEMS
from ooi_status.notify.digest import digest_message
from ooi_status.notify.messages import (
    CHANGE,
    DETAIL_LIMIT,
    SETTLED,
    STILL,
    Audience,
    Item,
    matches,
    node_of,
    relevant,
    round_message,
    summary,
    trial_message,
)

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("OOISTATUS_REGENERATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_round_message_for_everyone_is_the_golden_text():
    message = round_message(ROUND_ITEMS, EVERYONE, NOW, LAYOUT)
    assert message is not None
    assert (
        message.subject == "[ooi_status] 5 instruments failed, 1 still failed, 1 degraded, "
        "1 settled after flapping, 1 recovered"
    )
    check_golden("round_everyone.txt", message.text)


def test_round_message_for_one_site_and_failures_only_is_the_golden_text():
    message = round_message(ROUND_ITEMS, CE01_FAILED, NOW, LAYOUT)
    assert message is not None
    assert message.subject == "[ooi_status] CE01ISSM-MFD35: 5 instruments failed, 1 recovered"
    check_golden("round_ce01_failed.txt", message.text)


def test_digest_texts_are_the_golden_texts():
    message = digest_message(DIGEST_FACTS, EVERYONE)
    assert message.subject == "[ooi_status] Daily digest: all instruments, 2026-12-01 07:00 UTC"
    check_golden("digest_everyone.txt", message.text)
    check_golden("digest_everyone.html", message.html or "")
    check_golden("digest_ce01_failed.txt", digest_message(DIGEST_FACTS, CE01_FAILED).text)


def test_trial_message_is_the_golden_text():
    message = trial_message(EVERYONE, NOW)
    assert message.subject == "[ooi_status] Test message"
    check_golden("trial.txt", message.text)


def test_a_node_below_the_group_size_lists_its_instruments_one_by_one():
    items = [Item(f"CE01ISSM-MFD35-0{i}-X", "m", "s", "operational", "failed") for i in (1, 2)]
    message = round_message(items, EVERYONE, NOW, LAYOUT)
    assert message is not None
    assert "CE01ISSM-MFD35:" not in message.text
    assert message.text.startswith("2 instruments failed\n\nCE01ISSM-MFD35-01-X: failed")


def test_nothing_for_a_subscription_concerns_no_message():
    items = [Item("RS01SBPS-PC01A-4A-CTDPFA103", "m", "s", "operational", "degraded")]
    assert round_message(items, CE01_FAILED, NOW, LAYOUT) is None


@pytest.mark.parametrize(
    ("old", "new", "kind", "min_status", "expected"),
    [
        ("operational", "failed", CHANGE, "failed", True),
        ("operational", "degraded", CHANGE, "failed", False),
        ("operational", "degraded", CHANGE, "degraded", True),
        ("failed", "operational", CHANGE, "failed", True),  # a recovery from the level
        ("degraded", "operational", CHANGE, "failed", False),
        ("failed", "degraded", CHANGE, "failed", True),
        ("notTracked", "operational", CHANGE, "degraded", False),  # a first status is not news
        ("notTracked", "failed", CHANGE, "failed", True),
        ("failed", "notTracked", CHANGE, "degraded", False),  # switched off by an operator
        ("degraded", "degraded", STILL, "failed", False),
        ("failed", "failed", STILL, "failed", True),
        ("operational", "operational", SETTLED, "failed", True),
        ("degraded", "degraded", SETTLED, "failed", False),
    ],
)
def test_which_items_reach_a_level(old, new, kind, min_status, expected):
    assert relevant(Item("A-B-C", "m", "s", old, new, kind=kind), min_status) is expected


@pytest.mark.parametrize(
    ("match", "refdes", "expected"),
    [("", "CE01ISSM-MFD35-04-X", True), ("CE", "CE01ISSM-MFD35-04-X", True),
     ("CE01ISSM-MFD35", "CE01ISSM-MFD35-04-X", True), ("RS", "CE01ISSM-MFD35-04-X", False)],
)  # fmt: skip
def test_match_is_a_plain_prefix(match, refdes, expected):
    assert matches(match, refdes) is expected


def test_summary_counts_worst_first_and_names_instruments_once():
    assert summary(["recovered", "failed", "failed"]) == "2 instruments failed, 1 recovered"
    assert summary(["degraded"]) == "1 instrument degraded"
    assert node_of("CE01ISSM-MFD35-04-ADCPTM000") == "CE01ISSM-MFD35"


def test_each_subscription_kind_gets_the_same_text():
    chat = Audience(3, "chat", "https://x/y", "", "degraded", "immediate")
    assert round_message(ROUND_ITEMS, chat, NOW, LAYOUT).text.replace("Subscription 3", "Subscription 1") == (  # type: ignore[union-attr]
        round_message(ROUND_ITEMS, EVERYONE, NOW, LAYOUT).text  # type: ignore[union-attr]
    )


def test_a_site_going_down_shows_the_first_instruments_and_counts_the_rest():
    items = [Item(f"FL00SITE-N{i:04d}-01-CTDBPA000", "m", "s", "operational", "failed") for i in range(250)]
    message = round_message(items, EVERYONE, NOW, LAYOUT)
    assert message is not None
    assert message.subject == "[ooi_status] 250 instruments failed"
    assert message.text.count("operational -> failed") == DETAIL_LIMIT
    assert f"\n\n... and 150 more instruments: see {LAYOUT.public_url}\n\n" in message.text
