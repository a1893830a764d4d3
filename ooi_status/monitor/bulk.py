"""Bulk writes: many rows, one statement.

On PostgreSQL an INSERT or an UPDATE of many rows is one statement over arrays, one array
per column (``INSERT ... SELECT * FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``): a
round that touches every stream of a 12,000-stream fleet sends one statement, not 12,000 (or
120 pages of them), and the server parses it once. Elsewhere it is an executemany, which
SQLite runs in-process at the same cost. Both write exactly the same values.

Writers name the columns; each array's type is derived from the model's column
(``array_type``), so a column's type is stated once, in ooi_status.model.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Row, String, Table, TypeDecorator, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ooi_status.db import is_postgres

_POSTGRES = postgresql.dialect()


@functools.cache
def array_type(column: Column[Any]) -> str:
    """The PostgreSQL array type of ``column``'s values: its type in the model, as PostgreSQL
    names it (variants and decorated types resolved), with ``[]``.

    A string type loses its length: an explicit cast to ``varchar(n)`` cuts a longer value
    without a word, while the table's own column refuses it, as a single-row write would.
    """
    element = column.type
    if isinstance(element, TypeDecorator):
        element = element.load_dialect_impl(_POSTGRES)
    if isinstance(element, String) and element.length is not None:
        element = element.copy()
        element.length = None
    return f"{element.compile(dialect=_POSTGRES)}[]"


def update_by_id(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    **constants: Any,
) -> None:
    """Set ``columns`` of each row ``(id, value, ...)``, and ``constants`` on all of them, in
    the caller's transaction."""
    if not rows:
        return
    if not is_postgres(session):
        values: dict[str, Any] = {name: bindparam(f"u_{name}") for name in columns}
        values.update(constants)
        keys = ["u_id", *(f"u_{name}" for name in columns)]
        session.execute(
            update(table).where(table.c.id == bindparam("u_id")).values(values),
            [dict(zip(keys, row, strict=True)) for row in rows],
        )
        return
    names = ["id", *columns]
    unnest, params = unnest_columns(table, names, list(zip(*rows, strict=True)))
    params.update({f"k_{name}": value for name, value in constants.items()})
    assignments = [f"{name} = v.{name}" for name in columns]
    assignments += [f"{name} = :k_{name}" for name in constants]
    sql = (
        f"UPDATE {table.name} AS t SET {', '.join(assignments)} "
        f"FROM {unnest} AS v({', '.join(names)}) WHERE t.id = v.id"
    )
    session.execute(text(sql), params)


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Insert ``rows`` (mappings holding every one of ``columns``); the ``returning`` columns of
    each inserted row, in no particular order."""
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
    unnest, params = unnest_columns(table, columns, [[row[name] for row in rows] for name in columns])
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM {unnest}"
    if returning:
        return session.execute(text(f"{sql} RETURNING {', '.join(returning)}"), params).all()
    session.execute(text(sql), params)
    return []


def unnest_columns(
    table: Table, names: Sequence[str], arrays: Sequence[Sequence[Any]]
) -> tuple[str, dict[str, Any]]:
    """``unnest(...)`` of one array per named column, typed as the column, and its parameters
    (JSON documents travel as text, cast by the statement): the row source of a bulk write on
    PostgreSQL, for writers whose statement is their own (an upsert, say)."""
    params: dict[str, Any] = {}
    casts = []
    for i, (name, values) in enumerate(zip(names, arrays, strict=True)):
        column = table.c[name]
        if isinstance(column.type.dialect_impl(_POSTGRES), JSON):
            values = [None if v is None else json.dumps(v, separators=(",", ":")) for v in values]
        params[f"a{i}"] = list(values)
        casts.append(f"CAST(:a{i} AS {array_type(column)})")
    return f"unnest({', '.join(casts)})", params
