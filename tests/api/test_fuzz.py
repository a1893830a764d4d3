"""Schemathesis against /openapi.json, in-process (WSGI): no 5xx, every response as documented.

Bounded: 20 examples per operation and mode (schema-valid input, then schema-invalid input),
no deadline. Writes carry the valid key, so the checks see accepted changes as well as
refusals. The metadata database holds a small demo observatory (6 instruments, 120 days), and
/available is also driven with its real reference designators, so that its timelines (every
format, filters, windows) are checked, not only its 404s. (Schemathesis's lazy pytest-fixture
loader does not run under this pytest, so each operation's strategy is driven by Hypothesis
directly.)
"""

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from sqlalchemy.orm import Session

from api import factories
from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.api.availability import FORMATS
from ooi_status.times import utcnow

EXAMPLES_PER_OPERATION = 20
# Rules that no schema can state, so a schema-valid request may rightly get a 400: a PATCH body's
# "id" must equal the URL's id; the start_time of /available, of /instrument/{refdes}/port and of
# the reports must come before its stop_time (a report takes window or start_time/stop_time, not
# both); a silence must name a known site, node or instrument and end after now, and a timed
# disable must end after now. Every other check runs on those, and all of them elsewhere.
CROSS_FIELD_EXCLUDED = [schemathesis.checks.positive_data_acceptance]
AVAILABLE = "/available/{refdes}"
PORT = "/instrument/{refdes}/port"
REPORTS = "/report/"
NOW_RELATIVE = ("/silence", "/stream/{stream_id}/disable", "/instrument/{refdes}/disable")


def run_strategy(strategy, headers, excluded, statuses=None):
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        if statuses is not None:
            statuses[response.status_code] += 1

    check()


def run_operation(operation, mode, headers, excluded):
    try:
        run_strategy(operation.as_strategy(mode), headers, excluded)
    except Unsatisfiable:
        # An operation without parameters or body has no schema-invalid input to send.
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


def real_availability_cases(operation, observatory):
    """/available of the observatory's instruments, with any mix of the optional arguments (the
    tests' clock is 2026-11-23 12:00; the observatory's history starts 120 days before)."""
    streams = observatory.streams
    optional = {
        "format": st.sampled_from(FORMATS),
        "method": st.sampled_from(sorted({row["method"] for row in streams})),
        "stream": st.sampled_from(sorted({row["stream"] for row in streams})),
        "start_time": st.sampled_from(["2026-08-01", "2026-10-15T06:00:00Z", "2026-11-20"]),
        "stop_time": st.sampled_from(["2026-11-01T00:00:00", "2026-11-23"]),
    }
    return st.builds(
        lambda refdes, query: operation.Case(path_parameters={"refdes": refdes}, query=query),
        st.sampled_from(observatory.refdes_list()),
        st.fixed_dictionaries({}, optional=optional),
    )


def test_api_conforms_to_its_description(api_settings, fleet, write_key, monitor_db, empty_metadata_db, now):
    # A fresh heartbeat: /health answers 200 (its 503 is the documented "unhealthy", tested elsewhere).
    with Session(monitor_db.engine) as session, session.begin():
        factories.heartbeat(session, utcnow())
    observatory = demo.demo_observatory(now, instruments=6, history_days=120)
    demo.write_observatory(empty_metadata_db.engine, observatory)
    app = create_app(api_settings, TESTING=True, CLOCK=lambda: now)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    valid = {"X-API-Key": write_key, "Authorization": f"Bearer {write_key}"}
    # Schemathesis's WSGI transport does not decompress: bodies are checked uncompressed (the
    # compressed ones are tested to decompress to exactly these, tests/api/test_answers.py).
    plain = {"Accept-Encoding": "identity"}
    for operation in operations:
        method = operation.method.upper()
        writes_silences = method in ("POST", "DELETE") and operation.path.startswith("/silence")
        headers = {**valid, **plain} if method in ("PATCH", "PUT") or writes_silences else plain
        path = operation.path
        cross_field = (
            method == "PATCH" or path in (AVAILABLE, PORT, *NOW_RELATIVE) or path.startswith(REPORTS)
        )
        excluded = CROSS_FIELD_EXCLUDED if cross_field else None
        for mode in schemathesis.GenerationMode:
            run_operation(operation, mode, headers, excluded)
    available = next(operation for operation in operations if operation.path == AVAILABLE)
    statuses: Counter[int] = Counter()
    run_strategy(real_availability_cases(available, observatory), plain, CROSS_FIELD_EXCLUDED, statuses)
    assert statuses[200] > 0, statuses
    with app.app_context():
        current_databases().dispose()
