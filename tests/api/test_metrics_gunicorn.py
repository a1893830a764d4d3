"""/metrics under run_gunicorn.sh with two workers: the whole server's figures in every scrape.

Requests spread over both workers (the access log names each worker's pid); a single scrape,
whichever worker answers it, reports them all, and no series is ever missing from a later
scrape. The server also runs without gunicorn's per-user control socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from api.test_serving import serving_databases, start_server, stop  # noqa: F401 (a fixture)
from ooi_status.keys import new_api_key

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REQUESTS = 60


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def two_workers(serving_databases, tmp_path: Path, monkeypatch) -> Iterator:  # noqa: F811
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    server = start_server(serving_databases, tmp_path, new_api_key())
    try:
        yield server, home
    finally:
        stop(server.process)


def test_one_scrape_counts_the_requests_of_every_worker(two_workers):
    server, home = two_workers
    sent, workers = 0, set()
    # Batches until both workers have answered some (one busy worker may take a whole batch).
    for _ in range(20):
        with ThreadPoolExecutor(12) as pool:
            answers = list(
                pool.map(lambda _: requests.get(f"{server.base}/expected", timeout=10), range(REQUESTS))
            )
        assert [answer.status_code for answer in answers] == [200] * REQUESTS
        sent += REQUESTS
        access = [line for line in server.log.read_text().splitlines() if '"GET /expected' in line]
        workers = {re.search(r" api\[(\d+)\] ", line).group(1) for line in access}
        if len(workers) == 2:
            break
    assert len(workers) == 2, "both workers answered some of the requests"
    found = scrape(server.base)
    key = ("ooi_status_http_requests_total", (("method", "GET"), ("route", "/expected"), ("status", "200")))
    assert found[key] == sent
    count = ("ooi_status_http_request_duration_seconds_count", (("method", "GET"), ("route", "/expected")))
    assert found[count] == sent
    assert not any("pid" in dict(labels) for _, labels in found)
    assert not (home / ".gunicorn" / "gunicorn.ctl").exists(), "no shared default control socket"


def test_scraping_again_never_loses_a_series(two_workers):
    server, _ = two_workers
    for route in ("/expected", "/stream", "/instrument", "/health"):
        requests.get(f"{server.base}{route}", timeout=10)
    seen: set = set()
    for _ in range(8):
        series = set(scrape(server.base))
        assert seen <= series, f"lost: {sorted(seen - series)[:5]}"
        seen = series
