"""BinTable: the PostgreSQL reader's packed rows decoded into columns, still a sequence of BinRow."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ooi_status.availability.engine import BinColumns
from ooi_status.sources.base import BinRow
from ooi_status.sources.columns import BinTable

ROW = struct.Struct(">qqdd")  # int8send(bin) || int8send(count) || float8send(first) || float8send(last)


def packed(rows: list[BinRow]) -> bytes:
    return b"".join(ROW.pack(*row) for row in rows)


def row(k: int, count: int = 10, shift: float = 0.0) -> BinRow:
    return BinRow(
        3_700_000_000 + k * 86_400, count, 3_700_000_010.0 + k * 86_400 + shift, 3_700_086_390.0 + k * 86_400
    )


def test_one_store_in_bin_order_whatever_order_the_rows_came_in():
    rows = [row(k) for k in (3, 0, 2, 1)]
    table = BinTable.from_packed({"cass": packed(rows)})
    assert list(table) == sorted(rows)
    assert len(table) == 4 and table[0] == row(0) and table[-1] == row(3)


def test_a_bin_in_several_stores_counts_once_with_the_first_store_by_name():
    cass = [row(0), row(1), row(2)]
    san = [row(1, 99, 5.0), row(4, 7)]  # bin 1 also in "cass", bin 4 only here
    aaa = [row(2, 55)]
    table = BinTable.from_packed({"san": memoryview(packed(san)), "cass": packed(cass), "aaa": packed(aaa)})
    assert list(table) == [row(0), row(1), row(2, 55), row(4, 7)]


def test_rows_hold_python_numbers_and_the_columns_native_arrays():
    table = BinTable.from_packed({"cass": packed([row(0, 2**62), row(1, -1)])})
    first = table[0]
    assert isinstance(first, BinRow)
    assert [type(value) for value in first] == [int, int, float, float]
    assert first.points == 2**62 and table[1].points == -1
    assert isinstance(table, BinColumns)
    for column, dtype in ((table.bins, np.int64), (table.counts, np.int64), (table.firsts, np.float64)):
        assert column.dtype == dtype and column.dtype.isnative


def test_slices_are_tables_and_iteration_agrees_with_indexing():
    rows = [row(k, k) for k in range(6)]
    table = BinTable.from_rows(rows)
    part = table[1:5:2]
    assert isinstance(part, BinTable) and list(part) == rows[1:5:2]
    assert [table[i] for i in range(len(table))] == list(table) == rows
    assert list(reversed(table)) == rows[::-1] and row(3, 3) in table
    assert repr(BinTable.from_rows(rows[:1])) == f"BinTable([{rows[0]!r}])"
    with pytest.raises(IndexError):
        table[6]
    with pytest.raises(ValueError, match="one entry per bin"):
        BinTable(np.zeros(2, dtype=np.int64), np.zeros(3, dtype=np.int64), np.zeros(3), np.zeros(3))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["cass", "san", "aaa"]),
        st.lists(
            st.tuples(
                st.integers(-(2**40), 2**40),
                st.integers(-(2**63), 2**63 - 1),
                st.floats(allow_nan=False),
                st.floats(allow_nan=False),
            ),
            unique_by=lambda r: r[0],
            max_size=30,
        ),
        min_size=1,
    )
)
def test_decoding_is_exact_and_keeps_the_first_store_by_name(stores):
    table = BinTable.from_packed(
        {store: packed([BinRow(*r) for r in rows]) for store, rows in stores.items()}
    )
    expected: dict[int, BinRow] = {}
    for store in sorted(stores):
        for r in stores[store]:
            expected.setdefault(r[0], BinRow(*r))
    assert list(table) == sorted(expected.values(), key=lambda r: r.bin)
