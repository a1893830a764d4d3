"""One process's engines: made once, whichever thread asks first."""

from __future__ import annotations

import threading

from ooi_status.db import Databases


def test_threads_asking_together_share_one_engine_per_database(settings, tmp_path):
    databases = Databases(settings.replace(MONITOR_URL=f"sqlite:///{tmp_path / 'monitor.sqlite'}"))
    start = threading.Barrier(16)
    found: list[object] = []

    def ask() -> None:
        start.wait(10)
        found.append(databases.monitor)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    try:
        assert len(found) == 16
        assert len({id(engine) for engine in found}) == 1
    finally:
        databases.dispose()
