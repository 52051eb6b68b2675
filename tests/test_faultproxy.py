"""The fault proxy itself, in front of the real redis-server (spoken to in raw RESP, so no client library
retries or handshakes hide what the proxy did): each fault does what the fault tests rely on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from tests.support.faultproxy import FaultProxy, fault_proxy


@pytest.fixture
def proxy(redis_url: str) -> Iterator[FaultProxy]:
    upstream = urlsplit(redis_url)
    with fault_proxy(upstream.hostname or "127.0.0.1", upstream.port or 6379) as running:
        yield running


def connect(proxy: FaultProxy, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)


def ask(conn: socket.socket, command: bytes) -> bytes:
    conn.sendall(command + b"\r\n")
    return conn.recv(1024)


def test_forwards_both_ways(proxy: FaultProxy, redis_url: str) -> None:
    with connect(proxy) as conn:
        assert ask(conn, b"SET proxy:plain through") == b"+OK\r\n"
        assert ask(conn, b"GET proxy:plain") == b"$7\r\nthrough\r\n"
    assert proxy.connections == 1


def test_a_delay_holds_every_reply_back(proxy: FaultProxy) -> None:
    proxy.delay(1.0)
    with connect(proxy, timeout=0.2) as conn, pytest.raises(TimeoutError):
        ask(conn, b"PING")


def test_a_blackhole_never_answers(proxy: FaultProxy) -> None:
    proxy.blackhole()
    with connect(proxy, timeout=0.3) as conn, pytest.raises(TimeoutError):
        ask(conn, b"PING")


def test_swallowed_replies_mean_the_server_acted_and_the_client_never_knew(proxy: FaultProxy, redis_url: str) -> None:
    proxy.swallow_replies()
    with connect(proxy) as conn:
        try:
            answer = ask(conn, b"SET proxy:half applied")
        except ConnectionResetError:
            answer = b""
    assert answer == b""  # cut off: no reply
    assert proxy.replies_swallowed == 1
    with redis.Redis.from_url(redis_url, decode_responses=True) as direct:
        assert direct.get("proxy:half") == "applied"


def test_refused_then_healed(proxy: FaultProxy) -> None:
    proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    proxy.heal()
    with connect(proxy) as conn:
        assert ask(conn, b"PING") == b"+PONG\r\n"


def test_a_cut_resets_live_connections_only(proxy: FaultProxy) -> None:
    with connect(proxy) as conn:
        assert ask(conn, b"PING") == b"+PONG\r\n"
        proxy.cut()
        try:
            answer = ask(conn, b"PING")
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        assert answer == b""
    with connect(proxy) as fresh:
        assert ask(fresh, b"PING") == b"+PONG\r\n"
