"""The running app: health and readiness, start-up checks against Odoo, and the demo mode."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.rounds import UNHEALTHY_AFTER
from bot.server import RUNTIME, create_app
from bot.settings import Mode, load_settings
from odoo_double import faults
from tests.conftest import LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.redis_server import free_port, unix_socket_redis
from tests.support.teams import TeamsClient, TeamsUser, card_text

ALEX = TeamsUser("29:alex", "Alex Wilber", "alexw@example.com")  # the Agents Playground's default user

ROOT = Path(__file__).resolve().parents[1]


async def test_health_and_readiness(teams: TeamsClient, sandbox: RunningSandbox) -> None:
    base = teams.bot_url.removesuffix("/api/messages")
    async with teams.session.get(base + "/healthz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"
    async with teams.session.get(base + "/readyz") as response:
        assert response.status == 200 and await response.json() == {
            "redis": True, "odoo": True, "ready": True, "channels_missing": ["support", "management"]}
    await teams.say_in_channel("/ticket channel support", sender=LEAD)
    async with teams.session.get(base + "/readyz") as response:
        assert (await response.json())["channels_missing"] == ["management"]
    sandbox.odoo.down = True
    async with teams.session.get(base + "/readyz") as response:
        assert response.status == 503 and (await response.json())["odoo"] is False


class LoopEnded(BaseException):
    """What no round catches (the loops log every Exception and go on)."""


async def test_liveness_fails_when_a_background_loop_ends(redis: Redis, redis_url: str, sandbox: RunningSandbox,
                                                          clock: FakeClock) -> None:
    app = create_app(bot_settings(redis_url, sandbox.url, background_tasks=True, poll_interval=0.2), clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 200 and (await response.json())["status"] == "ok"
            loops = app[RUNTIME].loops
            assert sorted(loop.get_name() for loop in loops) == [
                "lapsed-turns", "odoo-poller", "outbox-relay", "timer-worker"]
            [poller] = [loop for loop in loops if loop.get_name() == "odoo-poller"]

            async def fatal() -> int:
                raise LoopEnded  # nothing would notice a ticket changed in Odoo any more
            app[RUNTIME].poller.poll_once = fatal  # type: ignore[method-assign]
            async with asyncio.timeout(10):
                await asyncio.gather(poller, return_exceptions=True)
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 503
                assert await response.json() == {"status": "loops ended", "ended": ["odoo-poller"]}
    finally:
        await server.close()


async def test_liveness_fails_when_a_background_loop_fails_its_last_rounds(
        redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock) -> None:
    """A poller that fails every round (a ticket it could not read stopped its cursor) is as stuck as one that
    ended: after UNHEALTHY_AFTER failed rounds in a row /healthz says so, and a round that works clears it."""
    app = create_app(bot_settings(redis_url, sandbox.url, background_tasks=True, poll_interval=0.05), clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            rounds: list[str] = []
            healthy = asyncio.Event()
            counted = {UNHEALTHY_AFTER + 1: asyncio.Event(), UNHEALTHY_AFTER + 3: asyncio.Event()}

            async def broken() -> int:
                rounds.append("round")
                if len(rounds) in counted:
                    counted[len(rounds)].set()
                if len(rounds) > UNHEALTHY_AFTER + 1 and healthy.is_set():
                    return 0
                raise ValueError("invalid literal for int() with base 10: '²'")
            app[RUNTIME].poller.poll_once = broken  # type: ignore[method-assign]
            async with asyncio.timeout(10):
                await counted[UNHEALTHY_AFTER + 1].wait()
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 503
                assert await response.json() == {"status": "loops failing", "failing": ["odoo-poller"]}
            healthy.set()
            async with asyncio.timeout(10):
                await counted[UNHEALTHY_AFTER + 3].wait()
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 200 and (await response.json())["status"] == "ok"
    finally:
        await server.close()


async def test_a_poller_refused_by_odoo_round_after_round_fails_liveness(
        redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock) -> None:
    """Odoo answering, but refusing the bot's user what the poller reads (an access right taken away): the
    cursors never move, so no reminder follows Odoo. It used to be warned about as if Odoo were away, every round
    counted as a success, and /healthz stayed 200; only an outage (OdooUnavailable) is a quiet round."""
    app = create_app(bot_settings(redis_url, sandbox.url, background_tasks=True, poll_interval=0.05), clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    call = sandbox.odoo.call
    polls: list[str] = []

    def refusing(uid: int, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if model == "mail.message":  # what the poller reads for the chatter (and for its first cursor)
            polls.append(method)
            raise faults.access_error(f"You are not allowed to access 'Message' ({model}) records.")
        return call(uid, model, method, *args, **kwargs)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 200
            sandbox.odoo.call = refusing  # type: ignore[method-assign]
            async with asyncio.timeout(20):
                while True:
                    async with session.get(server.make_url("/healthz")) as response:
                        if response.status == 503:
                            assert await response.json() == {"status": "loops failing", "failing": ["odoo-poller"]}
                            break
                    await asyncio.sleep(0.05)
            assert len(polls) >= UNHEALTHY_AFTER
            sandbox.odoo.call = call  # type: ignore[method-assign]
            async with asyncio.timeout(20):  # the right given back: the next round works and clears it
                while True:
                    async with session.get(server.make_url("/healthz")) as response:
                        if response.status == 200:
                            break
                    await asyncio.sleep(0.05)
    finally:
        sandbox.odoo.call = call  # type: ignore[method-assign]
        await server.close()


async def test_odoo_away_is_a_quiet_round_for_the_poller(redis: Redis, redis_url: str, sandbox: RunningSandbox,
                                                         clock: FakeClock) -> None:
    """Odoo away is /readyz's business: the poller's rounds that meet it do not count towards /healthz."""
    app = create_app(bot_settings(redis_url, sandbox.url, background_tasks=True, poll_interval=0.05), clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        poller = app[RUNTIME].poller
        poll_once, rounds = poller.poll_once, asyncio.Queue[None]()

        async def counted() -> int:
            rounds.put_nowait(None)
            return await poll_once()
        poller.poll_once = counted  # type: ignore[method-assign]
        async with aiohttp.ClientSession() as session:
            sandbox.odoo.down = True
            async with asyncio.timeout(20):
                for _ in range(UNHEALTHY_AFTER + 2):
                    await rounds.get()
            async with session.get(server.make_url("/healthz")) as response:
                assert response.status == 200, await response.text()
    finally:
        sandbox.odoo.down = False
        await server.close()


async def _run_app(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run app.py until it exits by itself; its exit code and stderr. It runs in an empty folder: a developer's
    .env (which app.py reads from the current folder) stays out of the test."""
    with tempfile.TemporaryDirectory() as empty:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "app.py"), *args, cwd=empty, env={"PATH": os.environ.get("PATH", ""), **env},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        async with asyncio.timeout(60):
            _, err = await process.communicate()
    return process.returncode or 0, err.decode()


async def test_a_wrong_odoo_key_stops_start_up_with_one_line(sandbox: RunningSandbox, redis_url: str) -> None:
    code, err = await _run_app("--dev", env={
        "ODOO_URL": sandbox.url, "ODOO_DB": "helpdesk", "ODOO_LOGIN": "admin", "ODOO_API_KEY": "wrong-key",
        "REDIS_URL": redis_url, "PORT": str(free_port())})
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("cannot start: Odoo: ")
    assert "wrong-key" not in err


async def test_redis_on_a_unix_socket() -> None:
    """REDIS_URL=unix:///path/redis.sock: a redis-server listening on a unix socket only."""
    with unix_socket_redis() as url:
        settings = load_settings({"REDIS_URL": url}, Mode.DEV)
        assert settings.redis_url == url
        server = TestServer(create_app(replace(settings, background_tasks=False)), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session, session.get(server.make_url("/readyz")) as response:
                assert (await response.json())["redis"] is True
            await server.app[RUNTIME].services.store.redis.set("ticketbot:probe", "1")
            async with Redis.from_url(url, decode_responses=True) as direct:
                assert await direct.get("ticketbot:probe") == "1"  # the bot's keys are in that server
        finally:
            await server.close()


def _log_line(line: str) -> bool:
    return bool(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) ", line))


async def test_an_unreachable_redis_stops_start_up_with_one_line_naming_redis_url() -> None:
    """Nothing listens on the port: one line naming REDIS_URL and the address tried (its password masked),
    no traceback."""
    redis_port = free_port()
    code, err = await _run_app("--dev", env={"REDIS_URL": f"redis://:r3dis-pw@127.0.0.1:{redis_port}/0",
                                             "PORT": str(free_port())})
    assert code == 1
    [said] = [line for line in err.splitlines() if not _log_line(line)]
    assert said.startswith(f"cannot start: REDIS_URL: no answer from Redis at redis://:***@127.0.0.1:{redis_port}/0 ")
    assert "r3dis-pw" not in err


async def test_unreachable_redis_and_odoo_are_both_named_at_start_up() -> None:
    redis_port, odoo_port = free_port(), free_port()
    code, err = await _run_app("--dev", env={
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "ODOO_URL": f"http://127.0.0.1:{odoo_port}",
        "ODOO_DB": "helpdesk", "ODOO_LOGIN": "admin", "ODOO_API_KEY": "test-api-key", "PORT": str(free_port())})
    assert code == 1
    redis_line, odoo_line = [line for line in err.splitlines() if not _log_line(line)]
    assert redis_line.startswith(f"cannot start: REDIS_URL: no answer from Redis at redis://127.0.0.1:{redis_port}/0 ")
    assert odoo_line.startswith(f"cannot start: ODOO_URL: cannot reach Odoo at http://127.0.0.1:{odoo_port}")


async def test_demo_starts_with_nothing_installed_and_escalates(
        connector: tuple[ConnectorStub, str], tmp_path: Path) -> None:
    """`app.py --demo` (in-process Redis stand-in, built-in sandbox Odoo), driven as the Agents
    Playground's default user: a channel registered, a seeded ticket escalated, the card acknowledged."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "app.py"), "--demo", cwd=tmp_path,  # no developer's .env
        env={"PATH": os.environ.get("PATH", ""), "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    stub, connector_url = connector
    stub.add_member(ALEX.id, ALEX.name, ALEX.email)
    try:
        banner = ""
        async with asyncio.timeout(60):
            while "agentsplayground" not in banner:
                line = (await process.stdout.readline()).decode()
                assert line, "the demo exited before printing its banner"
                banner += line
        assert f"http://localhost:{port}/api/messages" in banner
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 200
            alex = TeamsClient(f"http://127.0.0.1:{port}/api/messages", connector_url, stub, session, ALEX)
            await alex.say_in_channel("/ticket channel content-ops", "19:content@thread.tacv2")
            await alex.say("/ticket escalate 1 content-ops Students cannot watch lesson 3")
            [posted] = stub.cards_in("19:content")
            card = posted.card or {}
            assert "Escalation to the Content Ops team" in card_text(card)
            status, body = await alex.invoke("escalation.ack", card["refresh"]["action"]["data"],
                                             channel="19:content@thread.tacv2")
            assert status == 200 and "Acknowledged by Alex Wilber" in card_text(body["value"])
    finally:
        process.terminate()
        await process.wait()


async def test_malformed_requests_are_refused_cleanly(teams: TeamsClient) -> None:
    async with teams.session.post(teams.bot_url, data="{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
    async with teams.session.post(teams.bot_url, json={"text": "no type"}) as r:
        assert r.status == 400
    async with teams.session.post(teams.bot_url, json=[1, 2, 3]) as r:
        assert r.status == 400
    async with teams.session.post(teams.bot_url, data="type=message", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415
    assert teams.connector.posted == []


async def test_a_card_invoke_is_answered_with_a_card_not_a_500(teams: TeamsClient) -> None:
    """botbuilder 4.17.1 turns invoke responses into HTTP 500 unless the body is a model (see the adapter)."""
    status, body = await teams.invoke("frobnicate", {"ticket": 1})
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "frobnicate" in body["value"]["body"][0]["text"]


async def test_the_bot_says_welcome_once_when_it_is_added(teams: TeamsClient) -> None:
    """Teams sends an installationUpdate and a conversationUpdate for one installation."""
    base = teams._base(teams.personal())
    installed = await teams.send({**base, "type": "installationUpdate", "action": "add"})
    added = await teams.send({**base, "type": "conversationUpdate",
                              "membersAdded": [{"id": "28:bot-id"}, {"id": teams.user.id}]})
    removed = await teams.send({**base, "type": "installationUpdate", "action": "remove"})
    assert installed == [] and removed == []
    [welcome] = added
    assert "Type `/ticket new` followed by a title" in welcome.text and "<" not in welcome.text
