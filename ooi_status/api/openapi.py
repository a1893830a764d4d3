"""/openapi.json: an OpenAPI 3 description of every route of the API.

``PATHS`` describes every route the app serves, the JSON API of API.md and the web pages;
a test proves that every route of the app is described and every described one is routed.
Every operation lists the errors it can answer with, each in the Error schema: 405 on every
operation (OpenAPI has no per-path responses: it is what another method on the same path
gets, with an Allow header), 413 on those that read a request body.
"""

from __future__ import annotations

import re
from typing import Any

from ooi_status import __version__
from ooi_status.api.context import MAX_BODY_BYTES
from ooi_status.api.openapi_schemas import ID, SCHEMAS, STATUS_ENUM, ref

JSON = "application/json"
ERRORS = {
    "400": "bad input: the message names the parameter or field",
    "401": "no API key sent (writes, and reads when keys are required for reads)",
    "403": "the API key is not a configured one, or no key is configured",
    "404": "no such object",
    "405": "a method this path does not serve; the message and the Allow header name those it does",
    "413": f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB",
    "409": "the change conflicts with what the database holds, or lost a deadlock or serialization "
    "failure to concurrent writes on each of its tries; nothing was changed",
    "503": "a database or the stream metadata source is unreachable, or a SQLite database stayed "
    "locked by another process past SQLITE_BUSY_TIMEOUT (the message says which); try again shortly",
}
ALLOW_HEADER = {"Allow": {"description": "the methods this path serves", "schema": {"type": "string"}}}
READ_SECURITY: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"apiKey": []}]
WRITE_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    """The error responses ``codes``, and 405 (any path answers it to the methods it does not serve)."""
    responses = {code: _json(ref("Error"), ERRORS[code]) for code in sorted({*codes, "405"})}
    responses["405"]["headers"] = ALLOW_HEADER
    return responses


#: Text parameters: anything but a NUL byte (refused with a 400 before it reaches a database).
TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}
#: An empty query value (``offset=``): the parameter counts as absent.
EMPTY = {"type": "string", "enum": [""]}
# SUBSITE-NODE-SENSOR, each part 1 to 16 characters; SENSOR may itself contain dashes.
REFDES_TEXT = {"type": "string", "pattern": "^[^-\\u0000]{1,16}-[^-\\u0000]{1,16}-[^\\u0000]{1,16}$"}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or TEXT,
    }


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema or ID}


def _read(summary: str, ok: dict[str, Any], params: list[dict[str, Any]], *errors: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": params,
        "security": READ_SECURITY,
        "responses": {"200": ok, **_errors("400", "401", "403", *errors, "503")},
    }


def _write(
    summary: str, ok: dict[str, Any], params: list[dict[str, Any]], body: str | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": params,
        "security": WRITE_SECURITY,
        "responses": {"200": ok, **_errors("400", "401", "403", "404", "409", "503")},
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
        operation["responses"]["413"] = _json(ref("Error"), ERRORS["413"])
    return operation


def _paging(what: str) -> list[dict[str, Any]]:
    return [
        _query(
            "limit",
            f"{what} per page (1-1000; absent or empty: 100, or no paging when offset is absent too)",
            anyOf=[{"type": "integer", "minimum": 1, "maximum": 1000}, EMPTY],
        ),
        _query(
            "offset",
            f"{what} to skip (absent or empty: 0)",
            anyOf=[{"type": "integer", "minimum": 0, "maximum": 2147483647}, EMPTY],
        ),
    ]


ETAG_HEADERS = {
    "ETag": {"description": "weak validator: data revision and query", "schema": {"type": "string"}},
    "Vary": {"description": "Accept-Encoding", "schema": {"type": "string"}},
}


def _list(summary: str, ok: dict[str, Any], params: list[dict[str, Any]], *errors: str) -> dict[str, Any]:
    """A list answered by data revision: ETag, 304 to a matching If-None-Match, gzip when accepted."""
    operation = _read(summary, {**ok, "headers": ETAG_HEADERS}, params, *errors)
    operation["responses"]["304"] = {"description": "not modified: If-None-Match matched the ETag"}
    return operation


def _created(summary: str, ok: dict[str, Any], params: list[dict[str, Any]], body: str) -> dict[str, Any]:
    operation = _write(summary, ok, params, body)
    operation["responses"] = {
        "201": ok,
        **{k: v for k, v in operation["responses"].items() if k not in ("200", "404")},
    }
    return operation


SUBSCRIPTION_ID = _path("subscription_id", "subscription id")
SUBSTRING = "case-insensitive substring of the {}"
STREAM_FILTERS = [
    _query("refdes", SUBSTRING.format("reference designator")),
    _query("method", SUBSTRING.format("delivery method")),
    _query("stream", SUBSTRING.format("stream name")),
]
STATUS_FILTER = "status of the {}, in any case: " + ", ".join(STATUS_ENUM) + " (empty: no filter)"


def any_case(values: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """An enumeration as the API takes every one (case-insensitive; empty: absent): a pattern."""
    spellings = (
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in v) for v in values
    )
    return {"type": "string", "pattern": "^(" + "|".join(spellings) + ")?$"}


STATUS_SCHEMA = any_case(STATUS_ENUM)
EXPECTED_ID = _path("expected_id", "expected stream id")
DEPLOYED_ID = _path("deployed_id", "deployed stream id")
STREAM_ID = _path("stream_id", "deployed stream id")
REFDES_ID = _path("refdes_id", "instrument id (reference_designator_id)")
REFDES = _path("refdes", "reference designator, or the instrument's numeric id", TEXT)
DEPLOYED = _json(ref("DeployedStream"), "the deployed stream")
INSTRUMENT = _json(ref("Instrument"), "the instrument after the change")

AVAILABLE = {
    "summary": "Availability timeline of one instrument (visavail.js layout, or CSV/TSV/SVG)",
    "parameters": [
        _path("refdes", "reference designator SUBSITE-NODE-SENSOR", REFDES_TEXT),
        _query("method", "delivery method, exact; default every method not starting with 'bad'"),
        _query("stream", "stream name, exact"),
        _query("start_time", "start of the window, ISO 8601", format="date-time", type="string"),
        _query(
            "stop_time", "end of the window, ISO 8601 (clamped to now)", format="date-time", type="string"
        ),
        _query("format", "response format", type="string", enum=["json", "csv", "tsv", "svg"]),
    ],
    "security": READ_SECURITY,
    "responses": {
        "200": {
            "description": "the timeline; ETag and Cache-Control set",
            "content": {
                JSON: {"schema": ref("Availability")},
                "text/csv": {"schema": {"type": "string"}},
                "text/tab-separated-values": {"schema": {"type": "string"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        "304": {"description": "not modified (If-None-Match matched the ETag)"},
        **_errors("400", "401", "403", "404", "503"),
    },
}

# --- reports ---------------------------------------------------------------------------------
CSV = {"text/csv": {"schema": {"type": "string"}}}
DATE_TIME = {"type": "string", "format": "date-time"}
REPORT_START = _query("start_time", "start of the window, ISO 8601 UTC", anyOf=[DATE_TIME, EMPTY])
REPORT_STOP = _query(
    "stop_time",
    "end of the window, ISO 8601 UTC (default and at most now)",
    anyOf=[DATE_TIME, EMPTY],
)
REPORT_FORMAT = _query("format", "json (default) or csv; case-insensitive", type="string")
UPTIME = _read(
    "Uptime: time in each status per stream, instrument, node or site over a window",
    {
        "description": "seconds in each status and the uptime percentage, ordered by name",
        "content": {JSON: {"schema": ref("UptimeReport")}, **CSV},
    },
    [
        _query("window", "1d, 7d (default) or 30d ending now; case-insensitive; not with start_time",
               type="string"),
        REPORT_START,
        REPORT_STOP,
        _query("group", "stream, instrument (default), node or site; case-insensitive", type="string"),
        REPORT_FORMAT,
    ],
)  # fmt: skip

COVERAGE = _read(
    "Data coverage: seconds Present, Sparsity Level 1-3, Missing and Not Expected per month or deployment",
    {
        "description": "per stream, instrument or site and month or deployment, from the coverage table",
        "content": {JSON: {"schema": ref("CoverageReport")}, **CSV},
    },
    [
        _query("group", "stream, instrument (default) or site; case-insensitive", type="string"),
        _query("by", "month (default) or deployment; case-insensitive", type="string"),
        _query("start_time", "start, ISO 8601 UTC (by month default: 11 months before this one)",
               anyOf=[DATE_TIME, EMPTY]),
        REPORT_STOP,
        REPORT_FORMAT,
    ],
)  # fmt: skip

PATHS: dict[str, dict[str, Any]] = {
    "/": {
        "get": {
            "summary": "Web page: instruments and streams by status, availability timelines",
            "responses": {
                "200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **_errors(),
            },
        }
    },
    "/ui/notifications": {
        "get": {
            "summary": "Web page: e-mail and chat subscriptions (managed with the operator key)",
            "responses": {
                "200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **_errors(),
            },
        }
    },
    "/ui/instrument/{refdes}": {
        "get": {
            "summary": "Web page of one instrument: its streams, availability timeline and status history",
            "parameters": [_path("refdes", "reference designator SUBSITE-NODE-SENSOR", REFDES_TEXT)],
            "responses": {
                "200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **_errors("400"),
                "404": {
                    "description": "unknown or malformed refdes: an HTML page, or the JSON error when "
                    "the client prefers application/json",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        JSON: {"schema": ref("Error")},
                    },
                },
            },
        }
    },
    "/ui/reports": {
        "get": {
            "summary": "Web page: coverage heatmap by month and uptime table of the fleet",
            "responses": {
                "200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                **_errors(),
            },
        }
    },
    "/available/{refdes}": {"get": AVAILABLE},
    "/report/uptime": {"get": UPTIME},
    "/report/coverage": {"get": COVERAGE},
    "/expected": {
        "get": _list(
            "Expected streams (defaults per stream name and method)",
            _json(ref("ExpectedStreamList"), "expected streams by id"),
            [
                _query("method", SUBSTRING.format("delivery method")),
                _query("stream", SUBSTRING.format("stream name")),
            ],
        )
    },
    "/expected/{expected_id}": {
        "get": _read(
            "One expected stream", _json(ref("ExpectedStream"), "the expected stream"), [EXPECTED_ID], "404"
        ),
        "patch": _write(
            "Change an expected stream's rate and intervals (all or nothing)",
            _json(ref("ExpectedStream"), "the expected stream after the change"),
            [EXPECTED_ID],
            "ExpectedStreamPatch",
        ),
    },
    "/deployed/{deployed_id}": {
        "get": _read("One deployed stream", DEPLOYED, [DEPLOYED_ID], "404"),
        "patch": _write(
            "Set (or clear with null) a deployed stream's overrides (all or nothing)",
            DEPLOYED,
            [DEPLOYED_ID],
            "DeployedStreamPatch",
        ),
    },
    "/stream": {
        "get": _list(
            "Status of deployed streams",
            _json({"anyOf": [ref("StreamList"), ref("StreamPage")]}, "matching deployed streams by id"),
            [
                *STREAM_FILTERS,
                _query("status", STATUS_FILTER.format("stream"), **STATUS_SCHEMA),
                *_paging("streams"),
            ],
        )
    },
    "/stream/{stream_id}": {"get": _read("Status of one deployed stream", DEPLOYED, [STREAM_ID], "404")},
    "/stream/{stream_id}/disable": {
        "put": _write("Stop tracking a stream (all three overrides 0)", DEPLOYED, [STREAM_ID])
    },
    "/stream/{stream_id}/enable": {
        "put": _write("Track a stream again (overrides cleared)", DEPLOYED, [STREAM_ID])
    },
    "/stream/{stream_id}/history": {
        "get": _list(
            "Status changes of one stream, newest first, by pages",
            _json(ref("StatusHistory"), "one page"),
            [
                STREAM_ID,
                _query(
                    "limit",
                    "entries per page (1-1000; absent or empty: 100)",
                    anyOf=[{"type": "integer", "minimum": 1, "maximum": 1000}, EMPTY],
                ),
                _query(
                    "offset",
                    "entries to skip (absent or empty: 0)",
                    anyOf=[{"type": "integer", "minimum": 0, "maximum": 2147483647}, EMPTY],
                ),
            ],
            "404",
        )
    },
    "/instrument": {
        "get": _list(
            "Streams grouped by instrument with the rollup status",
            _json(
                {"anyOf": [ref("InstrumentMap"), ref("InstrumentPage")]},
                "instruments by reference designator",
            ),
            [
                *STREAM_FILTERS,
                _query("status", STATUS_FILTER.format("instrument (rollup)"), **STATUS_SCHEMA),
                *_paging("instruments"),
            ],
        )
    },
    "/instrument/{refdes_id}": {
        "get": _read(
            "One instrument and all its streams",
            _json(ref("Instrument"), "the instrument"),
            [REFDES_ID],
            "404",
        )
    },
    "/instrument/{refdes}/disable": {
        "put": _write("Stop tracking every stream of an instrument", INSTRUMENT, [REFDES])
    },
    "/instrument/{refdes}/enable": {
        "put": _write("Track every stream of an instrument again", INSTRUMENT, [REFDES])
    },
    # --- notifications for people (all need the write key: addresses and webhook URLs) ---
    "/subscription": {
        "get": {
            **_write("Every subscription", _json(ref("SubscriptionList"), "subscriptions by id"), []),
        },
        "post": _created(
            "Subscribe an e-mail address or a chat webhook to status changes and/or daily digests",
            _json(ref("Subscription"), "the new subscription"),
            [],
            "NewSubscription",
        ),
    },
    "/subscription/{subscription_id}": {
        "delete": {
            **_write("Remove a subscription", {"description": "removed"}, [SUBSCRIPTION_ID]),
            "responses": {
                "204": {"description": "removed"},
                **_errors("401", "403", "404", "503"),
            },
        }
    },
    "/subscription/{subscription_id}/test": {
        "post": {
            **_write("Queue a test message for a subscription", {}, [SUBSCRIPTION_ID]),
            "responses": {
                "202": _json(ref("TestSend"), "queued: the monitor's next delivery round sends it"),
                **_errors("401", "403", "404", "503"),
            },
        }
    },
    "/instrument/{refdes}/port": {
        "get": {
            "summary": "Port-agent byte counts of one instrument (raw within 7 days, hourly beyond)",
            "parameters": [
                _path("refdes", "reference designator, or the instrument's numeric id", TEXT),
                _query(
                    "start_time",
                    "start of the window, ISO 8601 (default: 24 hours before stop_time)",
                    format="date-time",
                    type="string",
                ),  # fmt: skip
                _query(
                    "stop_time",
                    "end of the window, ISO 8601 (default: now)",
                    format="date-time",
                    type="string",
                ),
                _query("format", "response format", type="string", enum=["json", "csv"]),
            ],
            "security": READ_SECURITY,
            "responses": {
                "200": {
                    "description": "one row per stored count; CSV: one header line "
                    "time,bytes,seconds,bytes_per_second",
                    "content": {
                        JSON: {"schema": ref("PortCounts")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **_errors("400", "401", "403", "404", "503"),
            },
        }
    },
    "/health": {
        "get": {
            "summary": "Both databases answer and the monitor's check round is recent",
            "responses": {
                "200": _json(ref("Health"), "healthy"),
                "503": _json(ref("Health"), "unhealthy: see checks"),
                **_errors(),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus text exposition",
            "security": READ_SECURITY,
            "responses": {
                "200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
                **_errors("401", "403"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3 document",
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                **_errors(),
            },
        }
    },
}

#: Names a generated client gives the operations; a route not listed gets one made from its path.
OPERATION_IDS = {
    ("/", "get"): "getFleetPage",
    ("/ui/instrument/{refdes}", "get"): "getInstrumentPage",
    ("/available/{refdes}", "get"): "getAvailability",
    ("/expected", "get"): "listExpectedStreams",
    ("/expected/{expected_id}", "get"): "getExpectedStream",
    ("/expected/{expected_id}", "patch"): "updateExpectedStream",
    ("/deployed/{deployed_id}", "get"): "getDeployedStream",
    ("/deployed/{deployed_id}", "patch"): "updateDeployedStream",
    ("/stream", "get"): "listStreams",
    ("/stream/{stream_id}", "get"): "getStream",
    ("/stream/{stream_id}/disable", "put"): "disableStream",
    ("/stream/{stream_id}/enable", "put"): "enableStream",
    ("/stream/{stream_id}/history", "get"): "getStreamHistory",
    ("/instrument", "get"): "listInstruments",
    ("/instrument/{refdes_id}", "get"): "getInstrument",
    ("/instrument/{refdes}/disable", "put"): "disableInstrument",
    ("/instrument/{refdes}/enable", "put"): "enableInstrument",
    ("/health", "get"): "getHealth",
    ("/metrics", "get"): "getMetrics",
    ("/openapi.json", "get"): "getOpenApiDocument",
    ("/silence", "get"): "listSilences",
    ("/silence", "post"): "createSilence",
    ("/silence/{silence_id}", "delete"): "endSilence",
    ("/ui/notifications", "get"): "getNotificationsPage",
    ("/subscription", "get"): "listSubscriptions",
    ("/subscription", "post"): "createSubscription",
    ("/subscription/{subscription_id}", "delete"): "deleteSubscription",
    ("/subscription/{subscription_id}/test", "post"): "testSubscription",
}
#: Tags by first path segment; any other segment is its own tag.
TAGS = {
    "": "pages",
    "ui": "pages",
    "available": "availability",
    "expected": "expected streams",
    "deployed": "deployed streams",
    "stream": "streams",
    "instrument": "instruments",
    "health": "operations",
    "metrics": "operations",
    "openapi.json": "operations",
    "silence": "silences",
    "subscription": "subscriptions",
}
TAG_DESCRIPTIONS = {
    "pages": "The web page for people",
    "availability": "Data-availability timelines from bin metadata",
    "expected streams": "Default rate and intervals per stream name and method",
    "deployed streams": "One stream of one instrument, with its overrides",
    "streams": "Status of deployed streams",
    "instruments": "Streams grouped by instrument, with the rollup status",
    "operations": "Health, metrics and this document",
    "silences": "Silences and maintenance windows",
    "subscriptions": "E-mail and chat notifications for people",
}


def operation_id(path: str, method: str) -> str:
    """The listed name, else one made from the method and the path: ``get /report/uptime`` →
    ``getReportUptime``, ``delete /silence/{id}`` → ``deleteSilenceById``."""
    if (path, method) in OPERATION_IDS:
        return OPERATION_IDS[(path, method)]
    words = []
    for part in path.strip("/").split("/"):
        if part.startswith("{"):
            words.append("By" + part.strip("{}").title().replace("_", ""))
        elif part:
            words.append(re.sub(r"[^A-Za-z0-9]+", " ", part).title().replace(" ", ""))
    return method.lower() + "".join(words)


def tag(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return TAGS.get(first, first)


def _tags(paths: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Every tag in use, described (a tag of a route not in TAGS is named after its first segment)."""
    used = {tag(path) for path in paths}
    names = [name for name in TAG_DESCRIPTIONS if name in used] + sorted(used - TAG_DESCRIPTIONS.keys())
    return [{"name": name, "description": TAG_DESCRIPTIONS.get(name, name)} for name in names]


def _named(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The paths with an operationId and a tag on every operation."""
    return {
        path: {
            method: {"operationId": operation_id(path, method), "tags": [tag(path)], **operation}
            for method, operation in item.items()
        }
        for path, item in paths.items()
    }


_RULE_ARG = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/stream/<id:stream_id>`` → ``/stream/{stream_id}``."""
    return _RULE_ARG.sub(r"{\1}", rule)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ooi_status",
            "version": __version__,
            "description": "Data-ingest status and data availability of the Ocean Observatories Initiative. "
            'Every error is JSON: {"error": code, "message": text}. Writes need an API key; '
            "reads too when the server requires it.",
        },
        "tags": _tags(PATHS),
        "paths": _named(PATHS),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


# --- silences and maintenance windows ------------------------------------------------------------

SILENCE_ID = _path("silence_id", "silence id")
SILENCE = _json(ref("Silence"), "the silence")
SILENCED_FILTER = _query(
    "silenced",
    "true: only silenced; false: only not silenced (empty: no filter)",
    **any_case(["true", "false"]),
)
for _listing in ("/stream", "/instrument"):
    PATHS[_listing]["get"]["parameters"].append(SILENCED_FILTER)

_create_silence = _write("Silence streams for a time: a maintenance window", SILENCE, [], "NewSilence")
_create_silence["responses"]["201"] = _create_silence["responses"].pop("200")
_create_silence["responses"]["201"]["description"] = "the silence created, with its id"
_end_silence = _write("End a silence now (the row is kept for audit)", SILENCE, [SILENCE_ID])
_end_silence["responses"]["409"] = _json(ref("Error"), "the silence is already over")
PATHS["/silence"] = {
    "get": _read(
        "Active and upcoming silences (with all=true, ended ones too)",
        _json(ref("SilenceList"), "silences by start"),
        [_query("all", "true: include ended silences", **any_case(["true", "false"]))],
    ),
    "post": _create_silence,
}
PATHS["/silence/{silence_id}"] = {"delete": _end_silence}


# --- acknowledgements and timed disables ----------------------------------------------------------


def _optional_body(operation: dict[str, Any], schema: str) -> dict[str, Any]:
    operation["requestBody"] = {"required": False, "content": {JSON: {"schema": ref(schema)}}}
    operation["responses"]["413"] = _json(ref("Error"), ERRORS["413"])
    return operation


def _acknowledge(summary: str, ok: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    operation = _optional_body(_write(summary, ok, params), "Acknowledgement")
    operation["responses"]["409"] = _json(ref("Error"), "nothing failed or degraded to acknowledge")
    return operation


_optional_body(PATHS["/stream/{stream_id}/disable"]["put"], "DisableMark")
_optional_body(PATHS["/instrument/{refdes}/disable"]["put"], "DisableMark")
PATHS["/stream/{stream_id}/disable"]["put"]["summary"] = (
    "Stop tracking a stream (all three overrides 0), with an optional reason and end"
)
PATHS["/instrument/{refdes}/disable"]["put"]["summary"] = (
    "Stop tracking every stream of an instrument, with an optional reason and end"
)
PATHS["/stream/{stream_id}/acknowledge"] = {
    "put": _acknowledge("Acknowledge a failed or degraded stream, with a note", DEPLOYED, [STREAM_ID])
}
PATHS["/instrument/{refdes}/acknowledge"] = {
    "put": _acknowledge("Acknowledge every failed or degraded stream of an instrument", INSTRUMENT, [REFDES])
}


# --- the page's key check --------------------------------------------------------------------------

PATHS["/key"] = {
    "get": {
        "summary": "Check an API key: its name when it is a configured one",
        "security": WRITE_SECURITY,
        "responses": {
            "200": _json(
                {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
                "the key is configured; its name",
            ),
            **_errors("401", "403"),
        },
    }
}
