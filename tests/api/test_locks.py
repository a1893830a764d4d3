"""A write that meets a deadlock or a serialization failure is tried again, then refused with a 409."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ooi_status.api.errors import Conflict
from ooi_status.api.locks import ATTEMPTS, retried

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def fail_with(session: Session, sqlstate: str) -> None:
    """A real failure of the server with ``sqlstate`` (as a deadlock or a serialization failure has)."""
    session.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'made to fail' USING ERRCODE = '{sqlstate}'; END $$"))


@POSTGRES_ONLY
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_write_that_keeps_failing_is_a_conflict_after_a_few_tries(monitor_db, sqlstate):
    tries = []

    @retried
    def write(session: Session) -> None:
        with session.begin():
            tries.append(1)
            fail_with(session, sqlstate)

    with Session(monitor_db.engine) as session, pytest.raises(Conflict, match="collided"):
        write(session)
    assert len(tries) == ATTEMPTS


@POSTGRES_ONLY
def test_a_write_that_gets_through_on_a_later_try_is_made_once(monitor_db):
    tries = []

    @retried
    def write(session: Session) -> int:
        with session.begin():
            tries.append(1)
            session.execute(text("UPDATE data_revision SET revision = revision + 1"))
            if len(tries) < 3:
                fail_with(session, "40P01")
        return len(tries)

    with Session(monitor_db.engine) as session:
        assert write(session) == 3
    with monitor_db.engine.connect() as conn:
        assert conn.scalar(text("SELECT revision FROM data_revision")) == 2  # 1 + the one try that committed


@POSTGRES_ONLY
def test_other_failures_are_not_tried_again(monitor_db):
    tries = []

    @retried
    def write(session: Session) -> None:
        with session.begin():
            tries.append(1)
            fail_with(session, "22003")  # numeric value out of range

    with Session(monitor_db.engine) as session, pytest.raises(DBAPIError):
        write(session)
    assert len(tries) == 1
