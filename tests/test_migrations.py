"""The monitor schema is built by Alembic alone, and the models agree with the migrations."""

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
}


def alembic(*args, url):
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=migrate.ROOT,
    )


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
