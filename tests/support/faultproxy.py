"""A TCP proxy in front of a real server (the Odoo double, redis-server) that injects network faults.

It runs its own event loop in a thread, so it keeps forwarding while a test blocks, and serves bot
processes spawned by the test as well as the test's own loop. Faults:

- `delay(s)`: every chunk waits `s` seconds before it is forwarded (a slow network or server);
- `blackhole()`: connections are accepted and what they send is read, but nothing comes back (a dead
  host behind a firewall: the client waits for its timeout);
- `swallow_replies()`: requests reach the server, its replies are thrown away and the connection is
  cut (the server acted, the client never knows: the half-applied case);
- `refuse()`: the port is closed (connection refused) and live connections are cut;
- `cut()`: live connections are reset now; new ones are served as usual;
- `heal()`: back to plain forwarding.

`spare(n)`: the next `n` connections are served as usual whatever the fault (an HTTP client that opens a
connection per request, like the bot talking to Odoo: its reads go through, the write after them is hit).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

from tests.support.redis_server import free_port

CHUNK = 65_536


class Fault(Enum):
    NONE = "none"
    BLACKHOLE = "blackhole"
    SWALLOW_REPLIES = "swallow replies"


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.fault = Fault.NONE
        self.latency = 0.0
        self.connections = 0  # accepted from clients
        self.replies_swallowed = 0
        self._spared = 0  # new connections still to serve without the fault
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._listener: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- faults (called from the test's thread) --

    def delay(self, seconds: float) -> None:
        self.latency = seconds

    def blackhole(self) -> None:
        self.fault = Fault.BLACKHOLE

    def swallow_replies(self) -> None:
        self.fault = Fault.SWALLOW_REPLIES

    def refuse(self) -> None:
        self._run(self._close_listener())
        self.cut()

    def cut(self) -> None:
        self._run(self._reset_live())

    def spare(self, connections: int) -> None:
        self._spared = connections

    def heal(self) -> None:
        self.fault, self.latency = Fault.NONE, 0.0
        self._run(self._open_listener())

    # -- life cycle --

    def start(self) -> None:
        self._thread.start()
        self._run(self._open_listener())

    def stop(self) -> None:
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _run(self, job: object) -> None:
        asyncio.run_coroutine_threadsafe(job, self._loop).result(timeout=10)  # type: ignore[arg-type]

    async def _open_listener(self) -> None:
        if self._listener is None:
            self._listener = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    async def _shutdown(self) -> None:
        await self._close_listener()
        await self._reset_live()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _reset_live(self) -> None:
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()

    # -- forwarding (on the proxy's loop) --

    async def _serve(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        self.connections += 1
        spared = self._spared > 0
        if spared:
            self._spared -= 1
        self._live.add(client)
        try:
            server_reader, server = await asyncio.open_connection(*self.upstream)
        except OSError:
            client.transport.abort()
            self._live.discard(client)
            return
        self._live.add(server)
        try:
            await asyncio.gather(self._pipe(client_reader, server, towards_server=True, spared=spared),
                                 self._pipe(server_reader, client, towards_server=False, spared=spared))
        finally:
            for writer in (client, server):
                writer.transport.abort()
                self._live.discard(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, towards_server: bool,
                    spared: bool = False) -> None:
        try:
            while chunk := await reader.read(CHUNK):
                if self.latency:
                    await asyncio.sleep(self.latency)
                fault = Fault.NONE if spared else self.fault
                if fault is Fault.BLACKHOLE:
                    continue  # read and forgotten
                if fault is Fault.SWALLOW_REPLIES and not towards_server:
                    self.replies_swallowed += 1
                    break  # the server answered; the client is cut off instead
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()  # one side ended: so does the other


@contextmanager
def fault_proxy(upstream_host: str, upstream_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_host, upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
