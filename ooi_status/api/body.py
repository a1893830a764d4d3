"""A request body sent without Content-Length (``Transfer-Encoding: chunked``), read whole up front.

A body with a Content-Length larger than MAX_CONTENT_LENGTH is refused by werkzeug before it is
read (413). A chunked body has no length to check: werkzeug would read it up to the limit and
silently hand the view what fits, and a malformed chunk would surface in the view as an unexpected
error. Here, before any view, such a body is read to its end or one byte past the limit:

- more than the limit → 413 (``too_large``), whatever the view would have done with it;
- a body the server cannot read (a malformed chunk size, a missing chunk terminator, a client
  gone mid-body) → 400 (``bad_request``);
- otherwise the view sees it as if it had come with a Content-Length.

After either error the server does not reuse the connection (gunicorn closes one whose body
failed, and drains or closes one whose body was left unread).
"""

from __future__ import annotations

import io
import logging

from flask import current_app, request

from ooi_status.api.errors import ApiError, BadRequest
from ooi_status.db import first_line

log = logging.getLogger(__name__)

_PIECE = 16 * 1024


class TooLarge(ApiError):
    status, code = 413, "too_large"


def read_chunked_body() -> None:
    """A before-request hook: a chunked body is read and checked here (see the module's docstring)."""
    environ = request.environ
    if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    stream = environ["wsgi.input"]
    pieces: list[bytes] = []
    size = 0
    try:
        while piece := stream.read(min(_PIECE, limit + 1 - size)):
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                raise TooLarge(f"body: larger than {limit // 1024} KiB; send at most {limit} bytes")
    except ApiError:
        raise
    except Exception as exc:
        log.info("unreadable chunked body of %s %s: %s", request.method, request.path, first_line(exc))
        raise BadRequest(
            f"body: malformed chunked transfer coding ({first_line(exc)}); "
            "send the body with a Content-Length or as well-formed chunks"
        ) from None
    body = b"".join(pieces)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
