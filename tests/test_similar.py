"""Past fixes on new tickets (issue 18): the resolved tickets most like a new one, with their root cause and fix.

Through the bot's HTTP endpoint, on the Odoo double holding the demo's four weeks of history (bot/demo/history.py: the
same failures coming back, each diagnosed and resolved in the chatter); the index is built and kept up by the Odoo
poller, driven here by the tests; every card checked by Microsoft's adaptivecards library.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.chatter_words import CONFIRMED, DIAGNOSIS, resolution
from bot.demo.history import PAST, seed_history
from bot.demo.seed import ids_by_name, seed_scenarios
from bot.insights import similar as similar_module
from bot.insights.similar import folded, terms
from bot.server import Runtime
from bot.wording import WORD_JOINER
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import FakeClock, RunningSandbox, _serve
from tests.support.card_validator import validate_cards
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text

LOGIN, VIDEO, SLOW = PAST[0], PAST[1], PAST[2]
LOGIN_CAUSE = "the LMS caches the old password hash for 30 minutes"
HEADING = "Resolved tickets like this one"


@pytest.fixture
def history() -> bool:
    """Whether the helpdesk has the demo's four weeks of resolved tickets (a test parametrizes it False)."""
    return True


@pytest.fixture
async def sandbox(clock: FakeClock, history: bool) -> AsyncIterator[RunningSandbox]:
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                       api_key="test-api-key", clock=clock.now)
    seed_scenarios(odoo)
    if history:
        seed_history(odoo)
    server = await _serve(create_sandbox_app(odoo))
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


def past_ids(odoo: OdooView, title: str) -> set[int]:
    return set(odoo.call("helpdesk.ticket", "search", [["name", "=", title]]))


def listed(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of the past tickets on a card (each: the link and title, the cause, the fix)."""
    return [element for element in card["body"] if element.get("type") == "Container"
            and element["items"][0]["text"].startswith("[HT")]


def linked_ids(card: dict[str, Any]) -> list[int]:
    """The Odoo ids the past tickets on a card link to (`[HT00005](http://...web#id=5&model=...)`)."""
    found = [re.match(r"\[HT\d+\]\([^)#]*#id=(\d+)&", container["items"][0]["text"]) for container in listed(card)]
    return [int(match.group(1)) for match in found if match]


def close_ticket(sb: OdooSandbox, title: str, description: str, diagnosis: str, fix: str) -> int:
    """A ticket resolved in Odoo's own UI the way the bot would have written it."""
    agent = sb.call(sb.admin_uid, "res.users", "search", [[["login", "=", "huy.pq@mindx.edu.vn"]]])[0]
    ticket = sb.call(sb.admin_uid, "helpdesk.ticket", "create", [{"name": title, "description": description}])
    for subtype, text in (("mail.mt_note", f"{DIAGNOSIS} {diagnosis}"), ("mail.mt_comment", resolution(fix)),
                          ("mail.mt_note", f"{CONFIRMED}.")):
        sb.call(agent, "helpdesk.ticket", "message_post", [[ticket]],
                {"body": text, "message_type": "comment", "subtype_xmlid": subtype})
    done = ids_by_name(sb, "helpdesk.ticket.stage")["Done"]
    sb.call(sb.admin_uid, "helpdesk.ticket", "write", [[ticket], {"stage_id": done}])
    return ticket


# ---- the words compared ---------------------------------------------------------------------------------------

def test_vietnamese_is_folded_so_that_it_matches_with_and_without_diacritics() -> None:
    assert folded("Không thể Đăng nhập vào LMS") == "khong the dang nhap vao lms"
    assert terms("Không thể đăng nhập") == terms("khong the dang nhap") == terms("KHÔNG THỂ ĐĂNG NHẬP")
    assert terms("The video is not loading") == ["video", "loading"]  # English stop words left out


# ---- the new ticket's card ------------------------------------------------------------------------------------

async def test_a_new_ticket_s_card_shows_the_three_resolved_tickets_like_it_with_cause_fix_and_link(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView) -> None:
    await runtime.poller.poll_once()  # the first round builds the index
    card = await teams.card("/ticket new Giáo viên không đăng nhập được vào LMS users:1\n"
                            "Sau khi đổi mật khẩu vẫn báo sai mật khẩu.")
    logins = past_ids(odoo, LOGIN.title)
    assert len(listed(card)) == 3
    assert set(linked_ids(card)) <= logins
    shown = card_text(card)
    assert HEADING in shown
    assert f"Cause: {LOGIN_CAUSE}" in shown
    assert f"Fix: {LOGIN.resolution}" in shown
    assert "Could you please confirm" not in shown  # the fix, not the question that asked the customer
    assert validate_cards([card]) == [[]]


async def test_without_diacritics_the_same_past_tickets_are_found(teams: TeamsClient, runtime: Runtime,
                                                                  odoo: OdooView) -> None:
    await runtime.poller.poll_once()
    card = await teams.card("/ticket new khong the dang nhap vao LMS users:1")
    assert set(linked_ids(card)) <= past_ids(odoo, LOGIN.title)
    assert len(linked_ids(card)) == 3


async def test_an_english_report_finds_the_vietnamese_tickets_by_their_diagnosis(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView) -> None:
    await runtime.poller.poll_once()
    card = await teams.card("/ticket new Lesson videos: Cannot load media users:12")
    assert set(linked_ids(card)) <= past_ids(odoo, VIDEO.title)
    assert "Fix: Renewed the CDN token for the playlist" in card_text(card)


async def test_a_vietnamese_reader_sees_the_section_in_vietnamese(teams: TeamsClient, runtime: Runtime) -> None:
    await runtime.poller.poll_once()
    teams.locale = "vi-VN"
    card = await teams.card("/ticket new LMS chậm vào buổi tối users:30")
    shown = card_text(card)
    assert "Các ticket tương tự đã xử lý xong" in shown
    assert "Nguyên nhân: the reports query locks the sessions table" in shown  # the notes stay as written
    assert "Cách khắc phục: Moved the reports query to the read replica." in shown


async def test_before_the_index_is_built_the_card_has_no_section(teams: TeamsClient) -> None:
    card = await teams.card("/ticket new Không thể đăng nhập vào LMS users:1")
    assert HEADING not in card_text(card)
    answer = card_text(await teams.card("/ticket similar 1"))
    assert "I am still reading the resolved tickets from Odoo" in answer


@pytest.mark.parametrize("history", [False])
async def test_a_helpdesk_with_no_resolved_tickets_says_nothing_about_them(teams: TeamsClient,
                                                                           runtime: Runtime) -> None:
    await runtime.poller.poll_once()
    assert runtime.services.similar.ready
    card = await teams.card("/ticket new Không thể đăng nhập vào LMS users:1")
    assert HEADING not in card_text(card)
    assert listed(card) == []
    assert "No resolved ticket is like this one yet." in card_text(await teams.card("/ticket similar 1"))


async def test_nothing_in_common_lists_nothing(teams: TeamsClient, runtime: Runtime) -> None:
    await runtime.poller.poll_once()
    card = await teams.card("/ticket new Máy in tầng 4 hết mực users:1")
    assert listed(card) == []


# ---- /ticket similar ------------------------------------------------------------------------------------------

async def test_ticket_similar_shows_the_past_fixes_of_an_open_ticket(teams: TeamsClient, runtime: Runtime,
                                                                    odoo: OdooView) -> None:
    await runtime.poller.poll_once()
    [open_video] = odoo.call("helpdesk.ticket", "search", [["name", "=", "Lesson 3 video: Cannot load media"]])
    card = await teams.card(f"/ticket similar {open_video}")
    assert set(linked_ids(card)) <= past_ids(odoo, VIDEO.title)
    assert len(linked_ids(card)) == 3
    assert validate_cards([card]) == [[]]


async def test_ticket_similar_of_a_resolved_ticket_leaves_it_out(teams: TeamsClient, runtime: Runtime,
                                                                 odoo: OdooView) -> None:
    await runtime.poller.poll_once()
    slow = past_ids(odoo, SLOW.title)
    one = min(slow)
    card = await teams.card(f"/ticket similar {one}")
    assert one not in linked_ids(card)
    assert set(linked_ids(card)[:2]) == slow - {one}  # the other two times it happened, first


# ---- built from Odoo in pages, kept up by the poller ----------------------------------------------------------

async def test_the_index_is_read_in_pages_not_one_call_per_ticket(runtime: Runtime, sandbox: RunningSandbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similar_module, "PAGE", 5)
    sandbox.odoo.calls.clear()
    await runtime.services.similar.keep_up(runtime.services.odoo, now=runtime.services.clock())
    resolved = sum(incident.times for incident in PAST)
    assert len(runtime.services.similar) == resolved
    pages = resolved // 5 + 1
    assert sandbox.odoo.calls[("helpdesk.ticket", "search_read")] == pages
    assert sandbox.odoo.calls[("mail.message", "search_read")] == pages


async def test_the_poller_adds_a_ticket_resolved_from_teams(teams: TeamsClient, runtime: Runtime,
                                                            clock: FakeClock) -> None:
    await runtime.poller.poll_once()
    fixed = await teams.card("/ticket new Zoom plugin crashes on join users:1")
    ticket = fixed["body"][0]["text"].split(" ", 1)[0]
    await teams.say(f"/ticket diag {ticket} QuotaExceededError in the plugin log. Root cause: the plugin's "
                    "token cache is full.")
    await teams.say(f"/ticket resolve {ticket} Cleared the plugin's token cache.")
    await teams.say(f"/ticket confirm {ticket}")
    before = await teams.card("/ticket new Zoom plugin crashes again users:1")
    assert f"[{ticket}]" not in card_text(before)  # not before the next round
    clock.advance(seconds=30)
    await runtime.poller.poll_once()
    after = await teams.card("/ticket new Zoom plugin crashes again users:1")
    shown = card_text(after)
    assert f"[{ticket}]" in shown
    assert "Cause: the plugin's token cache is full" in shown
    assert "Fix: Cleared the plugin's token cache." in shown


async def test_the_poller_adds_a_ticket_resolved_in_odoo(teams: TeamsClient, runtime: Runtime,
                                                         sandbox: RunningSandbox, clock: FakeClock) -> None:
    await runtime.poller.poll_once()
    clock.advance(seconds=5)
    closed = close_ticket(sandbox.odoo, "Moodle gradebook export empty", "<p>CSV export has no rows</p>",
                          "Root cause: the export job ran as a user without grade access.",
                          "Ran the export as the gradebook service user.")
    await runtime.poller.poll_once()
    card = await teams.card("/ticket new Gradebook export is empty users:1")
    assert linked_ids(card)[0] == closed


# ---- hostile text -----------------------------------------------------------------------------------------------

async def test_hostile_chatter_and_descriptions_are_shown_as_text_and_break_nothing(
        teams: TeamsClient, runtime: Runtime, sandbox: RunningSandbox, clock: FakeClock) -> None:
    huge = "overflow " * 20_000
    close_ticket(sandbox.odoo, "[Reset your password](https://evil.example) printer jam",
                 f"<script>alert(1)</script><p>{huge}</p>\x00\u202e",
                 "printer jam **bold** <img src=x onerror=alert(1)> Root cause: [click](https://evil.example)",
                 "printer jam ```rm -rf /``` \u202e\x00 " + huge)
    close_ticket(sandbox.odoo, "printer jam", "<p>printer jam</p>", "", "")  # nothing said: nothing to offer, left out
    await runtime.poller.poll_once()
    card = await teams.card("/ticket new Printer jam on floor 2 users:1")
    [shown] = listed(card)
    link_and_title = shown["items"][0]["text"]
    assert f"]{WORD_JOINER}(https://evil.example)" in link_and_title  # no link of the attacker's
    assert all(len(item["text"]) < 1_000 for item in shown["items"])  # excerpts, not the whole note
    assert validate_cards([card]) == [[]]
