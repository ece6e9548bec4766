"""A real S3 protocol endpoint on localhost: moto's server, with a tap on its WSGI app.

The tap records every request (method, key, bytes sent back) so tests can show how little a
read downloads, and can refuse requests (HTTP 503 SlowDown, what S3 answers when it throttles)
to inject transient or persistent faults. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("moto.server", reason="moto[server] is needed for the S3 suite")
pytest.importorskip("s3fs", reason="s3fs is needed for the S3 suite")

from moto.server import ThreadedMotoServer

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    status: int
    sent: int


@dataclass
class S3Tap:
    """WSGI middleware in front of moto: logs requests, injects faults."""

    app: Any
    requests: list[Request] = field(default_factory=list)
    refuse: Callable[[str, str], bool] | None = None  # (method, path) -> refuse this one?
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        rng = environ.get("HTTP_RANGE")
        if self.refuse is not None and self.refuse(method, path):
            with self.lock:
                self.refused += 1
                self.requests.append(Request(method, path, rng, 503, 0))
            start_response("503 Slow Down", [("Content-Type", "application/xml"),
                                             ("Content-Length", str(len(_SLOW_DOWN)))])
            return [_SLOW_DOWN]
        status: list[int] = [0]

        def _start(st: str, headers: list[tuple[str, str]], *a: Any) -> Any:
            status[0] = int(st.split()[0])
            return start_response(st, headers, *a)

        body = b"".join(self.app(environ, _start))
        with self.lock:
            self.requests.append(Request(method, path, rng, status[0], len(body)))
        return [body]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.refused = 0
        self.refuse = None

    def bytes_read(self, key_part: str = "") -> int:
        """Bytes of object data sent back by GETs whose path contains `key_part`."""
        with self.lock:
            return sum(r.sent for r in self.requests
                       if r.method == "GET" and key_part in r.path and r.status in (200, 206))

    def refuse_first(self, n: int, *, method: str | None = "GET", key_part: str = "") -> None:
        """Answer 503 SlowDown to the next `n` matching requests, then serve normally."""
        left = [n]
        self.refused = 0

        def _refuse(m: str, path: str) -> bool:
            if (method is not None and m != method) or key_part not in path:
                return False
            with self.lock:
                if left[0] <= 0:
                    return False
                left[0] -= 1
                return True

        self.refuse = _refuse

    def refuse_all(self, *, method: str | None = "GET", key_part: str = "") -> None:
        self.refuse = lambda m, path: (method is None or m == method) and key_part in path


@dataclass
class S3Endpoint:
    endpoint_url: str
    tap: S3Tap


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """moto's S3 server on 127.0.0.1:<free port> for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wsgi = server._server  # the werkzeug server; wrap its app with the tap
    assert wsgi is not None
    tap = S3Tap(wsgi.app)
    wsgi.app = tap
    try:
        yield S3Endpoint(f"http://127.0.0.1:{port}", tap)
    finally:
        server.stop()


def options_for(endpoint: S3Endpoint) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint.endpoint_url,
        "key": "testing",
        "secret": "testing",
        "anon": False,
        "skip_instance_cache": True,
    }


@pytest.fixture
def s3_options(s3_endpoint: S3Endpoint) -> dict[str, Any]:
    """storage_options for s3fs pointing at the local endpoint (fresh client each test)."""
    return options_for(s3_endpoint)


def new_bucket(endpoint: S3Endpoint) -> str:
    import s3fs

    name = f"gt-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(**options_for(endpoint)).mkdir(name)
    return f"s3://{name}"


@pytest.fixture
def s3_bucket(s3_endpoint: S3Endpoint, s3_options: dict[str, Any]) -> Iterator[str]:
    """A new, empty bucket; yields its s3:// URL. The tap is reset for the test."""
    url = new_bucket(s3_endpoint)
    s3_endpoint.tap.reset()
    yield url
    s3_endpoint.tap.reset()


@pytest.fixture
def s3_fs(s3_options: dict[str, Any]) -> Any:
    import s3fs

    return s3fs.S3FileSystem(**s3_options)


@pytest.fixture(scope="session")
def s3_session_options(s3_endpoint: S3Endpoint) -> dict[str, Any]:
    """storage_options for fixtures wider than one test (module-scoped data)."""
    return options_for(s3_endpoint)


@pytest.fixture(scope="session")
def make_bucket(s3_endpoint: S3Endpoint) -> Callable[[], str]:
    """Create a new bucket and return its s3:// URL (for module-scoped data)."""
    return lambda: new_bucket(s3_endpoint)
