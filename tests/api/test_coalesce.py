"""Identical concurrent list reads share one computation; a write or a failure never leaks into others."""

import threading
import time

import pytest

from ooi_status.api.coalesce import Coalescer


class CountingEvent(threading.Event):
    """The leader's done-event, counting the followers waiting on it."""

    def __init__(self):
        super().__init__()
        self.waiting = 0

    def wait(self, timeout=None):
        self.waiting += 1
        return super().wait(timeout)


def watch_followers(coalescer, key):
    event = coalescer._flights[key].done = CountingEvent()
    return event


def wait_for_followers(event, count):
    deadline = time.monotonic() + 10
    while event.waiting < count:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def start_leader(coalescer, key, release, results, fail=False):
    started = threading.Event()

    def compute():
        started.set()
        assert release.wait(10)
        if fail:
            raise RuntimeError("leader failed")
        return b"leader"

    def leader():
        try:
            results.append(coalescer.run(key, compute))
        except RuntimeError:
            results.append(b"error")

    thread = threading.Thread(target=leader)
    thread.start()
    assert started.wait(10)
    return thread


def follower(coalescer, key, results, calls):
    def compute():
        calls.append(1)
        return b"own"

    thread = threading.Thread(target=lambda: results.append(coalescer.run(key, compute)))
    thread.start()
    return thread


def finish(threads):
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


def test_requests_arriving_during_a_computation_share_its_result():
    coalescer, release, results, calls = Coalescer(), threading.Event(), [], []
    leader = start_leader(coalescer, "/stream", release, results)
    watched = watch_followers(coalescer, "/stream")
    followers = [follower(coalescer, "/stream", results, calls) for _ in range(5)]
    wait_for_followers(watched, 5)
    release.set()
    finish([leader, *followers])
    assert results == [b"leader"] * 6 and calls == []


def test_other_urls_do_not_share():
    coalescer, release, results, calls = Coalescer(), threading.Event(), [], []
    leader = start_leader(coalescer, "/stream", release, results)
    other = follower(coalescer, "/stream?status=failed", results, calls)
    finish([other])
    release.set()
    finish([leader])
    assert sorted(results) == [b"leader", b"own"] and calls == [1]


def test_after_a_write_reads_do_not_join_older_computations():
    coalescer, release, results, calls = Coalescer(), threading.Event(), [], []
    leader = start_leader(coalescer, "/stream", release, results)
    coalescer.invalidate()
    late = follower(coalescer, "/stream", results, calls)
    finish([late])
    release.set()
    finish([leader])
    assert calls == [1] and sorted(results) == [b"leader", b"own"]


def test_a_failed_leader_leaves_followers_to_compute_their_own():
    coalescer, release, results, calls = Coalescer(), threading.Event(), [], []
    leader = start_leader(coalescer, "/stream", release, results, fail=True)
    watched = watch_followers(coalescer, "/stream")
    followers = [follower(coalescer, "/stream", results, calls) for _ in range(3)]
    wait_for_followers(watched, 3)
    release.set()
    finish([leader, *followers])
    assert sorted(results) == [b"error"] + [b"own"] * 3 and len(calls) == 3


def test_nothing_is_kept_after_the_computation():
    coalescer = Coalescer()
    assert coalescer.run("/x", lambda: b"1") == b"1"
    assert coalescer.run("/x", lambda: b"2") == b"2"
    with pytest.raises(ValueError):
        coalescer.run("/x", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert coalescer.run("/x", lambda: b"3") == b"3"


def test_a_write_committed_through_the_api_starts_a_new_generation(app, client, fleet, auth):
    """Where the write is made (its commit on the request's session), not in the key check: a read
    or a refused write leaves the generation as it was, every committed write moves it."""
    coalescer = app.extensions["ooi_status.coalescer"]

    def generation_after(method, url, **kwargs):
        before = coalescer._generation
        response = getattr(client, method)(url, headers=auth, **kwargs)
        return response.status_code, coalescer._generation - before

    deployed = f"/deployed/{fleet['ctd_sample']}"
    assert generation_after("get", "/stream") == (200, 0)
    assert generation_after("patch", deployed, json={"warn_interval": -1}) == (400, 0)
    assert generation_after("patch", deployed, json={"warn_interval": 300}) == (200, 1)
    assert generation_after("post", "/subscription", json={"kind": "nonsense"}) == (400, 0)
    email = {"kind": "email", "target": "ops@example.org", "match": "CE01ISSM", "min_status": "degraded"}
    assert generation_after("post", "/subscription", json={**email, "mode": "both"}) == (201, 1)
