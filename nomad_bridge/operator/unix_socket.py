"""requests over a unix socket, for a `NOMAD_ADDR=unix:///path/api.sock` (Nomad's Task API).

python-nomad speaks through a `requests.Session`, which has no unix sockets. This adapter,
mounted on the session, sends every request through the socket, the URL's host being the
placeholder Nomad's Go client uses too. It is written here, on urllib3's connection classes,
rather than taken from requests-unixsocket, whose releases broke with requests 2.32 (its
adapter API changed) and whose upkeep has since split between two forks.
"""

from __future__ import annotations

import socket
from typing import Any

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import NewConnectionError

POOL_SIZE = 4


class _UnixConnection(HTTPConnection):
    """An HTTP/1.1 connection whose socket is the unix socket at `socket_path`."""

    def __init__(self, *args: Any, socket_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._socket_path = socket_path

    def _new_conn(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout if isinstance(self.timeout, int | float) else None)
        try:
            sock.connect(self._socket_path)
        except OSError as error:
            sock.close()
            raise NewConnectionError(
                self, f"cannot connect to {self._socket_path}: {error.strerror or error}"
            ) from error
        return sock


class _UnixConnectionPool(HTTPConnectionPool):
    ConnectionCls = _UnixConnection


class UnixSocketAdapter(HTTPAdapter):
    """Sends every request through the unix socket at `path`, whatever the URL's host."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._pool = _UnixConnectionPool("127.0.0.1", maxsize=POOL_SIZE, socket_path=path)

    def get_connection_with_tls_context(
        self,
        request: PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        return self._pool

    def get_connection(self, url: str | bytes, proxies: Any = None) -> HTTPConnectionPool:
        return self._pool  # requests before 2.32

    def request_url(self, request: PreparedRequest, proxies: Any) -> str:
        return request.path_url  # no proxy stands between a task and its socket

    def close(self) -> None:
        self._pool.close()
        super().close()
