"""A disable and a PATCH of the same stream at the same moment leave a row one of them wrote whole."""

import threading

import pytest
from sqlalchemy import select

from ooi_status.model.monitor import DeployedStream

ROUNDS = 25


def overrides(engine, ident):
    with engine.connect() as conn:
        row = conn.execute(
            select(
                DeployedStream.expected_rate, DeployedStream.warn_interval, DeployedStream.fail_interval
            ).where(DeployedStream.id == ident)
        ).one()
    return tuple(row)


def race(*calls):
    """Run the calls in threads released at the same moment; their answers, in order."""
    barrier = threading.Barrier(len(calls), timeout=10)
    answers = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_concurrent_disable_and_patch_leave_a_consistent_row(app, fleet, monitor_db, write_key):
    ident = fleet["ctd_sample"]
    headers = {"X-API-Key": write_key}
    for _ in range(ROUNDS):
        app.test_client().put(f"/stream/{ident}/enable", headers=headers)
        answers = race(
            lambda: app.test_client().put(f"/stream/{ident}/disable", headers=headers),
            lambda: app.test_client().patch(
                f"/deployed/{ident}", json={"warn_interval": 500}, headers=headers
            ),
        )
        answers = {"disable": answers[0], "patch": answers[1]}
        assert answers["disable"].status_code == answers["patch"].status_code == 200
        shown_disable = answers["disable"].get_json()
        shown_patch = answers["patch"].get_json()
        # Each answer is the row as its own write left it.
        shown = (
            shown_disable["expected_rate"],
            shown_disable["warn_interval"],
            shown_disable["fail_interval"],
        )
        assert shown == (0, 0, 0)
        patched = (shown_patch["expected_rate"], shown_patch["warn_interval"], shown_patch["fail_interval"])
        assert patched in {(None, 500, None), (0, 500, 0)}
        # Final row: patch then disable, or disable then patch; never a mix.
        assert overrides(monitor_db.engine, ident) in {(0, 0, 0), (0, 500, 0)}
        assert (overrides(monitor_db.engine, ident) == (0, 0, 0)) == (patched == (None, 500, None))
