"""Alembic environment of the monitor schema.

URL: ``-x url=...`` if given, else MONITOR_URL from the ooi_status settings. Bad settings
print one line on stderr and exit with status 2, like the other commands.
Only the monitor schema's MetaData is given to Alembic: the OOI metadata tables
are never migrated, compared or touched.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from ooi_status.config import settings_or_exit
from ooi_status.db import make_engine
from ooi_status.model.monitor import MonitorBase

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = MonitorBase.metadata


def _settings_and_url():  # type: ignore[no-untyped-def]
    settings = settings_or_exit(config.attributes.get("program", "alembic"))
    url = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    return settings, url or settings.MONITOR_URL


def run_migrations_offline() -> None:
    _, url = _settings_and_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    settings, url = _settings_and_url()
    engine = make_engine(url, settings, pool_size=1)
    try:
        with engine.connect() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


def _run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
