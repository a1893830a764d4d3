"""What every benchmark shares: the PostgreSQL server it builds on and scratch databases there."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_databases(server_url: str, *roles: str) -> Iterator[dict[str, str]]:
    """Fresh databases on the server, one per role (URL by role), dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = {role: f"ooistatus_bench_{suffix}_{role}" for role in roles}
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        base = make_url(server_url)
        yield {
            role: base.set(database=name).render_as_string(hide_password=False)
            for role, name in names.items()
        }
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """One fresh database on the server, dropped afterwards."""
    with postgres_databases(server_url, "db") as urls:
        yield urls["db"]


def analyze(engine: Engine) -> None:
    """Planner statistics, as autovacuum (or a scheduled ANALYZE) keeps them in production."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """--backend and --postgres, as every scenario that runs on both databases takes them."""
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="server URL (databases are created on it)"
    )


def backends(args: argparse.Namespace) -> list[str]:
    return ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
