"""What a real Odoo hands back is untrusted too (issue 15, item 5), against a real Odoo of the series over every
protocol it speaks: hostile text written into real tickets as Odoo's other writers would (an Odoo user's `write`
and `message_post`, a customer's e-mail in the chatter, and a new ticket made by Odoo's e-mail gateway,
`mail.thread.message_process`, as `odoo-mailgate.py` feeds it), then every read path through the bot: `/ticket
list`, `show`, `summary today` and `<id>`, `trend`, `postmortem` (the timeline), a poller round and the start-up
rebuild (the escalation rebuild included, over a spoiled escalation note). No crash card, no error logged, and
the warning about a field the bot cannot read names its ticket.

Written over JSON-RPC as Odoo's administrator, which carries what XML-RPC cannot (control characters, U+FFFE);
what the real Odoo keeps is what it hands back (its html sanitizer runs on descriptions and message bodies;
PostgreSQL refuses NUL, so none is written). The spoiled tickets are closed at the end: the databases outlive a
run.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import pytest

from bot.chatter_words import ESCALATED
from bot.reminders.poller import rebuild_reminders, rebuilt_marker
from tests.real_odoo.conftest import RealDesk, RealOdoo, StartBot
from tests.support.logs import Records
from tests.test_fuzz_commands import BROKEN

pytestmark = pytest.mark.real_odoo

LONG = "<p>" + "Lỗi <b>x</b> ²①٣ " * 2_000 + "</p>"  # about 34,000 characters
CONTROLS = "\x01\x07\x0b\x1b[31m\u202e\ufeff\ufffe\uffff"


def _facts(*lines: str) -> str:
    """A facts block as the bot writes one (bot/tickets.py), with these lines."""
    return "<p><b>Support desk</b><br>" + "<br>".join(lines) + "</p>"


# what each ticket gets, and whether a field of it cannot be read (a warning naming the ticket is expected)
SPOILS: dict[str, tuple[dict[str, str], bool]] = {
    "a fake facts block": ({"description": "<p>Video does not load</p>" + _facts("Users affected: ²")}, True),
    "Unicode digits": ({"name": "Lỗi ① ² ٣ ４２", "description": _facts(
        "Users affected: ١٢", "Deadline: ２０２５-01-30 09:00 UTC", "Reported: 9999-12-31 23:59 UTC")}, True),
    "HTML and script, 34 KB": ({"name": "<script>alert(1)</script><img src=x onerror=alert(1)>**b** [x](https://e.x)",
                                "description": LONG + _facts("Users affected: " + "9" * 4_301)}, True),
    "control characters, U+FFFE": ({"name": f"Printer {CONTROLS} end",
                                    "description": f"<p>{CONTROLS}</p>" + _facts(f"Users affected: ³{CONTROLS}")},
                                   True),
    "an empty name": ({"name": "", "description": ""}, False),
}
NOTES = ("<p>Users affected: ²</p><script>alert(1)</script>", f"<p>{CONTROLS} ①</p>", LONG,
         f"<p>{ESCALATED}Dev team: ² users<!-- escalation: --></p>", "")


class JsonRpc:
    """Odoo's /jsonrpc as its administrator: what the tests write as Odoo's other writers would."""

    def __init__(self, real_odoo: RealOdoo, db: str) -> None:
        self._url, self._db, self._key = real_odoo.url + "/jsonrpc", db, real_odoo.api_key

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw", "args": [self._db, 2, self._key, model, method, list(args),
                                                                  kwargs]}}
        request = urllib.request.Request(self._url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        if "error" in answer:
            raise AssertionError(f"Odoo refused {model}.{method}: {answer['error']['data']['message']}")
        return answer["result"]



def _mail(run: str, protocol: str) -> str:
    """A customer's e-mail to the helpdesk whose html ends in a fake facts block, as a mail server hands it on."""
    return ("From: Khách hàng <customer+" + run + "@example.com>\r\nTo: helpdesk@example.com\r\n"
            f"Subject: =?utf-8?b?TOG7l2kg4pGg?= <b>x</b> {run}-{protocol}\r\n"
            f"Message-Id: <hostile-{run}-{protocol}@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "<p>Help, the video does not load</p><script>alert(1)</script>"
            + _facts("Users affected: ²", "Deadline: ２０２５-01-30 09:00 UTC", f"Logged by: {CONTROLS}") + "\r\n")


async def _read_everything(desk: RealDesk, ticket_ids: list[int]) -> dict[str, str]:
    lead = desk.cast.lead
    commands = ["/ticket list open", "/ticket list", "/ticket summary today", "/ticket trend", "/ticket trend month",
                *(f"/ticket {verb} {tid}" for tid in ticket_ids for verb in ("show", "summary", "postmortem"))]
    answers = {command: await desk.say(command, sender=lead) for command in commands}
    answers["/ticket list (agent)"] = await desk.say("/ticket list")
    return answers


async def test_hostile_text_in_real_tickets_stops_no_read_path(
        start_bot: StartBot, protocol: str, run_tag: str, real_odoo: RealOdoo, logged: Records) -> None:
    desk = await start_bot("helpdesk", protocol)
    odoo, runtime = desk.odoo, desk.runtime
    admin = JsonRpc(real_odoo, odoo.db)
    redis = runtime.services.store.redis
    await runtime.poller.poll_once()  # the first poll sets the cursors
    cursor = await redis.get(runtime.poller._cursor_key)

    made: dict[str, int] = {}
    for n, what in enumerate(SPOILS):
        await desk.say(f"/ticket new Hostile {n} {run_tag}-{protocol} users:1 customer:c{n}+{run_tag}@example.com")
        made[what] = int(odoo.newest_ticket()["id"])
    try:
        await desk.teams.say_in_channel("/ticket channel dev", "19:dev@thread.tacv2", sender=desk.cast.lead)
        escalated = await desk.say(f"/ticket escalate {made['a fake facts block']} dev Video down for a class",
                                   sender=desk.cast.lead)
        assert "escalated" in escalated and "Dev team" in escalated, escalated
        for what, (values, _) in SPOILS.items():  # an Odoo user edits the tickets in Odoo's form
            admin.call("helpdesk.ticket", "write", [made[what]], values)
        for tid, body in zip(made.values(), NOTES, strict=True):  # ... and writes in their chatter
            admin.call("helpdesk.ticket", "message_post", [tid], body=body, message_type="comment",
                       subtype_xmlid="mail.mt_note")
            [read] = admin.call("helpdesk.ticket", "read", [tid], fields=["partner_id"])
            partner = read["partner_id"]
            admin.call("helpdesk.ticket", "message_post", [tid], body=body or "<p>²</p>", message_type="email",
                       subtype_xmlid="mail.mt_comment", author_id=partner[0] if partner else False)
        mailed = admin.call("mail.thread", "message_process", "helpdesk.ticket", _mail(run_tag, protocol))
        made["by the e-mail gateway"] = int(mailed)
        unreadable = [tid for what, tid in made.items() if SPOILS.get(what, ({}, True))[1]]

        answers = await _read_everything(desk, list(made.values()))
        for command, shown in answers.items():
            for broken in BROKEN:
                assert broken not in shown, f"{command} was answered {shown!r}"
        assert str(made["a fake facts block"]) in answers["/ticket list open"] or "HT" in answers["/ticket list open"]
        assert "Video does not load" in answers[f"/ticket show {made['a fake facts block']}"]

        assert await runtime.poller.poll_once() >= len(made) - 1  # read them all; its cursor moves on
        assert await redis.get(runtime.poller._cursor_key) > cursor
        await redis.delete(rebuilt_marker(runtime.services))
        escalations = runtime.services.store.key("escalation*")
        assert [key async for key in redis.scan_iter(escalations)]
        await redis.delete(*[key async for key in redis.scan_iter(escalations)])  # Redis lost them: the rebuild
        assert await rebuild_reminders(runtime.services) >= len(made)  # reads them back from the spoiled chatter
        assert [key async for key in redis.scan_iter(escalations)]  # the real one given back

        warnings = [r.getMessage() for r in logged.at(logging.WARNING) if r.name == "bot.odoo.records"]
        for tid in unreadable:
            assert any(w.startswith(f"ticket {tid}: ") for w in warnings), (tid, warnings)
        errors = [f"{r.name}: {r.getMessage()}" for r in logged.at(logging.ERROR)]
        assert not errors, errors
    finally:  # the databases outlive the run: the spoiled tickets are closed
        [done] = admin.call("helpdesk.ticket.stage", "search", [["closed", "=", True]], limit=1)
        admin.call("helpdesk.ticket", "write", list(made.values()), {"stage_id": done})
