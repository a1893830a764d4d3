"""Whole-instrument enable/disable from many clients at once: every switch lands, none deadlocks."""

import random
import threading

import pytest
from sqlalchemy.orm import Session

from api import factories

INSTRUMENTS = [f"CE0{i}ISSM-MFD35-0{i}-PCO2WB000" for i in range(1, 4)]

CLIENTS = 16
SWITCHES = 10


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_concurrent_instrument_switches_never_answer_503(app, monitor_db, write_key):
    with Session(monitor_db.engine) as session, session.begin():
        for number in range(40):
            stream = factories.expected(session, f"stream_{number:02d}")
            for refdes in INSTRUMENTS:
                factories.deployed(session, refdes, stream, "operational")
    headers = {"X-API-Key": write_key}
    barrier = threading.Barrier(CLIENTS, timeout=30)
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        test_client = app.test_client()
        barrier.wait()
        for _ in range(SWITCHES):
            refdes = chooser.choice(INSTRUMENTS)
            switch = chooser.choice(["enable", "disable"])
            answer = test_client.put(f"/instrument/{refdes}/{switch}", headers=headers)
            with lock:
                statuses.append(answer.status_code)
                if answer.status_code != 200:
                    bodies.append(answer.get_json())

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert len(statuses) == CLIENTS * SWITCHES
    assert 503 not in statuses, bodies[:3]
    assert set(statuses) <= {200, 409}, bodies[:3]
