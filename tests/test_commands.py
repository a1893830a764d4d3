"""The installed commands as an operator runs them: ooi_status_db, ooi_status_monitor, ooi_status_demo.

Each runs as a subprocess (the console scripts of this environment) from an empty folder
outside the repository, with no ooi_status setting inherited from the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from ooi_status import __version__
from ooi_status.model.monitor import ExpectedStream

pytestmark = pytest.mark.slow

COMMANDS = ("ooi_status_monitor", "ooi_status_demo", "ooi_status_db")


def run(command: str, *args: str, cwd: Path, timeout: float = 120, **settings: str):
    env = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
    env.update(settings)
    script = Path(sys.executable).with_name(command)
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_version_prints_the_package_version(command, tmp_path):
    result = run(command, "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout and command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_defaults_and_no_markup(command, tmp_path):
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "``" not in result.stdout and ":func:" not in result.stdout
    assert "(default: " in result.stdout


def test_demo_help_names_its_defaults(tmp_path):
    text = run("ooi_status_demo", "--help", cwd=tmp_path).stdout
    assert "(default: 40)" in text and "(default: 9000)" in text


def test_a_misspelt_setting_variable_is_refused(tmp_path):
    result = run("ooi_status_monitor", "--once", cwd=tmp_path, OOISTATUS_CHEK_INTERVAL="5")
    assert result.returncode == 2
    assert "OOISTATUS_CHEK_INTERVAL" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching anything


def test_ooi_status_db_upgrade_current_history_downgrade(backend, request, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("pg_databases")["scratch"]
    up = run("ooi_status_db", "upgrade", "head", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert up.returncode == 0, up.stderr
    assert "deployed_stream" in inspect(create_engine(url)).get_table_names()
    current = run("ooi_status_db", "current", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert current.returncode == 0 and "(head)" in current.stdout, current.stderr
    history = run("ooi_status_db", "history", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert "20261123_initial_schema" in history.stdout, history.stderr
    down = run("ooi_status_db", "downgrade", "base", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert down.returncode == 0, down.stderr
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}


def test_ooi_status_db_prints_the_ddl(tmp_path):
    url = "postgresql+psycopg2://u@nowhere/x"
    result = run("ooi_status_db", "upgrade", "head", "--sql", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE deployed_stream" in result.stdout
    assert not list(tmp_path.iterdir())


def test_ooi_status_db_refuses_bad_settings_with_exit_2(tmp_path):
    result = run("ooi_status_db", "upgrade", "head", cwd=tmp_path, OOISTATUS_CHECK_INTERVAL="soon")
    assert result.returncode == 2
    assert result.stderr.startswith("ooi_status_db: settings error: ") and "CHECK_INTERVAL" in result.stderr


def test_expected_builtin_loads_the_packaged_ooi_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.sqlite'}"
    result = run("ooi_status_monitor", "--expected=builtin", cwd=tmp_path, OOISTATUS_MONITOR_URL=url)
    assert result.returncode == 0, result.stderr
    assert "streamed_expected.csv" in result.stdout and "created" in result.stdout
    with Session(create_engine(url)) as session:
        names = set(session.scalars(select(ExpectedStream.name)))
    assert "ctdbp_no_sample" in names and len(names) > 50


def test_a_missing_metadata_table_says_what_to_do(tmp_path):
    result = run("ooi_status_monitor", "--once", cwd=tmp_path)
    assert result.returncode == 1
    assert "is missing in METADATA_URL" in result.stderr
    assert "ooi_status_demo --prepare-only" in result.stderr and "METADATA_URL" in result.stderr


def test_new_read_key_prints_a_read_entry(tmp_path):
    result = run("ooi_status_monitor", "--new-api-key", "dashboard", "--scope", "read", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "'scope': 'read'" in result.stdout and "'hash': 'sha256:" in result.stdout
    assert run("ooi_status_monitor", "--scope", "read", cwd=tmp_path).returncode == 2
