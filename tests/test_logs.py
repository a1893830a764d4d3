"""One log line format for every process: text (time level process[pid] logger: message) or JSON."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ooi_status.logs import JsonFormatter, TextFormatter

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|ERROR|WARNING|DEBUG) (\w+)\[(\d+)\] ([\w.]+): (.+)$"
)


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("ooi_status.monitor", level, __file__, 1, message, (), None)


def test_text_lines_carry_time_level_process_and_message():
    line = TextFormatter("monitor").format(record("leader: checking every 60 s"))
    match = LINE.match(line)
    assert match, line
    assert match.group(1, 2, 4, 5) == ("INFO", "monitor", "ooi_status.monitor", "leader: checking every 60 s")
    assert int(match.group(3)) == os.getpid()


def test_json_lines_carry_the_same_fields():
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord(
            "ooi_status.api", logging.ERROR, __file__, 1, "x %s", ("y",), sys.exc_info()
        )
    line = json.loads(JsonFormatter("api").format(failed))
    assert {key: line[key] for key in ("level", "process", "pid", "logger", "message")} == {
        "level": "ERROR", "process": "api", "pid": os.getpid(), "logger": "ooi_status.api", "message": "x y",
    }  # fmt: skip
    assert line["time"].endswith("Z") and "ValueError: boom" in line["exception"]


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_monitor_writes_every_line_in_the_chosen_format(tmp_path: Path, log_format):
    env = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
    env["OOISTATUS_LOG_FORMAT"] = log_format
    script = Path(sys.executable).with_name("ooi_status_monitor")
    done = subprocess.run(
        [str(script), "--once"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    lines = done.stderr.splitlines()
    assert len(lines) >= 2, done.stderr
    for line in lines:
        if log_format == "json":
            assert json.loads(line)["process"] == "monitor", line
        else:
            assert LINE.match(line) and " monitor[" in line, line
