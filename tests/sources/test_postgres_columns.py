"""On PostgreSQL the bins come packed and are decoded into columns (BinTable) that the rules take as
arrays: the rows are those of the plain row-by-row read, and the spans those of the Python rules
over the rows one by one, over the property tests' inputs (copies in a second store included)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_availability_columns import OTHER_RULES, crowded
from test_availability_properties import scenarios
from test_postgres_summary import KEY, REFDES, write_bins

from ooi_status.availability.engine import stream_spans
from ooi_status.sources.base import split_refdes
from ooi_status.sources.columns import BinTable
from ooi_status.sources.postgres import PostgresStreamSource, _row_bins

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_metadata(empty_metadata_db):  # type: ignore[no-untyped-def]
    return empty_metadata_db


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    scenario=scenarios() | crowded(),
    rules=st.sampled_from(OTHER_RULES),
    copies=st.sets(st.integers(0, 60), max_size=5),
    shuffled=st.booleans(),
)
def test_packed_columns_and_rows_read_one_by_one_give_identical_spans(
    pg_metadata, scenario, rules, copies, shuffled
):
    bins, deployments, window = scenario
    write_bins(pg_metadata.engine, bins, copies, shuffled)
    read = PostgresStreamSource(pg_metadata.engine).bins(REFDES, [KEY], window.start, window.stop)
    parts = split_refdes(REFDES)
    assert parts is not None
    with pg_metadata.engine.connect() as conn:
        rows = _row_bins(conn, parts, [KEY], window.start, window.stop).get(KEY, [])
    table = read.get(KEY)
    assert table is None or isinstance(table, BinTable)
    assert list(table or []) == list(rows)
    expected = stream_spans(list(rows), deployments, window, rules)
    assert stream_spans(table if table is not None else [], deployments, window, rules) == expected
    if not copies:
        assert expected == stream_spans(bins, deployments, window, rules)
