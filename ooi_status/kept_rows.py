"""A table's rows kept by a long-lived process between reads, each read after the first asking only
for the rows written since the one before (PostgreSQL).

Every row version carries the id of the transaction that wrote it (``xmin``). A version written
after the snapshot S of a read comes from a transaction that was still running when S was taken or
began later, so its id is at least S's xmin (the oldest transaction id running then). The rows
whose xmin is not older than that (``age(xmin) <= age(S's xmin)``: ids compared as PostgreSQL
compares them, modulo 2**32) are therefore every row inserted or updated since S, and a few more,
written by transactions that had already finished: read again, no harm. A deleted row leaves no
version to find: the kept rows then outnumber the table's once the rows read are merged, and the
table is read whole. So it is on the first read, when the previous read is too many transactions
back for ids to compare (its age more than TOO_OLD, or wrapped), or when the rows are read under
other parameters.

Nothing is kept but what a read returned: a write by any process (the monitor, a coverage build
beside it, a person with psql) is found by the next read, and a write rolled back is never seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, text

#: Transactions after which a previous read's snapshot is no longer compared: the table is read
#: whole (ids compare modulo 2**32, so the distance must stay well below 2**31).
TOO_OLD = 1_000_000_000


class KeptRows:
    """The rows of ``table`` matching ``where`` (a condition on its unqualified columns, with the
    read's parameters), as ``key(row) -> value(row)``; ``columns`` starts with the primary key.
    ``aggregates``: expressions over all those rows (``"bool_or(...) AS name"``), read each time
    (``totals``, as of the last read). Reads take turns."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        key: Callable[[Row[Any]], Hashable],
        value: Callable[[Row[Any]], Any],
        where: str = "TRUE",
        aggregates: Sequence[str] = (),
    ) -> None:
        self.key, self.value = key, value
        self.rows: dict[Hashable, Any] = {}
        self.totals: Row[Any] | None = None
        self._ids: dict[Any, Hashable] = {}
        self._since: int | None = None
        self._params: dict[str, Any] | None = None
        self._lock = threading.Lock()
        horizon = "txid_snapshot_xmin(txid_current_snapshot()) AS kept_horizon"
        head = ", ".join(["count(*) AS kept_total", horizon, *aggregates])
        since = "CAST(CAST(:kept_since AS text) AS xid)"
        self._sql = text(
            f"SELECT h.*, {', '.join(f't.{name}' for name in columns)} "
            f"FROM (SELECT {head} FROM {table} WHERE {where}) AS h "
            f"LEFT JOIN {table} AS t ON ({where}) AND (CAST(:kept_since AS bigint) IS NULL "
            f"OR age(t.xmin) <= age({since}) OR age({since}) NOT BETWEEN 0 AND {TOO_OLD})"
        )
        self._id = columns[0]

    def read(self, conn: Any, params: Mapping[str, Any] | None = None) -> dict[Hashable, Any] | None:
        """The rows now, by key, on ``conn`` (a Connection or Session): the dict kept, to be read only
        (a new one when rows changed). None when two rows have one key."""
        params = dict(params or {})
        with self._lock:
            since = self._since if params == self._params else None
            found = self._read(conn, params, since)
            if found is None and since is not None:
                found = self._read(conn, params, None)
            return found

    def _read(self, conn: Any, params: dict[str, Any], since: int | None) -> dict[Hashable, Any] | None:
        result = conn.execute(self._sql, {**params, "kept_since": since}).all()
        totals = result[0]
        changed = [row for row in result if getattr(row, self._id) is not None]
        if since is None:
            rows: dict[Hashable, Any] = {}
            ids: dict[Any, Hashable] = {}
        elif not changed:
            rows, ids = self.rows, self._ids
        else:
            rows, ids = dict(self.rows), dict(self._ids)
        key, value = self.key, self.value
        for row in changed:
            name, row_id = key(row), getattr(row, self._id)
            before = ids.get(row_id)
            if before is not None and before != name:
                rows.pop(before, None)  # the row's key changed
            rows[name] = value(row)
            ids[row_id] = name
        if len(rows) != totals.kept_total or len(ids) != totals.kept_total:
            self._since = None
            return None
        self.rows, self._ids, self.totals = rows, ids, totals
        self._since, self._params = totals.kept_horizon % 2**32, params
        return rows
