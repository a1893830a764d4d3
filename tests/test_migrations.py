"""The monitor schema is built by Alembic alone, and the models agree with the migrations."""

import os
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from ooi_status import migrate
from ooi_status.model.monitor import MonitorBase

MONITOR_TABLES = {
    "reference_designator",
    "expected_stream",
    "deployed_stream",
    "status_history",
    "pending_update",
    "monitor_heartbeat",
    "silence",
    "port_count",
    "port_count_hourly",
    "port_agent",
    "port_stats_rejection",
}


def alembic(*args, url, env=None):
    """``alembic`` on the command line; ``url=None`` gives no ``-x url`` (the settings decide)."""
    x_url = [] if url is None else ["-x", f"url={url}"]
    return subprocess.run(
        [sys.executable, "-m", "alembic", *x_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=migrate.ROOT,
        env=env,
    )


def environment(**settings):
    """This process's environment without any ooi_status setting, plus ``settings``."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
    return {**clean, **settings}


def test_single_head_and_dated_revision_names():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.revision[:8].isdigit() and "_" in revision.revision, revision.revision


def test_models_and_migrations_agree(monitor_db):
    with monitor_db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, MonitorBase.metadata) == []


def test_upgrade_and_downgrade_from_the_command_line(backend, request, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    else:
        url = request.getfixturevalue("pg_databases")["scratch"]
    up = alembic("upgrade", "head", url=url)
    assert up.returncode == 0, up.stderr
    assert set(inspect(create_engine(url)).get_table_names()) >= MONITOR_TABLES
    check = alembic("check", url=url)
    assert check.returncode == 0, check.stderr + check.stdout
    down = alembic("downgrade", "base", url=url)
    assert down.returncode == 0, down.stderr
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}


def test_upgrade_and_downgrade_take_the_url_from_the_settings(tmp_path):
    path = tmp_path / "from-settings.sqlite"
    url = f"sqlite:///{path}"
    env = environment(OOISTATUS_MONITOR_URL=url, OOISTATUS_DATA_DIR=str(tmp_path / "data"))
    up = alembic("upgrade", "head", url=None, env=env)
    assert up.returncode == 0, up.stderr
    assert path.is_file()
    assert set(inspect(create_engine(url)).get_table_names()) >= MONITOR_TABLES
    assert not (tmp_path / "data").exists()  # not the default DATA_DIR/monitor.sqlite
    down = alembic("downgrade", "base", url=None, env=env)
    assert down.returncode == 0, down.stderr
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("CHECK_INTERVAL = 'soon'\n", "CHECK_INTERVAL must be int, got str", id="wrong-type"),
        pytest.param("MONITOR_URL = 'not a url'\n", "MONITOR_URL is not a database URL", id="unparsable-url"),
        pytest.param(None, "cannot be read: no such file", id="missing-file"),
    ],
)
@pytest.mark.parametrize("x_url", [False, True], ids=["settings-url", "x-url"])
def test_bad_settings_exit_2_with_one_line(tmp_path, content, message, x_url):
    path = tmp_path / "local_config.py"
    if content is not None:
        path.write_text(content)
    url = f"sqlite:///{tmp_path / 'untouched.sqlite'}" if x_url else None
    result = alembic("upgrade", "head", url=url, env=environment(OOISTATUS_SETTINGS=str(path)))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("alembic: settings error: ")
    assert message in lines[0]
    assert str(path) in lines[0]
    assert not (tmp_path / "untouched.sqlite").exists()


@pytest.mark.parametrize("url", ["postgresql+psycopg2://u@nowhere/x", "sqlite:///nowhere.sqlite"])
def test_offline_sql_for_the_whole_schema(url):
    result = alembic("upgrade", "head", "--sql", url=url)
    assert result.returncode == 0, result.stderr
    for table in MONITOR_TABLES:
        assert f"CREATE TABLE {table}" in result.stdout


def test_offline_sql_between_revisions():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_current_head()
    result = alembic("upgrade", f"base:{head}", "--sql", url="postgresql://u@nowhere/x")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE deployed_stream" in result.stdout


def test_migrations_never_touch_the_metadata_database(metadata_db, monitor_db):
    before = set(inspect(metadata_db.engine).get_table_names())
    command.upgrade(migrate.alembic_config(monitor_db.url), "head")
    assert set(inspect(metadata_db.engine).get_table_names()) == before
    assert "alembic_version" not in before
