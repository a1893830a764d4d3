"""A minimal CQL native-protocol (v4) responder on loopback, serving the reader's two tables from memory.

It speaks just enough of the protocol for cassandra-driver to connect and run the statements of
ooi_status.sources.cassandra.QUERIES: OPTIONS, STARTUP (and the password exchange when
credentials are set), REGISTER, the control connection's system.local / system.peers(_v2)
queries, USE, PREPARE and EXECUTE with paging. Messages are the driver's own classes from
cassandra.protocol given the direction they lack (requests a ``recv_body``, responses a
``send_body``); frames are read and written by a ProtocolHandler. Any other statement gets an
InvalidRequest error, so a reader sending something unexpected fails loudly.
"""

from __future__ import annotations

import hashlib
import re
import socket
import socketserver
import struct
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cassandra import cqltypes
from cassandra import protocol as cql

from ooi_status.sources.cassandra import QUERIES

VERSION = 4
TEXT, BIGINT, DOUBLE = cqltypes.VarcharType, cqltypes.LongType, cqltypes.DoubleType
UUID, INET = cqltypes.UUIDType, cqltypes.InetAddressType
TYPE_CODES = {TEXT: 0x000D, BIGINT: 0x0002, DOUBLE: 0x0007, UUID: 0x000C, INET: 0x0010}
Column = tuple[str, Any]  # name, cqltypes class
Row = tuple[Any, ...]

# --- the two tables and the statements on them --------------------------------------------------


@dataclass
class Tables:
    """stream_metadata rows in primary-key order; partition_metadata rows by partition, clustering order."""

    streams: list[Row]  # subsite, node, sensor, method, stream, count, first, last
    partitions: dict[tuple[str, str], list[Row]]  # (stream, refdes) → method, bin, store, count, first, last

    @classmethod
    def from_observatory(cls, obs: Any) -> Tables:
        keys = ("subsite", "node", "sensor", "method", "stream", "count", "first", "last")
        streams = sorted(tuple(row[k] for k in keys) for row in obs.streams)
        partitions: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for p in obs.partitions:
            refdes = f"{p['subsite']}-{p['node']}-{p['sensor']}"
            partitions[(p["stream"], refdes)].append(
                (p["method"], p["bin"], p["store"], p["count"], p["first"], p["last"])
            )
        return cls(streams, {key: sorted(rows) for key, rows in partitions.items()})


@dataclass(frozen=True)
class Statement:
    """A statement the responder can prepare: bind markers, partition-key markers, columns, rows."""

    table: str
    bind: Sequence[Column]
    pk_indexes: Sequence[int]
    columns: Sequence[Column]
    rows: Callable[[Tables, list[Any]], list[Row]]


def bins_before(t: Tables, stream: str, refdes: str, method: str, bound: int) -> list[Row]:
    partition = t.partitions.get((stream, refdes), [])
    return [(b, c, f, la) for m, b, _store, c, f, la in partition if m == method and b < bound]


STREAM_COLUMNS = [(n, TEXT) for n in ("subsite", "node", "sensor", "method", "stream")]
STREAM_COLUMNS += [("count", BIGINT), ("first", DOUBLE), ("last", DOUBLE)]
BIN_BIND = [("stream", TEXT), ("refdes", TEXT), ("method", TEXT), ("bin", BIGINT)]
BIN_COLUMNS = [("bin", BIGINT), ("count", BIGINT), ("first", DOUBLE), ("last", DOUBLE)]
STATEMENTS = {
    QUERIES["streams"]: Statement("stream_metadata", [], [], STREAM_COLUMNS, lambda t, v: t.streams),
    QUERIES["instrument_streams"]: Statement(
        "stream_metadata",
        STREAM_COLUMNS[:3],
        [0, 1, 2],
        STREAM_COLUMNS,
        lambda t, v: [r for r in t.streams if list(r[:3]) == v],
    ),
    QUERIES["bins"]: Statement(
        "partition_metadata", BIN_BIND, [0, 1], BIN_COLUMNS, lambda t, v: bins_before(t, *v)
    ),
}
LOCAL_COLUMNS = [("key", TEXT), ("cluster_name", TEXT), ("data_center", TEXT), ("rack", TEXT)]
LOCAL_COLUMNS += [
    ("release_version", TEXT),
    ("host_id", UUID),
    ("schema_version", UUID),
    ("rpc_address", INET),
]
LOCAL_ROW = ("local", "responder", "dc1", "rack1", "3.11.16", uuid.UUID(int=1), uuid.UUID(int=2), "127.0.0.1")

# --- messages: the driver's classes, the other way round ---------------------------------------


def decodable(base: type, parse: Callable[[Any], dict[str, Any]]) -> Any:
    """The driver's request class ``base`` made decodable: ``parse(body)`` gives its fields."""

    def recv_body(cls: type, f: Any, *_: Any) -> Any:
        msg = cls.__new__(cls)
        msg.__dict__.update(parse(f))
        return msg

    # A leading underscore keeps the new class out of the driver's registry of message classes.
    return type(f"_{base.__name__}", (base,), {"recv_body": classmethod(recv_body)})


def encodable(base: type, write: Callable[[Any, Any], None]) -> Any:
    """The driver's response class ``base`` made encodable: ``write(body, msg)`` writes its fields."""
    return type(f"_{base.__name__}", (base,), {"send_body": lambda msg, f, _version: write(f, msg)})


def query_parameters(f: Any) -> dict[str, Any]:
    """<consistency><flags>[values][page size][paging state][serial consistency][timestamp] (v4)."""
    fields: dict[str, Any] = {"consistency_level": cql.read_short(f)}
    flags = cql.read_byte(f) & 0xFF
    fields["query_params"] = [cql.read_value(f) for _ in range(cql.read_short(f))] if flags & 0x01 else []
    fields["fetch_size"] = cql.read_int(f) if flags & 0x04 else None
    fields["paging_state"] = cql.read_binary_longstring(f) if flags & 0x08 else None
    fields["serial_consistency_level"] = cql.read_short(f) if flags & 0x10 else None
    fields["timestamp"] = struct.unpack(">q", f.read(8))[0] if flags & 0x20 else None
    return {**fields, "skip_meta": bool(flags & 0x02)}


REQUESTS = [
    decodable(cql.OptionsMessage, lambda f: {}),
    decodable(cql.StartupMessage, lambda f: {"options": cql.read_stringmap(f)}),
    decodable(cql.RegisterMessage, lambda f: {"event_list": cql.read_stringlist(f)}),
    decodable(cql.AuthResponseMessage, lambda f: {"response": cql.read_binary_longstring(f)}),
    decodable(cql.QueryMessage, lambda f: {"query": cql.read_longstring(f), **query_parameters(f)}),
    decodable(cql.PrepareMessage, lambda f: {"query": cql.read_longstring(f)}),
    decodable(cql.ExecuteMessage, lambda f: {"query_id": cql.read_binary_string(f), **query_parameters(f)}),
]
Ready = encodable(cql.ReadyMessage, lambda f, m: None)
Supported = encodable(
    cql.SupportedMessage,
    lambda f, m: cql.write_stringmultimap(f, {"CQL_VERSION": m.cql_versions, **m.options}),
)
Authenticate = encodable(cql.AuthenticateMessage, lambda f, m: cql.write_string(f, m.authenticator))
AuthSuccess = encodable(cql.AuthSuccessMessage, lambda f, m: cql.write_longstring(f, m.token))


def write_error(f: Any, msg: Any) -> None:
    cql.write_int(f, msg.code)
    cql.write_string(f, msg.message)
    f.write(msg.info)  # the extra fields of this code, already encoded


Failure = encodable(cql.ErrorMessage, write_error)


def read_timeout() -> Any:
    """A coordinator that heard from no replica in time (consistency ONE, 0 of 1 answered)."""
    return Failure(
        0x1200, "Operation timed out - received only 0 responses.", struct.pack(">hiib", 1, 0, 1, 0)
    )


def server_error(message: str = "java.lang.RuntimeException: disk failure") -> Any:
    return Failure(0x0000, message, b"")


def invalid(query: str) -> Any:
    return Failure(0x2200, f"the test responder does not serve: {query}", b"")


class _Result(cql.ResultMessage):
    """RESULT of kind ROWS (spec, columns, rows, paging_state, skip_meta), PREPARED or SET_KEYSPACE.

    (Underscored like the classes above, out of the driver's registry of message classes.)
    """

    def __init__(self, kind: int, **fields: Any) -> None:
        super().__init__(kind)
        self.fields = fields

    def send_body(self, f: Any, protocol_version: int) -> None:
        cql.write_int(f, self.kind)
        x = self.fields
        if self.kind == cql.RESULT_KIND_SET_KEYSPACE:
            cql.write_string(f, x["keyspace"])
        elif self.kind == cql.RESULT_KIND_PREPARED:
            statement: Statement = x["statement"]
            cql.write_string(f, x["query_id"])
            write_metadata(f, x["spec"], statement.bind, pk_indexes=statement.pk_indexes)
            write_metadata(f, x["spec"], statement.columns)
        else:
            write_metadata(f, x["spec"], x["columns"], paging_state=x["paging_state"], skip=x["skip_meta"])
            cql.write_int(f, len(x["rows"]))
            for row in x["rows"]:
                for (_name, cqltype), value in zip(x["columns"], row, strict=True):
                    cql.write_value(f, None if value is None else cqltype.serialize(value, VERSION))


def write_metadata(f: Any, spec: tuple[str, str], columns: Sequence[Column], **options: Any) -> None:
    """Rows metadata, or prepared metadata when given pk_indexes; every column of one table (global spec)."""
    more, skip = options.get("paging_state") is not None, options.get("skip", False)
    cql.write_int(f, 0x0001 | (0x0002 if more else 0) | (0x0004 if skip else 0))
    cql.write_int(f, len(columns))
    if "pk_indexes" in options:
        cql.write_int(f, len(options["pk_indexes"]))
        for index in options["pk_indexes"]:
            cql.write_short(f, index)
    if more:
        cql.write_value(f, options["paging_state"])
    if not skip:
        cql.write_string(f, spec[0])  # keyspace
        cql.write_string(f, spec[1])  # table
        for name, cqltype in columns:
            cql.write_string(f, name)
            cql.write_short(f, TYPE_CODES[cqltype])


def rows_result(
    spec: tuple[str, str], columns: Sequence[Column], rows: Sequence[Row], **paging: Any
) -> _Result:
    return _Result(
        cql.RESULT_KIND_ROWS,
        spec=spec,
        columns=columns,
        rows=rows,
        **{"paging_state": None, "skip_meta": False, **paging},
    )


class ServerProtocolHandler(cql._ProtocolHandler):
    """Frames the other way round: decodes requests, encodes responses (direction bit set)."""

    message_types_by_opcode = {cls.opcode: cls for cls in REQUESTS}

    @staticmethod
    def _write_header(f: Any, version: int, flags: int, stream_id: int, opcode: int, length: int) -> None:
        f.write(struct.pack(">BBhBi", 0x80 | version, flags, stream_id, opcode, length))


def query_id(query: str) -> bytes:
    return hashlib.md5(query.encode()).digest()


# --- the server ---------------------------------------------------------------------------------


class CqlResponder:
    """Serves ``tables`` on 127.0.0.1:``port`` (0 = any free port) once started.

    ``requests`` counts requests by message name, ``prepared`` PREPAREs by statement and
    ``pages`` the pages of statement results served. Set ``error`` to a Failure to answer
    every EXECUTE with it; ``credentials`` = (user, password) asks clients to authenticate.
    """

    def __init__(self, tables: Tables, port: int = 0, keyspace: str = "ooi") -> None:
        self.tables, self.port, self.keyspace = tables, port, keyspace
        self.requests: Counter[str] = Counter()
        self.prepared: Counter[str] = Counter()
        self.pages = 0
        self.error: Any = None
        self.credentials: tuple[str, str] | None = None
        self._server: _Server | None = None

    def start(self) -> CqlResponder:
        self._server = _Server(("127.0.0.1", self.port), _Connection)
        self._server.responder = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection, as a node going down would."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            for conn in list(self._server.connections):
                conn.shutdown(socket.SHUT_RDWR)
            self._server = None

    def answer(self, msg: Any) -> Any:
        self.requests[msg.name] += 1
        if msg.name == "OPTIONS":
            return Supported(["3.4.5"], {"COMPRESSION": []})
        if msg.name == "STARTUP" and self.credentials:
            return Authenticate("org.apache.cassandra.auth.PasswordAuthenticator")
        if msg.name == "AUTH_RESPONSE":
            user, password = self.credentials or ("", "")
            if msg.response == f"\x00{user}\x00{password}".encode():
                return AuthSuccess(b"")
            return Failure(0x0100, "Provided username and/or password are incorrect", b"")
        if msg.name in ("STARTUP", "REGISTER"):
            return Ready()
        if msg.name == "QUERY":
            return self.system_query(msg.query)
        if msg.name == "PREPARE":
            return self.prepare(msg.query)
        return self.error or self.execute(msg)

    def system_query(self, query: str) -> Any:
        """The driver's own statements: USE and its view of the ring (one node, no peers)."""
        use = re.fullmatch(r'USE "?(\w+)"?', query.strip())
        if use:
            return _Result(cql.RESULT_KIND_SET_KEYSPACE, keyspace=use[1])
        table = re.search(r"FROM system\.(\w+)", query)
        if table and table[1] == "local":
            return rows_result(("system", "local"), LOCAL_COLUMNS, [LOCAL_ROW])
        if table and table[1] in ("peers", "peers_v2"):
            return rows_result(("system", table[1]), [("peer", INET)], [])
        return invalid(query)

    def prepare(self, query: str) -> Any:
        if query not in STATEMENTS:
            return invalid(query)
        self.prepared[query] += 1
        spec = (self.keyspace, STATEMENTS[query].table)
        return _Result(
            cql.RESULT_KIND_PREPARED, query_id=query_id(query), statement=STATEMENTS[query], spec=spec
        )

    def execute(self, msg: Any) -> Any:
        query = next((q for q in STATEMENTS if query_id(q) == msg.query_id), None)
        if query is None:
            return Failure(0x2500, "unknown prepared statement", struct.pack(">H", 16) + msg.query_id)
        statement = STATEMENTS[query]
        values = [
            t.deserialize(raw, VERSION) for (_n, t), raw in zip(statement.bind, msg.query_params, strict=True)
        ]
        rows = statement.rows(self.tables, values)
        start = int(msg.paging_state or 0)
        stop = start + (msg.fetch_size or len(rows) or 1)
        self.pages += 1
        more = str(stop).encode() if stop < len(rows) else None
        spec = (self.keyspace, statement.table)
        return rows_result(
            spec, statement.columns, rows[start:stop], paging_state=more, skip_meta=msg.skip_meta
        )


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    responder: CqlResponder

    def __init__(self, *args: Any) -> None:
        self.connections: set[socket.socket] = set()
        super().__init__(*args)


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: frames in, one answer per frame, on the same stream id."""

    server: _Server

    def handle(self) -> None:
        self.server.connections.add(self.request)
        try:
            while header := self.read(9):
                version, flags, stream, opcode, length = struct.unpack(">BBhBi", header)
                body = self.read(length) if length else b""
                msg = ServerProtocolHandler.decode_message(
                    version, {}, stream, flags, opcode, body, None, None
                )
                reply = self.server.responder.answer(msg)
                self.request.sendall(
                    ServerProtocolHandler.encode_message(reply, stream, VERSION, None, False)
                )
        except OSError:
            pass  # the client went away, or stop() cut the connection
        finally:
            self.server.connections.discard(self.request)

    def read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                return b""
            data += chunk
        return data
