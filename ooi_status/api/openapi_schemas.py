"""The JSON Schemas of /openapi.json: every object the API returns or accepts (API.md shapes)."""

from __future__ import annotations

from typing import Any

from ooi_status.status import Status

STATUS_ENUM = [status.value for status in Status]
TIMESTAMP = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "example": "2017-02-02 00:21:00",
}
ID = {"type": "integer", "minimum": 0, "maximum": 2147483647}
RATE = {"type": "number", "minimum": 0, "description": "particles per second (Hz)"}
INTERVAL = {"type": "integer", "minimum": 0, "maximum": 2147483647, "description": "seconds"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "nullable": True, "description": description}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties), **extra}


_EXPECTED = _object(
    {
        "id": ID,
        "name": {"type": "string", "example": "horizontal_electric_field"},
        "method": {"type": "string", "example": "streamed"},
        "expected_rate": RATE,
        "warn_interval": INTERVAL,
        "fail_interval": INTERVAL,
    }
)
_DEPLOYED = _object(
    {
        "id": ID,
        "reference_designator": {"type": "string", "example": "RS01SLBS-LJ01A-05-HPIESA101"},
        "reference_designator_id": ID,
        "expected_stream": ref("ExpectedStream"),
        "expected_rate": nullable(RATE, "override; null = the expected stream's value"),
        "warn_interval": nullable(INTERVAL, "override; null = the expected stream's value"),
        "fail_interval": nullable(INTERVAL, "override; null = the expected stream's value"),
        "status": {"type": "string", "enum": STATUS_ENUM},
        "status_time": nullable(TIMESTAMP, "when the status last changed (UTC); null before any change"),
        "last_data_time": nullable(TIMESTAMP, "time of the stream's last data point seen by the monitor"),
        "measured_rate": nullable({"type": "number"}, "particles per second over the last rate window"),
        "flapping": {
            "type": "boolean",
            "description": "FLAP_CHANGES or more status changes within FLAP_WINDOW, not yet stable for "
            "FLAP_WINDOW: held out of immediate messages",
        },
    },
)
_INSTRUMENT = _object(
    {
        "overall": {
            "type": "string",
            "enum": STATUS_ENUM,
            "description": "worst status of the streams listed",
        },
        "status": {"type": "array", "items": ref("DeployedStream")},
        "diagnosis": nullable(
            {
                "type": "string",
                "example": "no bytes from the port agent since 2026-12-01 10:02:11 "
                "(instrument or communications)",
            },
            "where the data stops, from the port agent's byte counts, for a degraded or failed "
            "instrument; null otherwise or without port statistics",
        ),
    }
)
_HISTORY_ENTRY = _object(
    {
        "id": ID,
        "old_status": {"type": "string"},
        "new_status": {"type": "string"},
        "changed_at": TIMESTAMP,
        "elapsed": nullable({"type": "number"}, "seconds since the last data point at the change"),
    }
)
_HISTORY = _object(
    {
        "stream_id": ID,
        "history": {"type": "array", "items": ref("StatusChange"), "description": "newest first"},
        "total": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
        "offset": {"type": "integer", "minimum": 0},
        "next": nullable({"type": "string"}, "URL of the next page; null on the last page"),
    }
)


_MATCH = 'reference-designator prefix ("" = every instrument; "CE" a whole array)'
_SUBSCRIPTION = _object(
    {
        "id": ID,
        "kind": {"type": "string", "enum": ["email", "chat"]},
        "target": {"type": "string", "description": "e-mail address, or the webhook URL without its path"},
        "match": {"type": "string", "description": _MATCH},
        "min_status": {"type": "string", "enum": ["degraded", "failed"]},
        "mode": {"type": "string", "enum": ["immediate", "digest", "both"]},
        "created_by": {"type": "string", "description": "name of the API key that made it"},
        "created_at": TIMESTAMP,
        "last_digest_at": nullable(TIMESTAMP, "when its last daily digest was queued"),
    }
)


def _patch(nullable_values: bool) -> dict[str, Any]:
    def value(schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "nullable": True} if nullable_values else schema

    return {
        "type": "object",
        "properties": {
            "id": {**ID, "description": "optional; must equal the id in the URL"},
            "expected_rate": value(RATE),
            "warn_interval": value(INTERVAL),
            "fail_interval": value(INTERVAL),
        },
        "additionalProperties": False,
    }


_CHECK = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}},
    "required": ["ok"],
    "additionalProperties": True,
}
_AVAILABILITY_MEASURE = _object(
    {
        "measure": {"type": "string", "example": "streamed ctdbp_no_sample"},
        "categories": {
            "type": "object",
            "additionalProperties": _object({"color": {"type": "string", "example": "#5cb85c"}}),
        },
        "data": {
            "type": "array",
            "items": {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "string"}},
            "description": "spans: [start, category, stop]",
        },
    }
)

_PAGE = {
    "total": {"type": "integer", "minimum": 0, "description": "entries matching, over every page"},
    "limit": {"type": "integer", "minimum": 1},
    "offset": {"type": "integer", "minimum": 0},
    "next": nullable({"type": "string"}, "URL of the next page; null on the last page"),
}

# --- reports ---------------------------------------------------------------------------------
_SECONDS = {"type": "number", "minimum": 0, "description": "seconds"}
_UPTIME_ROW = _object(
    {
        "id": {**ID, "description": "deployed stream id (group=stream)"},
        "refdes": {"type": "string", "description": "reference designator (group=stream or instrument)"},
        "method": {"type": "string", "description": "group=stream"},
        "stream": {"type": "string", "description": "group=stream"},
        "node": {"type": "string", "description": "SUBSITE-NODE (group=node)"},
        "site": {"type": "string", "description": "SUBSITE (group=site)"},
        "instruments": {"type": "integer", "minimum": 1, "description": "group=node or site"},
        "operational": _SECONDS,
        "degraded": _SECONDS,
        "failed": _SECONDS,
        "notTracked": _SECONDS,
        "silenced": _SECONDS,
        "uptime_percent": nullable(
            {"type": "number", "minimum": 0, "maximum": 100},
            "operational / (operational + degraded + failed); null without tracked time",
        ),
    },
    ["operational", "degraded", "failed", "notTracked", "silenced", "uptime_percent"],
    additionalProperties=False,
)
_COVERAGE_ROW = _object(
    {
        "refdes": {"type": "string", "description": "reference designator (group=stream or instrument)"},
        "method": {"type": "string", "description": "group=stream"},
        "stream": {"type": "string", "description": "group=stream"},
        "site": {"type": "string", "description": "SUBSITE (group=site)"},
        "instruments": {"type": "integer", "minimum": 1, "description": "group=site"},
        "month": {"type": "string", "example": "2016-01", "description": "by=month"},
        "deployment": {"type": "integer", "description": "deployment number (by=deployment)"},
        "start": {"type": "string", "description": "start of the window the rules ran over (UTC)"},
        "stop": {"type": "string", "description": "end of that window (UTC; now for an open period)"},
        **{
            name: _SECONDS for name in ("present", "sparse1", "sparse2", "sparse3", "missing", "not_expected")
        },
        "present_percent": nullable(
            {"type": "number", "minimum": 0, "maximum": 100},
            "present / everything but not_expected; null when nothing was expected",
        ),
    },
    [
        "start",
        "stop",
        "present",
        "sparse1",
        "sparse2",
        "sparse3",
        "missing",
        "not_expected",
        "present_percent",
    ],
    additionalProperties=False,
)
_REPORT_TIMES = {
    "start_time": {"type": "string", "description": "UTC YYYY-MM-DD HH:MM:SS"},
    "stop_time": {"type": "string", "description": "UTC YYYY-MM-DD HH:MM:SS"},
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": {"type": "string", "description": "short code", "example": "bad_request"},
            "message": {"type": "string", "description": "what was wrong and how to fix it"},
        }
    ),
    "ExpectedStream": _EXPECTED,
    "ExpectedStreamList": _object({"expected_streams": {"type": "array", "items": ref("ExpectedStream")}}),
    "ExpectedStreamPatch": _patch(nullable_values=False),
    "DeployedStream": _DEPLOYED,
    "DeployedStreamPatch": _patch(nullable_values=True),
    "StreamList": _object({"status": {"type": "array", "items": ref("DeployedStream")}}),
    "Instrument": _INSTRUMENT,
    "InstrumentMap": {
        "type": "object",
        "description": "reference designator → instrument",
        "additionalProperties": ref("Instrument"),
    },
    "StreamPage": _object(
        {"status": {"type": "array", "items": ref("DeployedStream")}, **_PAGE},
        description="one page of /stream (limit or offset given)",
    ),
    "InstrumentPage": _object(
        {"instruments": ref("InstrumentMap"), **_PAGE},
        description="one page of /instrument (limit or offset given), instruments by reference designator",
    ),
    "StatusChange": _HISTORY_ENTRY,
    "StatusHistory": _HISTORY,
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["ok", "unhealthy"]},
            "checks": _object(
                {
                    "monitor_database": _CHECK,
                    "metadata_database": _CHECK,
                    "monitor_heartbeat": _CHECK,
                    "stream_source": {**_CHECK, "description": "only when Cassandra is the stream source"},
                },
                ["monitor_database", "metadata_database", "monitor_heartbeat"],
            ),
        }
    ),
    "PortCounts": _object(
        {
            "reference_designator": {"type": "string", "example": "CE01ISSM-MFD35-04-ADCPTM000"},
            "start_time": TIMESTAMP,
            "stop_time": TIMESTAMP,
            "counts": {
                "type": "array",
                "description": "raw counts (time = end of the count) within PORT_COUNT_RAW_DAYS, "
                "hourly sums (time = start of the hour) beyond, by time",
                "items": _object(
                    {
                        "time": TIMESTAMP,
                        "bytes": {"type": "integer", "minimum": 0, "description": "bytes received"},
                        "seconds": {"type": "number", "minimum": 0, "description": "seconds counted"},
                        "bytes_per_second": {"type": "number", "minimum": 0},
                    }
                ),
            },
        }
    ),
    "Availability": _object({"availability": {"type": "array", "items": _AVAILABILITY_MEASURE}}),
    # --- notifications for people ---
    "Subscription": _SUBSCRIPTION,
    "SubscriptionList": _object({"subscriptions": {"type": "array", "items": ref("Subscription")}}),
    "NewSubscription": _object(
        {
            "kind": {"type": "string", "enum": ["email", "chat"], "description": "case-insensitive"},
            "target": {"type": "string", "description": "e-mail address, or the chat incoming-webhook URL"},
            "match": {"type": "string", "default": "", "description": _MATCH},
            "min_status": {"type": "string", "enum": ["degraded", "failed"], "default": "failed"},
            "mode": {"type": "string", "enum": ["immediate", "digest", "both"], "default": "immediate"},
        },
        ["kind", "target"],
        additionalProperties=False,
    ),
    "TestSend": _object(
        {"queued": {"type": "boolean"}, "outbox_id": ID, "message_id": {"type": "string"}},
    ),
    "UptimeReport": _object(
        {
            "group": {"type": "string", "enum": ["stream", "instrument", "node", "site"]},
            **_REPORT_TIMES,
            "rows": {"type": "array", "items": _UPTIME_ROW},
        },
        additionalProperties=False,
    ),
    "CoverageReport": _object(
        {
            "group": {"type": "string", "enum": ["stream", "instrument", "site"]},
            "by": {"type": "string", "enum": ["month", "deployment"]},
            "start_time": nullable({"type": "string"}, "UTC YYYY-MM-DD HH:MM:SS; null: from the beginning"),
            "stop_time": _REPORT_TIMES["stop_time"],
            "rows": {"type": "array", "items": _COVERAGE_ROW},
        },
        additionalProperties=False,
    ),
}


# --- silences and maintenance windows ------------------------------------------------------------

SILENCE_STATES = ["upcoming", "active", "ended"]
_SILENCE_MARK = nullable(
    _object(
        {
            "id": ID,
            "until": {**TIMESTAMP, "description": "when the silence ends (UTC)"},
            "reason": {"type": "string"},
        }
    ),
    "the silence in force (the one ending last when several are); null when not silenced",
)
_DEPLOYED["properties"]["silenced"] = _SILENCE_MARK
_DEPLOYED["required"].append("silenced")
_INSTRUMENT["properties"]["silenced"] = {
    **_SILENCE_MARK,
    "description": "set when every stream listed is silenced: the silence among theirs ending first",
}
_INSTRUMENT["required"].append("silenced")
# Operators' texts are stored in the monitor database, where a NUL byte cannot go: refused with a 400.
_NO_NUL = {"type": "string", "pattern": "^[^\\u0000]*$"}
#: Not blank, no NUL byte.
_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
_OPTIONAL_TEXT = {"type": "string", "minLength": 1, "pattern": _NOT_BLANK, "nullable": True}
SCHEMAS["Silence"] = _object(
    {
        "id": ID,
        "refdes": {"type": "string", "example": "CE01ISSM-MFD35", "description": "site, node or instrument"},
        "method": nullable({"type": "string"}, "delivery method, exact; null = every method"),
        "stream": nullable({"type": "string"}, "stream name, exact; null = every stream"),
        "starts_at": TIMESTAMP,
        "ends_at": TIMESTAMP,
        "reason": {"type": "string"},
        "created_by": {"type": "string", "description": "name of the API key that created it"},
        "created_at": TIMESTAMP,
        "ended_at": nullable(TIMESTAMP, "when it was ended early with DELETE; null otherwise"),
        "state": {"type": "string", "enum": SILENCE_STATES},
    }
)
SCHEMAS["SilenceList"] = _object({"silences": {"type": "array", "items": ref("Silence")}})
SCHEMAS["NewSilence"] = {
    "type": "object",
    "properties": {
        "refdes": {
            "type": "string",
            "maxLength": 100,
            "description": "prefix: a site (CE01ISSM), a node (CE01ISSM-MFD35) or an instrument; "
            "must name at least one known instrument",
            "example": "CE01ISSM-MFD35",
        },
        "method": {**_OPTIONAL_TEXT, "maxLength": 255, "description": "a known delivery method, exact"},
        "stream": {**_OPTIONAL_TEXT, "maxLength": 255, "description": "a known stream name, exact"},
        "starts_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "ISO 8601; default now",
        },
        "ends_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; after starts_at and after now",
        },
        "reason": {"type": "string", "minLength": 1, "pattern": _NOT_BLANK, "maxLength": 2000},
    },
    "required": ["refdes", "ends_at", "reason"],
    "additionalProperties": False,
}


# --- acknowledgements and timed disables ----------------------------------------------------------

_DEPLOYED["properties"]["acknowledged"] = nullable(
    _object(
        {
            "by": {"type": "string", "description": "name of the API key"},
            "at": TIMESTAMP,
            "note": nullable({"type": "string"}, "the operator's note"),
        }
    ),
    "set while a failed or degraded stream is acknowledged; cleared when it recovers",
)
_DEPLOYED["properties"]["disabled"] = nullable(
    _object(
        {
            "by": nullable({"type": "string"}, "name of the API key"),
            "at": nullable(TIMESTAMP, "when it was disabled"),
            "reason": nullable({"type": "string"}, "why"),
            "until": nullable(TIMESTAMP, "when the monitor tracks it again; null: until enabled"),
        }
    ),
    "set while the stream is disabled (all three overrides 0)",
)
_DEPLOYED["required"] += ["acknowledged", "disabled"]
_HISTORY_ENTRY["properties"]["note"] = nullable(
    {"type": "string"}, "what else happened then, e.g. the end of a timed disable"
)
_HISTORY_ENTRY["required"].append("note")
SCHEMAS["Acknowledgement"] = {
    "type": "object",
    "properties": {"note": {**_NO_NUL, "maxLength": 2000, "nullable": True}},
    "additionalProperties": False,
}
SCHEMAS["DisableMark"] = {
    "type": "object",
    "properties": {
        "reason": {**_NO_NUL, "maxLength": 2000, "nullable": True},
        "until": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "ISO 8601, in the future; null or absent: until enabled",
        },
    },
    "additionalProperties": False,
}
