"""Schemathesis against /openapi.json, in-process (WSGI): no 5xx, every response as documented.

Bounded: 20 examples per operation and mode (schema-valid input, then schema-invalid input),
no deadline. Writes carry the valid key, so the checks see accepted changes as well as
refusals. (Schemathesis's lazy pytest-fixture loader does not run under this pytest, so each
operation's strategy is driven by Hypothesis directly.)
"""

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from sqlalchemy.orm import Session

from api import factories
from ooi_status.api import create_app
from ooi_status.times import utcnow

EXAMPLES_PER_OPERATION = 20
# Two rules across two places that no schema can state, so a schema-valid request may rightly get a
# 400: a PATCH body's "id" must equal the URL's id, and /available's start_time must come before its
# stop_time. Every other check runs on those two, and all of them elsewhere.
CROSS_FIELD_EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def run_operation(operation, mode, headers, excluded):
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        # An operation without parameters or body has no schema-invalid input to send.
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


def test_api_conforms_to_its_description(api_settings, fleet, write_key, monitor_db):
    # A fresh heartbeat: /health answers 200 (its 503 is the documented "unhealthy", tested elsewhere).
    with Session(monitor_db.engine) as session, session.begin():
        factories.heartbeat(session, utcnow())
    app = create_app(api_settings, TESTING=True)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    valid = {"X-API-Key": write_key, "Authorization": f"Bearer {write_key}"}
    for operation in operations:
        method = operation.method.upper()
        headers = valid if method in ("PATCH", "PUT") else None
        cross_field = method == "PATCH" or operation.path == "/available/{refdes}"
        excluded = CROSS_FIELD_EXCLUDED if cross_field else None
        for mode in schemathesis.GenerationMode:
            run_operation(operation, mode, headers, excluded)
