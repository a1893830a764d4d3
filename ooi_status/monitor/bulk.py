"""Bulk writes of the check round: many rows, one statement.

On PostgreSQL an INSERT or an UPDATE of many rows is one statement over arrays, one array
per column (``INSERT ... SELECT * FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``): a
round that touches every stream of a 12,000-stream fleet sends one statement, not 12,000 (or
120 pages of them), and the server parses it once. Elsewhere it is an executemany, which
SQLite runs in-process at the same cost. Both write exactly the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, text, update
from sqlalchemy.orm import Session

from ooi_status.db import is_postgres


def update_by_id(
    session: Session,
    table: Table,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    **constants: Any,
) -> None:
    """Set ``columns`` (name, PostgreSQL type) of each row ``(id, value, ...)``, and ``constants``
    on all of them, in the caller's transaction."""
    if not rows:
        return
    if is_postgres(session):
        _update_unnest(session, table, columns, rows, constants)
    else:
        names = [name for name, _ in columns]
        values: dict[str, Any] = {name: bindparam(f"u_{name}") for name in names}
        values.update(constants)
        statement = update(table).where(table.c.id == bindparam("u_id")).values(values)
        keys = ["u_id", *(f"u_{name}" for name in names)]
        session.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])


def _update_unnest(
    session: Session,
    table: Table,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    constants: dict[str, Any],
) -> None:
    arrays = list(zip(*rows, strict=True))
    params: dict[str, Any] = {f"a{i}": list(values) for i, values in enumerate(arrays)}
    params.update({f"k_{name}": value for name, value in constants.items()})
    unnest = ", ".join(
        f"CAST(:a{i} AS {kind}[])" for i, (_, kind) in enumerate([("id", "integer"), *columns])
    )
    names = ", ".join(["id", *(name for name, _ in columns)])
    assignments = [f"{name} = v.{name}" for name, _ in columns]
    assignments += [f"{name} = :k_{name}" for name in constants]
    statement = (
        f"UPDATE {table.name} AS t SET {', '.join(assignments)} "
        f"FROM unnest({unnest}) AS v({names}) WHERE t.id = v.id"
    )
    session.execute(text(statement), params)


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[dict[str, Any]],
    returning: Sequence[str] = (),
) -> Sequence[Row[Any]]:
    """Insert ``rows`` (dicts holding every one of ``columns``: name, PostgreSQL type); the
    ``returning`` columns of each inserted row, in no particular order."""
    if not rows:
        return []
    if not is_postgres(session):
        statement = insert(table)
        if returning:
            return session.execute(
                statement.returning(*(table.c[name] for name in returning)), list(rows)
            ).all()
        session.execute(statement, list(rows))
        return []
    params = {f"a{i}": [_pg_value(row[name], kind) for row in rows] for i, (name, kind) in enumerate(columns)}
    unnest = ", ".join(f"CAST(:a{i} AS {kind}[])" for i, (_, kind) in enumerate(columns))
    statement = (
        f"INSERT INTO {table.name} ({', '.join(name for name, _ in columns)}) SELECT * FROM unnest({unnest})"
    )
    if returning:
        return session.execute(text(f"{statement} RETURNING {', '.join(returning)}"), params).all()
    session.execute(text(statement), params)
    return []


def _pg_value(value: Any, kind: str) -> Any:
    """JSON documents travel as text, cast to jsonb by the statement."""
    if kind == "jsonb" and value is not None:
        return json.dumps(value, separators=(",", ":"))
    return value
