"""`/ticket email`: drafts from the Jinja2 templates through the real bot, and posting them from their card
(Action.Execute invokes over HTTP) into the Odoo double: once, as shown or as edited, re-checked at the click.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.drafts import templates
from bot.drafts.model import DraftAction, DraftKind
from bot.insights.timeline import EventKind, events, milestones
from bot.server import Runtime, create_app
from tests.conftest import AGENT, LEAD, STRANGER, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.drafts import draft_id, edit_box, filled_in
from tests.support.markdown import visible
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, TeamsUser, card_elements, card_text

CUSTOMER = "nguyen.van.a@mindx.edu.vn"
MANAGEMENT = "19:management@thread.tacv2"
# The seeds' workarounds for scenario 1 (incognito mode, check the URL, another browser), as the agent types them.
WORKAROUND = ("Trong lúc chờ, anh/chị có thể thử đăng nhập bằng cửa sổ ẩn danh, kiểm tra lại địa chỉ LMS "
              "hoặc dùng một trình duyệt khác.")


async def scenario_1(teams: TeamsClient, odoo: OdooView, *, customer_lang: str | bool = "vi_VN") -> int:
    """Scenario 1 of the seeds logged through the bot; the teacher's Odoo contact speaks Vietnamese."""
    odoo.call("res.partner", "write", [odoo.partner_id(CUSTOMER)], {"lang": customer_lang})
    await teams.card(f"/ticket new Không thể đăng nhập vào LMS users:1 customer:{CUSTOMER} type:incident\n"
                     "Teacher gets \"Invalid username or password\"; class happening today.")
    return int(odoo.newest_ticket()["id"])


async def say(teams: TeamsClient, text: str, *, locale: str = "en-US", sender: TeamsUser | None = None
              ) -> dict[str, Any]:
    """`text` typed in the 1:1 chat by a Teams client set to `locale`: the one card the bot answered with."""
    activity = {**teams._base(teams.personal(sender), sender=sender), "type": "message", "text": text,
                "locale": locale}
    activity["entities"] = [{"type": "clientInfo", "locale": locale, "timezone": teams.timezone}]
    chat = teams.personal(sender)["id"]
    cards = [p.card for p in await teams.send(activity) if p.card and p.conversation_id == chat]
    assert len(cards) == 1, cards
    return cards[0]


def lines(card: dict[str, Any]) -> list[str]:
    """The draft's text as the card shows it (rendered: it is shown literally), a line each."""
    [container] = [e for e in card["body"] if e.get("type") == "Container"]
    return [visible(block["text"]) for block in container["items"]]


def subject(card: dict[str, Any]) -> str:
    [fact_set] = [e for e in card["body"] if e.get("type") == "FactSet"]
    return next(f["value"] for f in fact_set["facts"] if f["title"] == "Subject")


async def click(teams: TeamsClient, verb: DraftAction, draft: str, *, by: TeamsUser | None = None,
                **inputs: str) -> dict[str, Any]:
    status, body = await teams.invoke(verb.value, {"draft": draft, **inputs}, sender=by)
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    return dict(body["value"])


def customer_messages(odoo: OdooView, tid: int) -> list[dict[str, Any]]:
    """The customer-visible chatter messages (subtype Discussions), with their e-mail subject."""
    found = odoo.call("mail.message", "search_read",
                      [["model", "=", "helpdesk.ticket"], ["res_id", "=", tid], ["message_type", "=", "comment"]],
                      fields=["body", "subject", "partner_ids", "subtype_id"], order="id")
    return [m for m in found if m["subtype_id"] and m["subtype_id"][1] == "Discussions"]


def stage(odoo: OdooView, tid: int) -> str:
    return str(odoo.ticket(tid)["stage_id"][1])


async def test_scenario_1_vietnamese_ack_reads_naturally(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    number = odoo.ticket(tid)["number"]
    card = await teams.card(f"/ticket email {tid} ack {WORKAROUND}")

    assert subject(card) == f"RE: Không thể đăng nhập vào LMS - Đã tiếp nhận - Ticket {number}"
    text = lines(card)
    assert text[0] == "Kính gửi anh/chị Nguyễn Văn A,"  # greeting, by name
    body = "\n".join(text)
    assert (f"Chúng tôi đã tiếp nhận yêu cầu \"Không thể đăng nhập vào LMS\" (mã ticket {number}) và thành thật "
            "xin lỗi vì sự bất tiện mà anh/chị đang gặp phải.") in body  # received, with empathy
    assert f"Hiện tại, {AGENT.name} đang trực tiếp kiểm tra yêu cầu của anh/chị." in body
    assert WORKAROUND in text  # the workaround the agent added, as its own paragraph
    steps = text.index("Các bước tiếp theo:")  # what happens next, and when they hear from us (no fixed ETA)
    assert text[steps + 1].startswith("- Chúng tôi đang kiểm tra hệ thống để xác định nguyên nhân")
    assert text[steps + 2] == ("- Chúng tôi sẽ cập nhật tình hình cho anh/chị ít nhất 24 giờ một lần, kể cả khi "
                               "chưa có tiến triển mới.")
    assert text[-3:] == ["Trân trọng,", AGENT.name, "MindX IT support desk"]  # signed with the agent's name
    for english_or_leftover in ("Dear", "Thank you", "hours", "{{", "}}", "[", "None"):
        assert english_or_leftover not in body, english_or_leftover
    shown = card_text(card)
    assert "Draft acknowledgment for Nguyễn Văn A" in shown and "Language: Vietnamese" in shown  # the agent's words
    assert "[Post to customer]" in shown and "[Edit]" in shown
    assert customer_messages(odoo, tid) == []  # a draft posts nothing by itself


async def test_post_to_customer_lands_once_addressed_to_the_customer(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} ack {WORKAROUND}")
    shown = lines(card)

    answer = card_text(await click(teams, DraftAction.POST, draft_id(card)))
    assert f"Posted to Nguyễn Văn A by {AGENT.name}" in answer and "[Post to customer]" not in answer
    [message] = customer_messages(odoo, tid)
    assert message["partner_ids"] == [odoo.partner_id(CUSTOMER)]  # the customer is a recipient: Odoo e-mails them
    assert message["subject"] == subject(card)
    assert "Kính gửi anh/chị Nguyễn Văn A," in message["body"] and WORKAROUND in message["body"]
    assert f"{AGENT.name}</b> (via Teams)" in message["body"]
    assert stage(odoo, tid) == "In Progress"  # an acknowledgment, as `/ticket ack` does
    assert "Send the customer an update by" in card_text(await teams.card(f"/ticket show {tid}"))

    again = card_text(await click(teams, DraftAction.POST, draft_id(card)))  # a double click
    assert f"Already posted by {AGENT.name}: it was sent once." in again
    redelivered = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), text="Something else"))
    assert "Already posted" in redelivered
    [still_one] = customer_messages(odoo, tid)
    assert still_one["id"] == message["id"] and shown[0] in still_one["body"]


async def test_clicks_at_the_same_moment_post_once(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} update")
    answers = await asyncio.gather(*(click(teams, DraftAction.POST, draft_id(card), by=who)
                                     for who in (AGENT, AGENT, LEAD, LEAD)))
    assert sum("Posted to Nguyễn Văn A" in card_text(a) and "Already posted" not in card_text(a)
               and "posting it right now" not in card_text(a) for a in answers) == 1
    assert len(customer_messages(odoo, tid)) == 1


async def test_edit_then_post_sends_the_edited_text(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} ack")
    [box] = [e for e in card_elements(card) if e.get("id") == "text"]
    assert box["type"] == "Input.Text" and box["value"] == "\n".join(_paragraphs(card))  # prefilled with the draft

    edited = box["value"].replace("Kính gửi anh/chị Nguyễn Văn A,", "Chào thầy Nguyễn Văn A,")
    answer = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), text=edited,
                                   subject="RE: Không thể đăng nhập vào LMS - Ticket đã tiếp nhận"))
    assert "Chào thầy Nguyễn Văn A," in answer and "Posted to Nguyễn Văn A" in answer
    [message] = customer_messages(odoo, tid)
    assert "Chào thầy Nguyễn Văn A," in message["body"] and "Kính gửi" not in message["body"]
    assert message["subject"] == "RE: Không thể đăng nhập vào LMS - Ticket đã tiếp nhận"

    assert "Already posted" in card_text(await click(teams, DraftAction.POST, draft_id(card)))
    assert len(customer_messages(odoo, tid)) == 1


def _paragraphs(card: dict[str, Any]) -> list[str]:
    """The card's lines as shown, with the empty lines between paragraphs put back (blocks spaced Medium start
    one)."""
    [container] = [e for e in card["body"] if e.get("type") == "Container"]
    out: list[str] = []
    for block in container["items"]:
        if block.get("spacing") == "Medium":
            out.append("")
        out.append(visible(block["text"]))
    return out


async def test_an_empty_edit_is_refused_and_the_draft_stays_postable(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} update")
    refused = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), text="   "))
    assert "The edited draft is empty" in refused and "Nothing was posted." in refused
    assert customer_messages(odoo, tid) == []
    assert "Posted to" in card_text(await click(teams, DraftAction.POST, draft_id(card)))


@pytest.mark.parametrize("edited", [{"text": ["Dear customer,", "fixed"]}, {"text": {"a": "Dear customer"}},
                                    {"text": 42}, {"text": True}, {"text": "Fixed.", "subject": ["RE:", "x"]},
                                    {"text": "Fixed.", "subject": {"s": 1}}])
async def test_an_edit_that_is_not_text_is_refused_and_nothing_is_posted(teams: TeamsClient, odoo: OdooView,
                                                                         edited: dict[str, Any]) -> None:
    """The Edit box sends text; a client that sends a list, an object, a number is answered, not posted as Python's
    rendering of it."""
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} update")
    status, body = await teams.invoke(DraftAction.POST_EDITED.value, {"draft": draft_id(card), **edited})
    assert status == 200
    refused = card_text(body["value"])
    assert "The edited draft is not text" in refused and "Nothing was posted." in refused
    assert customer_messages(odoo, tid) == []
    assert "Posted to" in card_text(await click(teams, DraftAction.POST, draft_id(card)))


@pytest.mark.parametrize("kind", list(DraftKind))
@pytest.mark.parametrize("language", ["en", "vi"])
async def test_every_kind_renders_in_both_languages(teams: TeamsClient, odoo: OdooView, kind: DraftKind,
                                                    language: str) -> None:
    tid = await scenario_1(teams, odoo)
    await teams.card(f"/ticket diag {tid} Account active; 3 failed attempts in 10 min. Root cause: forgotten password.")
    card = await teams.card(f"/ticket email {tid} {kind.value} lang:{language}")
    body = "\n".join(lines(card))
    assert subject(card) and odoo.ticket(tid)["number"] in subject(card)
    assert AGENT.name in body and "{{" not in body and "None" not in body
    greeting = {"en": ("Dear Nguyễn Văn A,", "Hello,"),
                "vi": ("Kính gửi anh/chị Nguyễn Văn A,", "Kính gửi Ban quản lý,")}
    assert lines(card)[0] == greeting[language][kind is DraftKind.MANAGEMENT]
    if kind is not DraftKind.MANAGEMENT:  # the internal diagnosis note never reaches the customer
        assert "forgotten password" not in body and "3 failed attempts" not in body
    if kind is DraftKind.UPDATE:  # it says the cause is found, not what it is
        assert ("We have found the cause" if language == "en" else "đã xác định được nguyên nhân") in body
    if kind is DraftKind.MANAGEMENT:  # business terms, and the parts only a person can write
        assert "3 failed attempts" not in body
        assert "[Post to management channel]" not in card_text(card) and "Fill in and post" in card_text(card)


async def test_the_language_is_the_option_else_the_customers_else_the_agents(teams: TeamsClient,
                                                                              odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)  # the customer's Odoo language: vi_VN
    assert lines(await teams.card(f"/ticket email {tid} ack"))[0].startswith("Kính gửi")
    assert lines(await teams.card(f"/ticket email {tid} ack lang:en"))[0].startswith("Dear")
    odoo.call("res.partner", "write", [odoo.partner_id(CUSTOMER)], {"lang": "en_US"})
    assert lines(await say(teams, f"/ticket email {tid} ack", locale="vi-VN"))[0].startswith("Dear")
    odoo.call("res.partner", "write", [odoo.partner_id(CUSTOMER)], {"lang": False})  # Odoo does not know it
    vietnamese_agent = await say(teams, f"/ticket email {tid} ack", locale="vi-VN")
    assert lines(vietnamese_agent)[0].startswith("Kính gửi")
    assert "Bản nháp xác nhận tiếp nhận gửi Nguyễn Văn A" in card_text(vietnamese_agent)  # the card in hers too
    assert "[Gửi khách hàng]" in card_text(vietnamese_agent)
    assert lines(await teams.card(f"/ticket email {tid} ack"))[0].startswith("Dear")


@pytest.mark.parametrize(("typed", "said"), [
    ("/ticket email", "Which ticket?"),
    ("/ticket email abc ack", "`abc` is not a ticket id"),
    ("/ticket email {tid}", "Which e-mail? Use one of: ack, update, resolution, escalation, management."),
    ("/ticket email {tid} thanks", "`thanks` is not a kind of e-mail I draft. Use one of: ack, update"),
    ("/ticket email {tid} ack lang:fr", "There is no ack template in `fr`. Use lang: with one of: en, vi."),
])
async def test_bad_input_is_answered_with_the_usage_and_drafts_nothing(teams: TeamsClient, odoo: OdooView,
                                                                        redis: Redis, typed: str, said: str) -> None:
    tid = await scenario_1(teams, odoo)
    answer = card_text(await teams.card(typed.format(tid=tid)))
    assert said in answer
    assert "Usage: `/ticket email <id> <ack|update|resolution|escalation|management> [lang:en|vi]" in answer
    assert await redis.keys("*draft*") == []


async def test_an_unknown_ticket_is_said_plainly(teams: TeamsClient, redis: Redis) -> None:
    assert "There is no ticket #999 in Odoo." in card_text(await teams.card("/ticket email 999 ack"))
    assert await redis.keys("*draft*") == []


async def test_a_tampered_or_expired_draft_is_refused(teams: TeamsClient, odoo: OdooView, redis: Redis) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} ack")
    [key] = await redis.keys("*draft*")
    assert 0 < await redis.ttl(key) <= 24 * 3600  # kept for a day

    real = draft_id(card)
    one_letter_off = real[:-1] + ("y" if real.endswith("x") else "x")
    for tampered in ("../../ticketbot:user:29:agent-huy", one_letter_off, ""):
        refused = card_text(await click(teams, DraftAction.POST, tampered))
        assert "This draft is no longer known" in refused and "Nothing was posted." in refused
    await redis.delete(key)  # what its time to live does after a day
    refused = card_text(await click(teams, DraftAction.POST, real))
    assert "This draft is no longer known" in refused and "/ticket email <id> <kind>" in refused
    assert customer_messages(odoo, tid) == []


async def test_a_ticket_closed_since_the_draft_is_refused(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} update")
    await teams.card(f"/ticket cancel {tid} Logged twice by mistake")
    refused = card_text(await click(teams, DraftAction.POST, draft_id(card)))
    assert "is closed" in refused
    assert customer_messages(odoo, tid) == []
    assert "is closed" in card_text(await teams.card(f"/ticket email {tid} update"))  # nor drafted any more


async def test_only_an_odoo_user_may_post(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} ack")
    refused = card_text(await click(teams, DraftAction.POST, draft_id(card), by=STRANGER))
    assert "I can't find an Odoo user for you" in refused
    assert customer_messages(odoo, tid) == []
    assert stage(odoo, tid) == "New"


async def test_posting_follows_the_profiles_roles(redis: Redis, redis_url: str, sandbox: RunningSandbox,
                                                  clock: FakeClock, connector: tuple[ConnectorStub, str],
                                                  tmp_path: Path) -> None:
    profile = tmp_path / "leads-resolve.yaml"
    profile.write_text((templates.PROFILES_DIR / "mindx.yaml").read_text(encoding="utf-8").replace(
        "  close_force: [lead, manager]", "  close_force: [lead, manager]\n  resolve: [lead]"), encoding="utf-8")
    server = TestServer(create_app(bot_settings(redis_url, sandbox.url, process_profile=str(profile)),
                                   clock=clock.now), host="127.0.0.1")
    await server.start_server()
    odoo = OdooView(sandbox.odoo)
    stub, connector_url = connector
    try:
        async with aiohttp.ClientSession() as session:
            teams = TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
            tid = await scenario_1(teams, odoo)
            card = await teams.card(f"/ticket email {tid} resolution Reset the password and sent a temporary one.")
            refused = card_text(await click(teams, DraftAction.POST, draft_id(card)))
            assert "resolving is for: lead" in refused and LEAD.name in refused
            assert customer_messages(odoo, tid) == []
            posted = card_text(await click(teams, DraftAction.POST, draft_id(card), by=LEAD))
            assert f"by {LEAD.name}" in posted
            assert "Reset the password" in customer_messages(odoo, tid)[0]["body"]
            assert stage(odoo, tid) == "Solved"  # a resolution waits for the customer's confirmation
    finally:
        await server.close()


async def test_a_management_summary_goes_to_the_management_channel(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} management lang:en")
    refused = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), **filled_in(card)))
    assert "No channel is registered for management" in refused and "Nothing was posted." in refused

    await teams.say_in_channel("/ticket channel management", MANAGEMENT, sender=LEAD)
    answer = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), **filled_in(card)))
    assert "Posted to the management channel" in answer
    [posted] = teams.connector.cards_in(MANAGEMENT)
    shown = card_text(posted.card or {})
    assert "Business impact" in shown and "Decision needed" in shown and f"sent by {AGENT.name}" in shown
    assert customer_messages(odoo, tid) == []  # nothing to the customer
    note = odoo.messages(tid, subtype="Note")[-1]["body"]
    assert "Management summary posted to the management channel" in note and "Business impact" in note


async def test_a_draft_with_blanks_cannot_be_posted_until_they_are_written(teams: TeamsClient,
                                                                          odoo: OdooView) -> None:
    """The resolution before `/ticket resolve` recorded what was done: "[what was done]" is the agent's to write.
    The card offers no Post; a forged Post click, or an edit that leaves the blank as it is, is refused and posts
    nothing; written in, it is posted."""
    tid = await scenario_1(teams, odoo)
    await teams.card(f"/ticket ack {tid}")
    card = await teams.card(f"/ticket email {tid} resolution lang:en")
    assert "[what was done]" in "\n".join(lines(card))
    shown = card_text(card)
    assert "Before posting, write [what was done]: use Fill in and post." in shown
    assert "[Fill in and post]" in shown and "[Post to customer]" not in shown
    before = stage(odoo, tid), len(customer_messages(odoo, tid))  # `/ticket ack` told the customer

    forged = card_text(await click(teams, DraftAction.POST, draft_id(card)))
    assert "The draft still has [what was done] to fill in" in forged and "Nothing was posted." in forged
    untouched = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), **edit_box(card)))
    assert "The draft still has [what was done] to fill in" in untouched
    assert (stage(odoo, tid), len(customer_messages(odoo, tid))) == before

    written = filled_in(card, "We reset your password and unlocked the account.")
    answer = card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), **written))
    assert "Posted to Nguyễn Văn A" in answer
    message = customer_messages(odoo, tid)[-1]
    assert "We reset your password and unlocked the account." in message["body"]
    assert "[what was done]" not in message["body"] and stage(odoo, tid) == "Solved"


async def test_brackets_the_agent_writes_are_theirs_to_post(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} update lang:en")
    box = edit_box(card)
    box["text"] += "\n\nSee the attached screenshot [login page, 09:05]."
    assert "Posted to" in card_text(await click(teams, DraftAction.POST_EDITED, draft_id(card), **box))
    [message] = customer_messages(odoo, tid)
    assert "[login page, 09:05]" in message["body"]


async def test_the_management_draft_starts_from_the_tickets_decision_note(teams: TeamsClient,
                                                                         odoo: OdooView) -> None:
    tid = await scenario_1(teams, odoo)
    await teams.card(f"/ticket note {tid} Decision needed: open the exam again for the 15 teachers tomorrow?")
    asked = lines(await teams.card(f"/ticket email {tid} management lang:en"))
    decision = asked.index("Decision needed")
    assert asked[decision + 1] == "open the exam again for the 15 teachers tomorrow?"
    await teams.card(f"/ticket note {tid} Decided: yes, 08:00 tomorrow")  # answered: nothing left to decide
    decided = lines(await teams.card(f"/ticket email {tid} management lang:en"))
    assert decided[decided.index("Decision needed") + 1].startswith("[what you need decided")


async def test_a_customer_template_cannot_read_the_internal_notes(teams: TeamsClient, odoo: OdooView,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """A team's own update template that tries to quote the diagnosis is an error naming the file and line, not an
    e-mail carrying the team's internal notes."""
    copy = _copy_templates(tmp_path)
    (copy / "mindx" / "update.en.j2").write_text("Hello {{ customer }},\n\nWe found: {{ diagnosis }}\n",
                                                 encoding="utf-8")
    monkeypatch.setattr(templates, "TEMPLATES_DIR", copy)
    tid = await scenario_1(teams, odoo)
    await teams.card(f"/ticket diag {tid} SlowQueryWarning 28-32s; DB pool 85/100")
    answer = card_text(await teams.card(f"/ticket email {tid} update lang:en"))
    assert "update.en.j2 has an error at line 3: 'diagnosis' is undefined" in answer
    assert "SlowQueryWarning" not in answer


@pytest.mark.parametrize("language", ["en", "vi"])
async def test_a_feature_request_and_a_deadline_request_are_not_worded_as_incidents(
        teams: TeamsClient, odoo: OdooView, language: str) -> None:
    incident_words = {"en": ("sorry for the trouble", "checking our systems", "investigating the cause", "the fix"),
                      "vi": ("xin lỗi vì sự bất tiện", "kiểm tra hệ thống", "xác định nguyên nhân", "khắc phục")}
    await teams.card(f"/ticket new Export the gradebook to Excel users:3 customer:{CUSTOMER} type:feature")
    feature = int(odoo.newest_ticket()["id"])
    await teams.card(f"/ticket new Accounts for 40 new students users:1 customer:{CUSTOMER} type:request "
                     "deadline:2025-02-03")
    request = int(odoo.newest_ticket()["id"])
    drafts = {(tid, kind): "\n".join(lines(await teams.card(f"/ticket email {tid} {kind} lang:{language}")))
              for tid in (feature, request) for kind in ("ack", "update")}
    for text in drafts.values():
        assert not [words for words in incident_words[language] if words in text], text
    product_team = {"en": "product team", "vi": "bộ phận phát triển sản phẩm"}[language]
    assert product_team in drafts[feature, "ack"] and product_team in drafts[feature, "update"]
    planned = {"en": "plan to have it done by", "vi": "dự kiến hoàn thành trước"}[language]
    assert planned in drafts[request, "update"]


def _copy_templates(tmp_path: Path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(templates.TEMPLATES_DIR, copy, ignore=shutil.ignore_patterns("mindx", "tmf", "odoo-ps"))
    (copy / "mindx").mkdir()
    return copy


@pytest.mark.parametrize(("template", "said"), [
    ("Hello {{ customer }},\n\n{{ ticket.nmber }}\n", "at line 3: 'bot.drafts.values.TicketValues object' has no "
                                                      "attribute 'nmber'"),
    ("Hello {{ customer }},\n{% if message %}\n{{ message }\n", "at line 3: unexpected '}'"),
    ("Hello\n\n\n{{ agent.__class__.__mro__ }}\n", "at line 4: access to attribute '__class__' of 'str' object is "
                                                  "unsafe."),
])
async def test_a_template_with_an_error_is_named_with_its_line(teams: TeamsClient, odoo: OdooView, redis: Redis,
                                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                               template: str, said: str) -> None:
    copy = _copy_templates(tmp_path)
    (copy / "mindx" / "ack.en.j2").write_text(template, encoding="utf-8")  # the MindX team's own version
    monkeypatch.setattr(templates, "TEMPLATES_DIR", copy)
    tid = await scenario_1(teams, odoo)
    answer = card_text(await teams.card(f"/ticket email {tid} ack lang:en"))
    assert f"The template {copy / 'mindx' / 'ack.en.j2'} has an error {said}" in answer
    assert "Fix the template, then ask for the draft again. Nothing was posted." in answer
    assert await redis.keys("*draft*") == []
    assert lines(await teams.card(f"/ticket email {tid} ack lang:vi"))[0].startswith("Kính gửi")  # the shipped one


async def test_a_team_edits_a_template_without_a_restart(teams: TeamsClient, odoo: OdooView,
                                                         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = _copy_templates(tmp_path)
    monkeypatch.setattr(templates, "TEMPLATES_DIR", copy)
    tid = await scenario_1(teams, odoo)
    assert lines(await teams.card(f"/ticket email {tid} update lang:en"))[0] == "Dear Nguyễn Văn A,"
    own = copy / "mindx" / "update.en.j2"
    own.write_text('{% set subject = "Ticket " ~ ticket.number %}\nHi {{ customer }}, still on it. {{ agent }}\n',
                   encoding="utf-8")
    card = await teams.card(f"/ticket email {tid} update lang:en")
    assert lines(card) == [f"Hi Nguyễn Văn A, still on it. {AGENT.name}"]
    assert subject(card) == f"Ticket {odoo.ticket(tid)['number']}"


async def test_the_demo_desks_customers_get_vietnamese(teams: TeamsClient, odoo: OdooView) -> None:
    """`make demo`: the scenarios' customers are Vietnamese-speaking contacts in the sandbox Odoo."""
    title = "Video bài 3 Advanced JavaScript không load được"
    [video] = odoo.call("helpdesk.ticket", "search_read", [["name", "=", title]], fields=["id", "number"])
    card = await teams.card(f"/ticket email {video['id']} ack")
    assert lines(card)[0] == "Kính gửi anh/chị Teacher 01,"
    assert subject(card) == f"RE: {title} - Đã tiếp nhận - Ticket {video['number']}"


async def test_a_resolution_posted_in_vietnamese_counts_as_the_resolution(teams: TeamsClient, odoo: OdooView,
                                                                          runtime: Runtime, clock: FakeClock) -> None:
    """The post-mortem's 'resolved' is the moment the resolution reached the customer, whatever its language: the
    message carries the step hidden (bot.chatter_words.RESOLVED_STEP), not only the English question."""
    tid = await scenario_1(teams, odoo)
    card = await teams.card(f"/ticket email {tid} resolution lang:vi Đã đặt lại mật khẩu và gửi mật khẩu tạm thời.")
    clock.advance(minutes=25)
    assert "Posted to" in card_text(await click(teams, DraftAction.POST, draft_id(card)))
    [message] = customer_messages(odoo, tid)
    assert "Could you please confirm" not in message["body"]  # Vietnamese words only
    history = await runtime.services.odoo.history(tid)
    timeline = events(history)
    [resolved] = [event for event in timeline if event.kind is EventKind.RESOLVED]
    assert "Đã đặt lại mật khẩu" in resolved.text
    assert milestones(history, timeline).resolved == resolved.at
    assert odoo.ticket(tid)["stage_id"][1] == "Solved"
