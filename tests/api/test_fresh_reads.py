"""Fresh reads: a request only ever uses a read that started after it arrived; requests that
arrive during a read share the next one; errors reach exactly the requests of their read."""

from __future__ import annotations

import gzip
import threading
import time

import pytest

from ooi_status.api.coalesce import FreshReads

LIMIT = 10.0


class Source:
    """A value that a test moves; each read blocks until the test releases it."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.fail_next = False

    def fetch(self) -> int:
        seen = self.value  # the read sees the value as it was when it started
        self.reads += 1
        self.started.release()
        assert self.release.acquire(timeout=LIMIT)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database went away")
        return seen


def request(reads: FreshReads, source: Source, key: str, results: list, index: int) -> threading.Thread:
    def run() -> None:
        try:
            results[index] = reads.read(key, source.fetch)
        except ConnectionError as exc:
            results[index] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiting(reads: FreshReads, key: str) -> bool:
    return key in reads._waiting


def wait_until(condition) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_a_request_arriving_during_a_read_gets_the_next_one_which_serves_all_that_waited():
    reads, source = FreshReads(), Source()
    results: list = [None] * 4
    first = request(reads, source, "rev", results, 0)
    assert source.started.acquire(timeout=LIMIT)  # read 1 under way, having seen value 0
    source.value = 1  # a write commits after read 1 started, before the next requests arrive
    later = [request(reads, source, "rev", results, i) for i in (1, 2, 3)]
    wait_until(lambda: waiting(reads, "rev"))
    source.release.release()  # read 1 ends
    first.join(LIMIT)
    assert results[0] == 0
    assert source.started.acquire(timeout=LIMIT)  # read 2 starts: one for the three waiting
    source.release.release()
    for thread in later:
        thread.join(LIMIT)
    assert results[1:] == [1, 1, 1]  # never the value read before they arrived
    assert source.reads == 2


def test_an_error_reaches_the_requests_of_its_read_and_the_next_read_is_fresh():
    reads, source = FreshReads(), Source()
    results: list = [None] * 2
    source.fail_next = True
    first = request(reads, source, "rev", results, 0)
    assert source.started.acquire(timeout=LIMIT)
    second = request(reads, source, "rev", results, 1)
    wait_until(lambda: waiting(reads, "rev"))
    source.release.release()
    first.join(LIMIT)
    assert isinstance(results[0], ConnectionError)
    assert source.started.acquire(timeout=LIMIT)  # the waiting request reads again
    source.release.release()
    second.join(LIMIT)
    assert results[1] == 0
    assert source.reads == 2


def test_different_keys_do_not_wait_for_each_other():
    reads, source = FreshReads(), Source()
    results: list = [None] * 2
    one = request(reads, source, "a", results, 0)
    assert source.started.acquire(timeout=LIMIT)
    other = request(reads, source, "b", results, 1)
    assert source.started.acquire(timeout=LIMIT)  # "b" started while "a" is still under way
    source.release.release()
    source.release.release()
    one.join(LIMIT)
    other.join(LIMIT)
    assert results == [0, 0]
    assert source.reads == 2


@pytest.mark.parametrize("requests", [1, 8])
def test_alone_or_not_every_request_gets_a_value_and_nothing_is_left_waiting(requests):
    reads = FreshReads()
    calls = []

    def fetch() -> int:
        calls.append(1)
        return len(calls)

    results: list = [None] * requests
    threads = []
    for index in range(requests):
        thread = threading.Thread(target=lambda i=index: results.__setitem__(i, reads.read("k", fetch)))
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(LIMIT)
    assert all(isinstance(value, int) and 1 <= value <= len(calls) for value in results)
    assert not reads._waiting and not reads._running


def test_identical_gzip_requests_under_way_build_and_compress_once(monkeypatch):
    from flask import Flask

    from ooi_status.api import answers, coalesce

    app = Flask(__name__)
    coalesce.init_app(app)
    cache = answers.AnswerCache(10_000_000)
    cache.seen(7)
    body = b'{"streams": [' + b",".join(b'{"id": %d}' % n for n in range(5000)) + b"]}"
    built, compressed, release = [], [], threading.Event()

    def build() -> bytes:
        built.append(1)
        assert release.wait(LIMIT)
        return body

    def counting_compress(plain: bytes) -> bytes:
        compressed.append(1)
        return gzip.compress(plain)

    monkeypatch.setattr(answers, "compress", counting_compress)
    results: list = [None] * 6

    def run(index: int) -> None:
        with app.app_context():
            results[index] = answers.cached_body(cache, 7, "key", answers.GZIP, build)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(built) == 1)
    time.sleep(0.05)  # the others have joined the flights by now; a late one finds the kept body
    release.set()
    for thread in threads:
        thread.join(LIMIT)
    assert built == [1] and compressed == [1]
    assert all(gzip.decompress(result) == body for result in results)
