"""Headers every answer carries, and redirects that never take their host from the request.

- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` on every answer: a
  browser takes each answer for the type it is declared as (a CSV export is never run as a
  script), and no page address (an instrument's reference designator) leaves for another site.
- ``Content-Security-Policy`` on the HTML pages: scripts only from this server's static files
  (the pages carry no inline script or event handler attribute: their settings travel in a
  ``<script type="application/json">`` block, which is data, not script), requests only to this
  server, no plugin, no ``<base>``, and no other site may frame a page (``frame-ancestors
  'none'``; ``X-Frame-Options: DENY`` for browsers that predate it). Inline ``style``
  attributes stay allowed: the pages color swatches and bars from the settings with them, and
  a style cannot run code.
- A redirect werkzeug makes for a URL with doubled slashes (``/stream//1`` → ``/stream/1``) or
  a missing trailing slash would name the host of the request's ``Host`` header: anyone able
  to forge that header could send a client elsewhere. Here such a redirect is answered with a
  relative ``Location`` (path and query only) and a JSON body in the API's shape.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request
from werkzeug.routing import RequestRedirect

from ooi_status.api.errors import error_response

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
REFERRER_POLICY = "same-origin"


def init_app(app: Flask) -> None:
    app.before_request(relative_redirect)
    app.after_request(security_headers)


def relative_location(url: str) -> str:
    """``url`` without scheme and host; a path that would read as another host (``//evil``) keeps
    one leading slash."""
    parts = urlsplit(url)
    path = "/" + parts.path.lstrip("/")
    return urlunsplit(("", "", path, parts.query, ""))


def relative_redirect() -> Response | None:
    """Answer werkzeug's routing redirects here, before the view, with a relative Location."""
    redirect = request.routing_exception
    if not isinstance(redirect, RequestRedirect):
        return None
    location = relative_location(redirect.new_url)
    response = error_response(
        redirect.code, "moved", f"this resource is at {location}; send the request there"
    )
    response.headers["Location"] = location
    return response


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if response.mimetype == "text/html":
        headers["Content-Security-Policy"] = PAGE_POLICY
        headers["X-Frame-Options"] = "DENY"
    return response
