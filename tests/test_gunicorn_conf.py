"""The API's gunicorn logger writes the access log line gunicorn's own logger writes, for any format."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger

from ooi_status.gunicorn_conf import AccessAtoms, Logger

ENVIRON = {
    "REQUEST_METHOD": "GET",
    "RAW_URI": "/stream?status=failed",
    "PATH_INFO": "/stream",
    "QUERY_STRING": "status=failed",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_USER_AGENT": 'curl/8 "quoted"',
    "HTTP_AUTHORIZATION": "Basic b3BlcmF0b3I6c2VjcmV0",  # operator:secret
    "wsgi.url_scheme": "http",
    "EMPTY": None,
}
REQUEST = SimpleNamespace(headers=[("HOST", "localhost"), ("X-TWICE", "first"), ("X-Twice", 'second "2"')])

FORMATS = [
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',  # gunicorn's default
    "%(m)s %(U)s %(q)s %(H)s %(B)s %(T)s %(D)s %(M)s %(L)s %(p)s",
    "%({host}i)s %({x-twice}i)s %({X-Twice}i)s %({absent}i)s",
    "%({content-type}o)s %({etag}o)s %({ETag}o)s %({absent}o)s",
    "%({path_info}e)s %({wsgi.url_scheme}e)s %({empty}e)s %({absent}e)s",
    "%(z)s %({host}x)s %(t)s",
]


def response(sent: int | None, status: object = "200 OK") -> SimpleNamespace:
    headers = [("Content-Type", "application/json"), ("ETag", 'W/"12-ab"'), ("Vary", "Accept-Encoding")]
    return SimpleNamespace(status=status, headers=headers, sent=sent)


def access_line(logger: GunicornLogger, resp: SimpleNamespace, spent: timedelta) -> str:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.access_log.addHandler(handler)
    try:
        logger.access(resp, REQUEST, ENVIRON, spent)
    finally:
        logger.access_log.removeHandler(handler)
    (record,) = records
    return record.getMessage()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("resp", [response(1234), response(None, status=304)], ids=["sent", "nothing-sent"])
def test_the_access_line_is_the_one_gunicorn_writes(fmt, resp, monkeypatch):
    monkeypatch.setattr(GunicornLogger, "now", lambda self: "[02/Dec/2026:03:04:05 +0000]")
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", fmt)
    spent = timedelta(seconds=2, microseconds=34_567)
    ours = access_line(Logger(config), resp, spent)
    assert ours == access_line(GunicornLogger(config), resp, spent)


def test_the_atoms_read_as_a_mapping_as_gunicorn_makes_them():
    config = Config()
    logger = Logger(config)
    spent = timedelta(milliseconds=5)
    atoms = AccessAtoms(logger, response(10), REQUEST, ENVIRON, spent)
    expected = dict(
        GunicornLogger(config).atoms_wrapper_class(
            GunicornLogger.atoms(logger, response(10), REQUEST, ENVIRON, spent)
        )
    )
    assert set(atoms) == set(expected) and len(atoms) == len(expected)
    assert (
        atoms["a"] == 'curl/8 \\"quoted\\"'
        and atoms["u"] == "operator"
        and atoms["{x-twice}i"] == 'second \\"2\\"'
    )
