"""A real redis-server (the Debian package) on a free loopback port: one for the test session, one on a unix
socket, and restartable ones (same port, new process; with or without an append-only file) for the fault tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; `make test` installs it (Debian package redis-server)")
    return binary


def _real_clock_env() -> dict[str, str]:
    """The environment for redis-server, without a preloaded libfaketime: the tests' clock may be moved
    (CI runs the suite a year ahead and a year back under faketime), but Redis keeps the real one, as a
    Redis server elsewhere would (and libfaketime cannot load into redis-server's allocator anyway)."""
    return {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}


def _connect(address: int | str) -> socket.socket:
    """A connection to a port on the loopback, or to a unix socket (a path)."""
    if isinstance(address, int):
        return socket.create_connection(("127.0.0.1", address), timeout=0.2)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(0.2)
    try:
        conn.connect(address)
    except OSError:
        conn.close()
        raise
    return conn


def _wait_until_ready(process: subprocess.Popen[bytes], address: int | str) -> None:
    """Until the server answers PING (it has loaded its data by then: Redis answers -LOADING before)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with _connect(address) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"redis-server did not start on {address}")
        time.sleep(0.05)


@contextmanager
def _serving(arguments: list[str], address: int | str) -> Iterator[None]:
    """redis-server started with `arguments`, until it answers at `address` (a port or a socket's path); stopped
    on the way out."""
    process = subprocess.Popen([_binary(), *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               env=_real_clock_env())
    try:
        _wait_until_ready(process, address)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    with _serving(["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(workdir)], port):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def unix_socket_redis() -> Iterator[str]:
    """A redis-server listening on a unix socket only (no TCP port); its URL, unix:///.../redis.sock. The socket
    is in a short temporary folder of its own: a socket's path may not be longer than 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="redis-") as workdir:
        path = str(Path(workdir) / "redis.sock")
        with _serving(["--port", "0", "--unixsocket", path, "--unixsocketperm", "700", "--save", "",
                       "--appendonly", "no", "--dir", workdir], path):
            yield f"unix://{path}"


class RestartableRedis:
    """A redis-server of its own (for one test) that can be stopped and started again on the same port,
    as a new process: with `appendonly` it reloads its append-only file, without it it comes back empty.

    `crash()` is SIGKILL (no chance to write anything more), `stop()` a clean SIGTERM shutdown."""

    def __init__(self, workdir: Path, *, appendonly: bool, appendfsync: str = "always") -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.starts = 0
        self._arguments = [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                           "--dir", str(workdir), "--appendonly", "yes" if appendonly else "no",
                           "--appendfsync", appendfsync]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        self._process = subprocess.Popen(self._arguments, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                         env=_real_clock_env())
        _wait_until_ready(self._process, self.port)
        self.starts += 1

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def crash(self) -> None:
        self._end(signal.SIGKILL)

    def restart(self, *, crash: bool = True) -> None:
        self._end(signal.SIGKILL if crash else signal.SIGTERM)
        self.start()

    def _end(self, how: signal.Signals) -> None:
        if self._process is None:
            return
        self._process.send_signal(how)
        self._process.wait(timeout=10)
        self._process = None


@contextmanager
def restartable_redis(workdir: Path, *, appendonly: bool, appendfsync: str = "always") -> Iterator[RestartableRedis]:
    server = RestartableRedis(workdir, appendonly=appendonly, appendfsync=appendfsync)
    server.start()
    try:
        yield server
    finally:
        server.stop()
