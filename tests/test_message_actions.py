"""A ticket from any Teams message: the message actions Create ticket and Add to ticket (a message's "..." menu),
through the bot's HTTP endpoint with the invokes Teams sends (composeExtension/fetchTask, then
composeExtension/submitAction), in the 1:1 chat, a group chat and a channel."""

from __future__ import annotations

from typing import Any

import pytest

from bot.outbox import from_fields, to_fields
from bot.process import load_profile
from bot.turn import Conversation, Incoming, Kind, Person, Quoted
from tests.conftest import AGENT, STRANGER
from tests.support.card_validator import validate_cards
from tests.support.connector import ConnectorStub
from tests.support.odoo_view import OdooView
from tests.support.teams import Message, TeamsClient, TeamsUser, card_elements, card_text

CUSTOMER = TeamsUser("29:coordinator-ha", "Coordinator Hà", "coordinator.ha@mindx.edu.vn")  # an Odoo contact
COLLEAGUE = TeamsUser("29:colleague", "Someone Inside", "someone.inside@mindx.edu.vn")  # no Odoo contact
REPORT = Message("<p>The <b>LMS</b> shows a blank page after login</p><p>Since 9:00, for the whole HN-12 class "
                 "&amp; their teacher.<br>Chrome and Edge.</p>", CUSTOMER)


@pytest.fixture
def stub(teams: TeamsClient) -> ConnectorStub:
    teams.connector.add_member(CUSTOMER.id, CUSTOMER.name, CUSTOMER.email)
    teams.connector.add_member(COLLEAGUE.id, COLLEAGUE.name, COLLEAGUE.email)
    return teams.connector


def dialog_card(body: dict[str, Any]) -> dict[str, Any]:
    """The card a message action's answer opens (or shows again) in its dialog."""
    task = body["task"]
    assert task["type"] == "continue", body
    attachment = task["value"]["card"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]  # type: ignore[no-any-return]


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {e["id"]: e.get("value", "") for e in card_elements(card) if e["type"].startswith("Input.")}


async def test_create_ticket_opens_the_form_filled_in_from_the_message(teams: TeamsClient, stub: ConnectorStub
                                                                       ) -> None:
    status, body = await teams.message_action("createTicket", REPORT, where="channel")
    assert status == 200
    form = dialog_card(body)
    assert body["task"]["value"]["title"] == "Create a ticket from this message"
    filled = inputs(form)
    assert filled["title"] == "The LMS shows a blank page after login"
    assert filled["description"] == ("The LMS shows a blank page after login\nSince 9:00, for the whole HN-12 class "
                                     "& their teacher.\nChrome and Edge.")
    assert filled["customer"] == CUSTOMER.email  # the author is an Odoo contact: the customer
    assert "From a message by Coordinator Hà." in card_text(form)
    assert validate_cards([form]) == [[]]


async def test_an_author_who_is_no_customer_is_not_made_one(teams: TeamsClient, stub: ConnectorStub) -> None:
    for author in (COLLEAGUE, AGENT, TeamsUser("29:not-in-roster", "Guest", "guest@x.example")):
        _, body = await teams.message_action("createTicket", Message("<p>Printer jam</p>", author))
        assert inputs(dialog_card(body))["customer"] == "", author  # an agent, no contact, or no roster entry


@pytest.mark.parametrize("where", ["personal", "groupChat", "channel"])
async def test_submitting_logs_the_ticket_as_ticket_new_would_and_answers_in_the_conversation(
        teams: TeamsClient, stub: ConnectorStub, odoo: OdooView, where: str) -> None:
    _, opened = await teams.message_action("createTicket", REPORT, where=where)
    data = {**inputs(dialog_card(opened)), "users": "30"}
    before = len(stub.posted)
    status, body = await teams.message_action("createTicket", REPORT, data=data, where=where)
    assert status == 200
    ticket = odoo.newest_ticket()
    assert ticket["name"] == "The LMS shows a blank page after login"
    assert ticket["partner_id"][0] == odoo.partner_id(CUSTOMER.email)
    assert "https://teams.microsoft.com/l/message/19:chat/1733000000000" in ticket["description"]
    assert "From a Teams message by Coordinator Hà" in ticket["description"]
    shown = card_text(dialog_card(body))
    assert "Logged as Expedite." in shown and ticket["number"] in shown  # 30 users: Expedite, as /ticket new says
    [posted] = [p for p in stub.posted[before:] if p.card and "Logged as Expedite." in card_text(p.card)]
    assert posted.conversation_id.startswith({"personal": "personal-", "groupChat": "19:group-chat",
                                              "channel": "19:support@thread.tacv2"}[where])


async def test_the_class_of_service_is_shown_before_logging(teams: TeamsClient, stub: ConnectorStub,
                                                            odoo: OdooView) -> None:
    _, opened = await teams.message_action("createTicket", REPORT)
    before = odoo.newest_ticket()["id"]
    data = {**inputs(dialog_card(opened)), "users": "12", "check": "yes"}
    _, body = await teams.message_action("createTicket", REPORT, data=data)
    checked = dialog_card(body)
    assert "These details make it Priority." in card_text(checked)
    assert inputs(checked)["users"] == "12" and inputs(checked)["title"] == data["title"]  # as the agent left them
    assert odoo.newest_ticket()["id"] == before  # nothing logged yet


async def test_a_refusal_shows_the_dialog_again_with_everything_typed(teams: TeamsClient, stub: ConnectorStub,
                                                                      odoo: OdooView) -> None:
    before, posted = odoo.newest_ticket()["id"], len(stub.posted)
    data = {"title": "Blank page", "description": "Long text the agent edited", "users": "²", "customer": "",
            "deadline": "", "type": ""}
    _, body = await teams.message_action("createTicket", REPORT, data=data)
    again = dialog_card(body)
    assert "`²` is not a number of users. Write a whole number from 0 to 1,000,000" in card_text(again)
    assert inputs(again)["description"] == "Long text the agent edited" and inputs(again)["users"] == "²"
    assert odoo.newest_ticket()["id"] == before and len(stub.posted) == posted  # nothing logged, nothing posted
    _, body = await teams.message_action("createTicket", REPORT, data={**data, "users": "3", "title": ""})
    assert "Please give the ticket a title." in card_text(dialog_card(body))


async def test_a_chat_without_the_bot_still_gets_its_ticket(teams: TeamsClient, stub: ConnectorStub,
                                                            odoo: OdooView) -> None:
    """A group chat the bot is no member of: Teams refuses the post (403); the ticket is logged and the dialog
    says so."""
    stub.not_a_member.add(teams.group_chat()["id"])
    _, opened = await teams.message_action("createTicket", REPORT, where="groupChat")
    status, body = await teams.message_action("createTicket", REPORT, data=inputs(dialog_card(opened)),
                                              where="groupChat")
    assert status == 200 and "Logged as" in card_text(dialog_card(body))
    assert odoo.newest_ticket()["name"] == "The LMS shows a blank page after login"


async def test_add_to_ticket_notes_the_message_with_a_link_back(teams: TeamsClient, stub: ConnectorStub,
                                                                odoo: OdooView) -> None:
    await teams.card("/ticket new Printer on floor 2 is jammed users:2")
    tid = odoo.newest_ticket()["id"]
    _, opened = await teams.message_action("addToTicket", REPORT, where="channel")
    form = dialog_card(opened)
    [picker] = [e for e in card_elements(form) if e.get("id") == "ticket"]
    assert picker["style"] == "filtered" and str(tid) in [c["value"] for c in picker["choices"]]
    assert validate_cards([form]) == [[]]
    _, body = await teams.message_action("addToTicket", REPORT, data={"ticket": str(tid), "visible": "false"},
                                         where="channel")
    assert "Note added." in card_text(dialog_card(body))
    [note] = [m for m in odoo.messages(tid, subtype="Note") if "blank page" in m["body"]]
    assert "https://teams.microsoft.com/l/message/19:chat/1733000000000" in note["body"]
    assert not [m for m in odoo.messages(tid, subtype="Discussions") if "blank page" in m["body"]]  # internal


async def test_add_to_ticket_for_the_customer_sends_an_update(teams: TeamsClient, stub: ConnectorStub,
                                                              odoo: OdooView) -> None:
    await teams.card("/ticket new Printer on floor 2 is jammed users:2 customer:coordinator.ha@mindx.edu.vn")
    tid = odoo.newest_ticket()["id"]
    _, body = await teams.message_action("addToTicket", REPORT, data={"number": f"#{tid}", "visible": "true"})
    assert "Update sent to the customer." in card_text(dialog_card(body))
    assert [m for m in odoo.messages(tid, subtype="Discussions") if "blank page" in m["body"]]


@pytest.mark.parametrize(("data", "said"), [
    ({"number": "abc"}, "`abc` is not a ticket id."), ({"number": "#²"}, "`#²` is not a ticket id."),
    ({}, "Which ticket? Give its id"), ({"number": "9" * 4301}, "is not a ticket id."),
    ({"number": "99999"}, "There is no ticket #99999 in Odoo.")])
async def test_add_to_ticket_refuses_a_ticket_it_cannot_find_and_keeps_the_dialog(
        teams: TeamsClient, stub: ConnectorStub, data: dict[str, str], said: str) -> None:
    status, body = await teams.message_action("addToTicket", REPORT, data={**data, "visible": "true"})
    again = dialog_card(body)
    assert status == 200 and said in card_text(again)
    assert inputs(again)["visible"] == "true"  # as the agent left it


async def test_forged_or_stale_invokes_are_refused_and_change_nothing(teams: TeamsClient, stub: ConnectorStub,
                                                                      odoo: OdooView) -> None:
    before = odoo.newest_ticket()["id"]
    unknown = await teams.message_action("deleteEverything", REPORT, data={"title": "x"})
    assert "is not something I can do" in card_text(dialog_card(unknown[1]))
    activity_without_message = {**teams._base(teams.personal()), "type": "invoke",
                                "name": "composeExtension/submitAction",
                                "value": {"commandId": "createTicket", "data": {"title": "Forged", "users": "3"}}}
    async with teams.session.post(teams.bot_url, json=activity_without_message, headers=teams.headers) as response:
        assert response.status == 200
        assert "Teams sent none" in card_text(dialog_card(await response.json()))
    for shape in ("not an object", ["a", "list"], {"title": {"nested": True}, "users": [1, 2]}):
        activity = {**teams._base(teams.personal()), "type": "invoke", "name": "composeExtension/submitAction",
                    "value": {"commandId": "createTicket", "messagePayload": REPORT.payload(), "data": shape}}
        async with teams.session.post(teams.bot_url, json=activity, headers=teams.headers) as response:
            assert response.status == 200
            assert "Sorry, something went wrong" not in str(await response.json())
    assert odoo.newest_ticket()["id"] == before  # nothing logged


async def test_someone_without_an_odoo_user_is_refused(teams: TeamsClient, stub: ConnectorStub,
                                                       odoo: OdooView) -> None:
    before = odoo.newest_ticket()["id"]
    _, body = await teams.message_action("createTicket", REPORT, sender=STRANGER)
    assert "Odoo user" in card_text(dialog_card(body))
    _, body = await teams.message_action("createTicket", REPORT, data={"title": "x", "users": "1"}, sender=STRANGER)
    assert "Odoo user" in card_text(dialog_card(body)) and odoo.newest_ticket()["id"] == before


async def test_vietnamese(teams: TeamsClient, stub: ConnectorStub) -> None:
    teams.locale = "vi-VN"
    _, body = await teams.message_action("createTicket", REPORT)
    assert body["task"]["value"]["title"] == "Tạo ticket từ tin nhắn này"
    assert load_profile("mindx").language  # the description's link line is in the team's language


def test_a_kept_dialog_comes_back_from_the_outbox_with_its_message() -> None:
    """Submitted while Odoo is away, a dialog is kept in the outbox (bot.outbox) like a typed command: what the
    relay replays later carries the quoted message, so its link still reaches the ticket."""
    incoming = Incoming(kind=Kind.MESSAGE_ACTION, activity_id="act-1", conversation=Conversation("19:chat"),
                        sender=Person("29:agent"), value={"title": "Blank page", "users": "3"}, verb="createTicket",
                        quoted=Quoted("Blank page\nsince 9:00", Person("aad-x", "Hà", "aad-x"), "https://t/1"))
    assert from_fields(to_fields(incoming, 7)) == (incoming, 7)
