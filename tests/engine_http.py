"""Speaking HTTP to an engine at either URL form it prints: `http://host:port`, or the embedded
engine's Unix socket, `http+unix://<percent-encoded path>` (tui.core.paths.socket_url)."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from tui.core.paths import socket_of


def client(url: str, **kw: Any) -> httpx.Client:
    """An httpx.Client whose relative URLs reach the engine at `url`."""
    path = socket_of(url)
    if path is None:
        return httpx.Client(base_url=url, **kw)
    transport = httpx.HTTPTransport(uds=path, retries=0)
    return httpx.Client(base_url="http://localhost", transport=transport, **kw)


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    """A raw stream socket connected to the engine at `url` (for byte-level misbehaviour)."""
    path = socket_of(url)
    if path is None:
        host, port = httpx.URL(url).host, httpx.URL(url).port
        return socket.create_connection((host, port), timeout=timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock
