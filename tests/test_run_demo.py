"""The README's first command: ``ooi_status_demo`` runs the whole service from an empty folder.

Started for real (monitor, gunicorn with gevent workers, the stand-in events service) in a
temporary folder with one-second rounds, on free loopback ports, bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, object]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):  # a loaded machine answers late
        return 0, None


def wait_for(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.25)
    return None


def _run_demo(tmp_path: Path, **settings: str):
    port, events_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
    env.update(OOISTATUS_CHECK_INTERVAL="1", OOISTATUS_NOTIFY_INTERVAL="1", OOISTATUS_NOTIFY_OFFSET="0",
               OOISTATUS_NOTIFY_URL_PORT=str(events_port))  # fmt: skip
    env.update({f"OOISTATUS_{name}": value for name, value in settings.items()})
    log = tmp_path / "demo.log"
    # The console script the README's first command runs, from this environment.
    script = Path(sys.executable).with_name("ooi_status_demo")
    command = [str(script), "--instruments", "8", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--workers", "1"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        # The demo's own group: its monitor and gunicorn go too, whatever state the test left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def running_demo(tmp_path: Path):
    # No broker: the demo runs without port-agent statistics (a closed port, never a shared queue).
    yield from _run_demo(tmp_path, AMQP_URL="amqp://guest:guest@127.0.0.1:9/%2F")


@pytest.fixture
def demo_with_broker(tmp_path: Path, amqp_url: str, amqp_queue: str):
    yield from _run_demo(tmp_path, AMQP_URL=amqp_url, AMQP_QUEUE=amqp_queue)


def test_the_demo_serves_live_statuses_and_stops_cleanly(running_demo, tmp_path: Path):
    process, base, log = running_demo
    healthy = wait_for(lambda: get(f"{base}/health")[0] == 200, 90)
    assert healthy, log.read_text()
    key = re.search(r"API key for writes \(this demo only\): (\S+)", log.read_text()).group(1)

    status, instruments = get(f"{base}/instrument")
    assert status == 200 and len(instruments) >= 6  # those deployed now, of 8
    refdes = sorted(instruments)[0]
    status, available = get(f"{base}/available/{refdes}")
    assert status == 200 and available["availability"][0]["measure"] == "Deployments"
    assert any(row["data"] for row in available["availability"][1:])

    tracked = [s for i in instruments.values() for s in i["status"] if s["status"] != "notTracked"]
    assert tracked, "the first round gave real statuses"
    stream_id = tracked[0]["id"]
    status, history = get(f"{base}/stream/{stream_id}/history")
    assert history["history"][-1]["old_status"] == "notTracked"  # changed by the monitor itself

    def live_data() -> bool:
        now_seen = {s["id"]: s["last_data_time"] for s in get(f"{base}/stream")[1]["status"]}
        return any(now_seen[i] != seen for i, seen in first_seen.items() if seen is not None)

    first_seen = {s["id"]: s["last_data_time"] for s in get(f"{base}/stream")[1]["status"]}
    assert wait_for(live_data, 30), "live demo mode moves the streams' data forward"
    status, _ = get(f"{base}/stream/{stream_id}/disable", "PUT", {"X-API-Key": key})
    assert status == 200
    changed = wait_for(lambda: get(f"{base}/stream/{stream_id}")[1]["status"] == "notTracked", 30)
    assert changed, "the monitor's next round follows the disable"
    status, history = get(f"{base}/stream/{stream_id}/history")
    assert history["history"][0]["new_status"] == "notTracked"
    assert wait_for(lambda: "event for" in log.read_text(), 30), "events reach the stand-in events service"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    text = log.read_text()
    assert "Shutting down: Master" in text and "ooi_status.monitor: stopped" in text
    assert get(f"{base}/health")[0] == 0  # nothing listens any more
    assert (tmp_path / "data" / "monitor.sqlite").exists()


def test_the_demo_says_so_when_its_port_is_taken(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
        env["OOISTATUS_NOTIFY_URL_PORT"] = str(free_port())
        script = Path(sys.executable).with_name("ooi_status_demo")
        done = subprocess.run(
            [str(script), "--instruments", "4", "--port", str(port), "--workers", "1"],
            cwd=tmp_path, env=env, capture_output=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert b"the API (gunicorn) exited with status 1: stopping the demo" in done.stderr + done.stdout


def test_killing_the_demo_stops_its_monitor_and_api(running_demo):
    process, base, log = running_demo
    assert wait_for(lambda: get(f"{base}/health")[0] == 200, 90), log.read_text()
    process.kill()  # SIGKILL: the demo cannot clean up; its children must go by themselves
    process.wait(timeout=10)
    assert wait_for(lambda: get(f"{base}/health")[0] == 0, 60), "gunicorn outlived the demo"
    assert wait_for(lambda: "ooi_status.monitor: stopped" in log.read_text(), 60), log.read_text()


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_that_dies_is_named_and_stops_the_demo(running_demo):
    process, base, log = running_demo
    assert wait_for(lambda: get(f"{base}/health")[0] == 200, 90), log.read_text()
    monitor = next(
        pid for pid in children(process.pid) if b"--live-monitor" in Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    os.kill(monitor, signal.SIGKILL)
    assert process.wait(timeout=60) == 1
    text = log.read_text()
    assert "the monitor exited with signal 9: stopping the demo" in text
    assert re.search(r"Z ERROR demo\[\d+\] ooi_status.demo: the monitor exited", text), text[-2000:]


RECEIVING = re.compile(
    r"port agent receiving \d+ B/s: data arrives but no particles are stored \(ingest or parser\)"
)
SILENT = re.compile(
    r"no bytes from the port agent since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(instrument or communications\)"
)


def test_the_demo_publishes_port_statistics_and_the_diagnosis_follows_them(demo_with_broker, tmp_path: Path):
    from ooi_status.config import load_settings
    from ooi_status.db import make_engine
    from ooi_status.demo_ports import instrument_streams, profiles

    process, base, log = demo_with_broker
    assert wait_for(lambda: get(f"{base}/health")[0] == 200, 90), log.read_text()
    assert "demo port agents publish to" in log.read_text()
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'metadata.sqlite'}", load_settings(environ={}))
    kinds = profiles(instrument_streams(engine))
    engine.dispose()
    reporting = sorted(refdes for refdes, kind in kinds.items() if kind != "none")

    def counted() -> bool:
        return all((get(f"{base}/instrument/{refdes}/port")[1] or {}).get("counts") for refdes in reporting)

    assert wait_for(counted, 60), "every reporting port agent's counts stored by the monitor"
    status, instruments = get(f"{base}/instrument")
    assert status == 200
    for refdes, item in instruments.items():
        text = item["diagnosis"]
        if item["overall"] not in ("degraded", "failed") or kinds[refdes] == "none":
            assert text is None, (refdes, item["overall"], text)
        elif kinds[refdes] == "ingest":
            assert RECEIVING.fullmatch(text), text
        else:
            assert RECEIVING.fullmatch(text) or SILENT.fullmatch(text), text
