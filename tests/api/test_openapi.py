"""/openapi.json describes every route, and only routes that exist."""

import jsonschema_rs
import pytest

from ooi_status.api import openapi

# The description is built from the routes, not read from a database: one backend is enough.
pytestmark = pytest.mark.sqlite_only


def app_routes(app):
    return {
        (openapi.openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def described(document):
    return {(path, method) for path, item in document["paths"].items() for method in item}


def test_every_route_is_described_and_every_described_route_exists(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert described(document) == app_routes(client.application)


def test_availability_and_the_pages_are_described_as_served(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    available = paths["/available/{refdes}"]["get"]
    assert {p["name"] for p in available["parameters"]} == {
        "refdes",
        "method",
        "stream",
        "start_time",
        "stop_time",
        "format",
    }
    assert set(available["responses"]) >= {"200", "304", "400", "401", "403", "404", "405", "503"}
    assert "text/html" in paths["/"]["get"]["responses"]["200"]["content"]


def test_every_operation_describes_405_and_those_reading_a_body_413(client):
    document = client.get("/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert responses["405"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (path, method)
            assert "Allow" in responses["405"]["headers"], (path, method)
            reads_a_body = "requestBody" in operation
            assert ("413" in responses) == reads_a_body, (path, method)
            if reads_a_body:
                assert responses["413"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
    patches = [(path, "patch") for path, item in document["paths"].items() if "patch" in item]
    assert patches == [("/expected/{expected_id}", "patch"), ("/deployed/{deployed_id}", "patch")]


# The web pages are HTML shells open to everyone: their data comes from the JSON routes.
PAGES = ("/", "/ui/instrument/{refdes}", "/ui/notifications", "/ui/reports")


def test_every_operation_documents_its_errors_with_the_error_schema(client):
    document = client.get("/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in ("/health", "/openapi.json", *PAGES):
                continue
            errors = {code for code in operation["responses"] if code.startswith(("4", "5"))}
            assert errors >= {"401", "403"}, (path, method)
            for code in errors:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


def test_every_reference_resolves(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for target in refs(document):
        assert target.removeprefix("#/components/schemas/") in schemas


def test_every_operation_has_a_unique_readable_operation_id_and_a_tag(client):
    document = client.get("/openapi.json").get_json()
    operations = [
        (path, method, op) for path, item in document["paths"].items() for method, op in item.items()
    ]
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)) == len(operations)
    assert all(name.isidentifier() and name[0].islower() for name in ids)
    known_tags = {tag["name"] for tag in document["tags"]}
    assert all(len(op["tags"]) == 1 and op["tags"][0] in known_tags for _, _, op in operations)
    by_id = {op["operationId"]: (path, method) for path, method, op in operations}
    assert by_id["listStreams"] == ("/stream", "get") and by_id["getAvailability"] == (
        "/available/{refdes}",
        "get",
    )


def test_a_route_without_a_listed_name_gets_one_from_its_path():
    assert openapi.operation_id("/report/uptime", "get") == "getReportUptime"
    assert openapi.operation_id("/report/{report_id}", "delete") == "deleteReportByReportId"
    assert openapi.tag("/report/uptime") == "report"


def test_list_operations_describe_304_etag_and_paging(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/stream", "/instrument", "/expected", "/stream/{stream_id}/history"):
        responses = paths[path]["get"]["responses"]
        assert "304" in responses and "ETag" in responses["200"]["headers"], path
    for path in ("/stream", "/instrument"):
        assert {"limit", "offset"} <= {p["name"] for p in paths[path]["get"]["parameters"]}


@pytest.mark.parametrize(
    ("schema", "field", "body"),
    [
        ("Acknowledgement", "note", {}),
        ("DisableMark", "reason", {}),
        ("NewSilence", "reason", {"refdes": "CE01ISSM", "ends_at": "2030-01-01T00:00:00Z"}),
    ],
)
def test_operator_texts_with_a_nul_byte_are_invalid_as_the_api_refuses_them(client, schema, field, body):
    """The API answers 400 for a NUL byte in a stored text; the description says so too, so that a
    client generated from it (or a fuzzer) does not send one as valid."""
    document = client.get("/openapi.json").get_json()
    validator = jsonschema_rs.Draft7Validator(document["components"]["schemas"][schema])
    assert validator.is_valid({**body, field: "cable fault"})
    assert not validator.is_valid({**body, field: "cable\x00fault"})
    if schema == "NewSilence":
        assert not validator.is_valid({**body, field: "   "})
