"""The review app's HTTP server: the standard library's `http.server`, no extra dependency.

Why the standard library: the app serves one page and a handful of small JSON requests to one
reviewer on their own machine; `ThreadingHTTPServer` does that without adding a dependency to
a package that installs from PyPI, and without a JavaScript build step (the page is one
self-contained HTML document, `_page.py`).

Safety, since the page shows strings from someone else's dataset and the server writes files:

- It binds 127.0.0.1 unless told otherwise. Bound elsewhere, every request must carry the
  random access token printed in the URL (`?token=` for the page, `X-Review-Token` for the API).
- Requests whose `Host` is not the address served are refused (a web page cannot reach the
  server by DNS rebinding), and decisions are only accepted as JSON POSTs carrying the token in
  the `X-Review-Token` header (the page holds it, even on loopback), which another site's page
  can neither know nor send.
- The page puts every dataset string in with `textContent`, never as HTML, and is served with a
  Content-Security-Policy that allows its own script only (by nonce), no frames and no
  connections elsewhere. Images are embedded as data URIs read under the media policy of
  `groundtruth.diff` (the dataset folder or `--media-root`, nothing outside it).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

from ..errors import GroundtruthError
from ._page import render_page

if TYPE_CHECKING:
    from ._session import ReviewSession

MAX_BODY = 1 << 20


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReviewServer(ThreadingHTTPServer):
    """Serves one `ReviewSession`. `url` is what to open (with the token when one is needed)."""

    daemon_threads = True

    def __init__(self, session: ReviewSession, host: str = "127.0.0.1", port: int = 0) -> None:
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.needs_token = not is_loopback(host)
        super().__init__((host, port), _Handler)
        self.host = host

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{shown}:{self.port}/"
        return f"{base}?token={self.token}" if self.needs_token else base

    def allowed_hosts(self) -> set[str]:
        names = {self.host, "127.0.0.1", "localhost", "[::1]"} if is_loopback(self.host) \
            else {self.host, f"[{self.host}]"}
        return {f"{n}:{self.port}" for n in names}

    def server_close(self) -> None:
        super().server_close()
        self.session.close()

    def start_background(self) -> threading.Thread:
        t = threading.Thread(target=self.serve_forever, name="gt-review", daemon=True)
        t.start()
        return t


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "groundtruth-review"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows the URL and errors, not every request

    # -- guards ---------------------------------------------------------------------------------
    def _host_ok(self) -> bool:
        return self.headers.get("Host", "") in self.server.allowed_hosts()

    def _token_ok(self, query: dict[str, list[str]]) -> bool:
        if not self.server.needs_token:
            return True
        given = self.headers.get("X-Review-Token") or (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.server.token.encode())

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None,
              ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")

    def _error(self, status: int, message: str, hint: str | None = None) -> None:
        self._json(status, {"error": message, "hint": hint})

    # -- routes ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return
        if not self._token_ok(query):
            self._error(HTTPStatus.FORBIDDEN, "this server needs its access token",
                        "open the URL gt review printed, with ?token=...")
            return
        s = self.server.session
        try:
            if url.path == "/":
                nonce = secrets.token_urlsafe(16)
                page = render_page(nonce, self.server.token)
                csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src "
                       f"'nonce-{nonce}'; img-src data: https: http:; connect-src 'self'; "
                       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8",
                           {"Content-Security-Policy": csp})
            elif url.path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            elif url.path == "/api/facets":
                self._json(HTTPStatus.OK, s.facets())
            elif url.path == "/api/queue":
                def one(name: str) -> str | None:
                    v = (query.get(name) or [""])[0]
                    return v or None
                page_no = int(one("page") or 0)
                self._json(HTTPStatus.OK, s.page(
                    page=page_no, label=one("label"), annotator=one("annotator"),
                    label_set=one("label_set"), split=one("split"),
                    status=one("status") or "all"))
            elif url.path.startswith("/api/item/"):
                self._json(HTTPStatus.OK, s.item(unquote(url.path[len("/api/item/"):])))
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such page {url.path}")
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))

    def do_POST(self) -> None:
        url = urlparse(self.path)
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return
        # The page holds the token even on loopback: a form on another site cannot send it.
        given = self.headers.get("X-Review-Token") or ""
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._error(HTTPStatus.FORBIDDEN, "missing or wrong X-Review-Token header")
            return
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON")
            return
        size = int(self.headers.get("Content-Length") or 0)
        if size > MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
            return
        try:
            body = json.loads(self.rfile.read(size) or b"{}")
        except json.JSONDecodeError:
            self._error(HTTPStatus.BAD_REQUEST, "the request body is not JSON")
            return
        s = self.server.session
        try:
            if url.path == "/api/decide" and isinstance(body, dict):
                self._json(HTTPStatus.OK, s.decide(body))
            elif url.path == "/api/finish":
                self._json(HTTPStatus.OK, s.finish())
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such action {url.path}")
        except GroundtruthError as exc:
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, exc.message, exc.hint)
        except OSError as exc:  # the log or the output could not be written: say so, loudly
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"not saved: {exc}")
