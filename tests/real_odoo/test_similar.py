"""Past fixes on a real Odoo (issue 18): a ticket diagnosed, resolved and closed from Teams is read back from the real
chatter by the similar tickets' index (built in pages, kept up by the poller), and a new similar ticket's card offers
its root cause and fix, with a link to it."""

from __future__ import annotations

import pytest

from tests.real_odoo.conftest import StartBot
from tests.support.teams import card_text

pytestmark = pytest.mark.real_odoo


async def test_a_ticket_resolved_from_teams_is_offered_on_a_new_similar_ticket(start_bot: StartBot, protocol: str,
                                                                              run_tag: str) -> None:
    desk = await start_bot("helpdesk", protocol)
    run = f"{run_tag}{protocol}".replace("-", "")  # one word: this run's tickets only
    await desk.runtime.poller.poll_once()  # the index, built from what the database already holds
    assert desk.runtime.services.similar.ready

    await desk.say(f"/ticket new Đồng hồ bài kiểm tra bị đứng {run} users:1\nHọc viên làm bài trên Safari.")
    past = desk.odoo.newest_ticket()
    tid = int(past["id"])
    await desk.say(f"/ticket ack {tid}")
    await desk.say(f"/ticket diag {tid} Timer stops at 00:00 in Safari {run}. Root cause: Safari throttles the "
                   "timer in background tabs.")
    await desk.say(f"/ticket resolve {tid} Moved the quiz timer to server time.")
    await desk.say(f"/ticket confirm {tid}")
    assert desk.odoo.ticket(tid)["stage_id"][1] == "Done"

    desk.clock.advance(seconds=30)
    await desk.runtime.poller.poll_once()  # the round adds the tickets resolved since the last one
    card = await desk.teams.card(f"/ticket new dong ho bai kiem tra bi dung tren Safari {run} users:1")
    shown = card_text(card)
    assert "Resolved tickets like this one" in shown
    assert f"[{past['number']}](" in shown
    assert f"id={tid}&" in shown  # the link to it in Odoo
    assert "Cause: Safari throttles the timer in background tabs" in shown
    assert "Fix: Moved the quiz timer to server time." in shown
