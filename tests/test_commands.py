"""Commands through the real bot: friendly refusals, channels, forms, dedupe, Odoo call counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import AGENT, LEAD, STRANGER, FakeClock, RunningSandbox
from tests.support.markdown import constructs, visible
from tests.support.odoo_view import OdooView
from tests.support.teams import BOT_ID, BOT_NAME, TeamsClient, card_text


async def new_ticket(teams: TeamsClient, odoo: OdooView, args: str = "Printer on fire users:1") -> int:
    await teams.card(f"/ticket new {args}")
    return int(odoo.newest_ticket()["id"])


async def test_help_lists_every_command_from_its_docstring(teams: TeamsClient) -> None:
    text = card_text(await teams.card("/ticket help"))
    for name in ("new", "show", "list", "ack", "note", "diag", "update", "assign", "class", "users", "hold",
                 "block", "resume", "resolve", "confirm", "close", "cancel", "reopen", "merge", "help"):
        assert f"/ticket {name}" in text
    assert "Log a new ticket in Odoo" in text
    detail = card_text(await teams.card("/ticket help merge"))
    assert "duplicate is cancelled" in detail


async def test_bare_ticket_shows_help_and_unknown_command_says_so(teams: TeamsClient) -> None:
    assert "Ticket commands" in card_text(await teams.card("/ticket"))
    text = card_text(await teams.card("/ticket frobnicate 42"))
    assert "don't know the command `frobnicate`" in text


async def test_chit_chat_in_personal_chat_gets_a_hint(teams: TeamsClient) -> None:
    [reply] = await teams.say("hello bot")
    assert "/ticket help" in reply.text


@pytest.mark.parametrize(("command", "expected"), [
    ("/ticket show", "Which ticket?"),
    ("/ticket show forty-two", "is not a ticket id"),
    ("/ticket show 99999", "There is no ticket #99999"),
    ("/ticket show HT99999", "There is no ticket HT99999"),
    ("/ticket new Broken users:lots", "is not a number of users"),
    ("/ticket new Broken deadline:yesterday", "can't read the time"),
    ("/ticket new Broken customer:not-an-email", "is not an email address"),
    ("/ticket new Broken type:wish", "is not a ticket type"),
    ("/ticket new Broken category:Astrology", "no category named 'Astrology'"),
    ("/ticket new Broken assignee:@Nobody", "can't find an Odoo user"),
])
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
        teams: TeamsClient, odoo: OdooView, command: str, expected: str) -> None:
    before = odoo.call("helpdesk.ticket", "search_count", [])
    text = card_text(await teams.card(command))
    assert expected in text
    assert odoo.call("helpdesk.ticket", "search_count", []) == before


HUGE = "9" * 4_301  # one digit past what int() reads from text


@pytest.mark.parametrize("command", ["/ticket users 1 ²", "/ticket users 1 ①", "/ticket users 1 ٣",
                                     "/ticket users 1 1000001", f"/ticket users 1 {HUGE}", "/ticket new Broken users:①",
                                     "/ticket new Broken users:³", f"/ticket new Broken users:{HUGE}"],
                         ids=lambda command: command.replace(HUGE, "<4,301 digits>"))
async def test_a_count_in_other_digits_or_too_big_is_refused_and_changes_nothing(
        teams: TeamsClient, odoo: OdooView, command: str) -> None:
    """`'²'.isdigit()` is true and `int('²')` raises (as does int() of 4,301 digits): this was the crash card."""
    before = (odoo.ticket(1), odoo.call("helpdesk.ticket", "search_count", []),
              odoo.call("mail.message", "search_count", []))
    card = await teams.card(command)
    text = card_text(card)
    assert card["body"][0].get("color") == "attention", text
    assert "is not a number of users" in text and "from 0 to 1,000,000 in the digits 0-9, like `users:15`" in text
    assert "went wrong" not in text and len(text) < 1_000  # what was typed is quoted back shortened
    assert (odoo.ticket(1), odoo.call("helpdesk.ticket", "search_count", []),
            odoo.call("mail.message", "search_count", [])) == before


async def test_usage_is_shown_with_the_refusal(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo)
    text = card_text(await teams.card(f"/ticket note {tid}"))
    assert "Please add the note" in text and "Usage: `/ticket note <id> <text>`" in text


async def test_ids_by_number_and_hash(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo)
    number = odoo.ticket(tid)["number"]
    for ref in (str(tid), f"#{tid}", number, number.lower()):
        assert number in card_text(await teams.card(f"/ticket show {ref}"))


async def test_a_channel_mention_is_stripped(teams: TeamsClient, odoo: OdooView) -> None:
    replies = await teams.say_in_channel("/ticket new Projector in room 3 does not turn on users:2")
    assert len(replies) == 1 and replies[0].conversation_id.startswith("19:support@thread.tacv2")
    assert odoo.newest_ticket()["name"] == "Projector in room 3 does not turn on"


async def test_a_redelivered_activity_is_handled_once(teams: TeamsClient, odoo: OdooView) -> None:
    activity = {**teams._base(teams.personal()), "type": "message", "text": "/ticket new Duplicate delivery"}
    first = await teams.send(activity)
    again = await teams.send(activity)
    assert len(first) == 1 and again == []
    assert odoo.call("helpdesk.ticket", "search_count", [["name", "=", "Duplicate delivery"]]) == 1


async def test_new_without_title_opens_a_form_whose_submit_logs_the_ticket(
        teams: TeamsClient, odoo: OdooView) -> None:
    form = await teams.card("/ticket new")
    assert [i["id"] for i in form["body"] if i["type"].startswith("Input.")] == [
        "title", "description", "users", "customer", "deadline", "type"]
    [reply] = await teams.submit({"command": "new", "title": "Wi-Fi down on floor 2", "description": "Since 9am",
                                  "users": "30", "customer": "", "deadline": "", "type": "incident"})
    assert reply.card is not None and "Expedite" in card_text(reply.card)
    ticket = odoo.newest_ticket()
    assert ticket["name"] == "Wi-Fi down on floor 2" and ticket["priority"] == "3"


async def test_html_in_a_title_is_stored_as_text(teams: TeamsClient, odoo: OdooView) -> None:
    await teams.card('/ticket new <img src=x onerror=alert(1)> broken\n<script>alert("x")</script>')
    ticket = odoo.newest_ticket()
    assert "<script>" not in ticket["description"]
    assert "&lt;script&gt;" in ticket["description"]


@pytest.mark.parametrize(("users", "label", "priority"), [
    (4, "Standard", "1"), (5, "Priority", "2"), (25, "Priority", "2"), (26, "Expedite", "3")])
async def test_users_reclassifies_at_the_exact_boundaries(
        teams: TeamsClient, odoo: OdooView, users: int, label: str, priority: str) -> None:
    tid = await new_ticket(teams, odoo, "Slow LMS users:1")
    text = card_text(await teams.card(f"/ticket users {tid} {users}"))
    assert f"Class of service: Standard → {label}" in text or (label == "Standard" and "still Standard" in text)
    assert odoo.ticket(tid)["priority"] == priority
    assert f"Users affected: {users}" in text
    assert "Class of service" in odoo.messages(tid, subtype="Note")[-1]["body"]


async def test_assign_to_a_mentioned_colleague(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo)
    activity = {**teams._base(teams.personal()), "type": "message",
                "text": f"/ticket assign {tid} <at>{LEAD.name}</at>",
                }
    activity["entities"].append({"type": "mention", "text": f"<at>{LEAD.name}</at>",
                                 "mentioned": {"id": LEAD.id, "name": LEAD.name}})
    [reply] = await teams.send(activity)
    assert reply.card is not None and f"Assigned to {LEAD.name}" in card_text(reply.card)
    assert odoo.ticket(tid)["user_id"][0] == odoo.user_id(LEAD.email)
    note = odoo.messages(tid, subtype="Note")[-1]["body"]
    assert f"Owner: {AGENT.name} → {LEAD.name}" in note and f"<b>{AGENT.name}</b>" in note


async def test_an_unknown_teams_user_is_told_what_to_do(teams: TeamsClient, odoo: OdooView) -> None:
    [reply] = await teams.say("/ticket new Something", sender=STRANGER)
    assert reply.card is not None
    assert "can't find an Odoo user for you (nobody@elsewhere.example)" in card_text(reply.card)


async def test_cancel_reopen_and_force_close(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo)
    await teams.card(f"/ticket cancel {tid} Logged twice")
    assert odoo.ticket(tid)["stage_id"][1] == "Cancelled"
    assert "closed" in card_text(await teams.card(f"/ticket ack {tid}"))
    await teams.card(f"/ticket reopen {tid} Not a duplicate after all")
    assert odoo.ticket(tid)["stage_id"][1] == "In Progress"
    refused = card_text(await teams.card(f"/ticket close {tid} force:yes Customer unreachable for 7 days"))
    assert ("closing without the customer's confirmation is for: lead, manager (you are: agent). "
            "Ask Trần Thị Lan, Megan Bowen or Hoàng Thu Trang.") in refused
    assert odoo.ticket(tid)["stage_id"][1] == "In Progress"  # an agent may not: nothing changed
    text = card_text(await teams.card(f"/ticket close {tid} force:yes", sender=LEAD))
    assert "why it closes without confirmation" in text
    await teams.card(f"/ticket close {tid} force:yes Customer unreachable for 7 days", sender=LEAD)
    assert odoo.ticket(tid)["stage_id"][1] == "Done"
    assert "WITHOUT customer confirmation" in odoo.messages(tid, subtype="Note")[-1]["body"]
    assert LEAD.name in odoo.messages(tid, subtype="Note")[-1]["body"]


async def test_block_and_resume(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo)
    await teams.card(f"/ticket block {tid} Waiting for a screenshot")
    assert odoo.ticket(tid)["stage_id"][1] == "Awaiting"
    other = await new_ticket(teams, odoo, "Other users:1")
    assert "not on hold or blocked" in card_text(await teams.card(f"/ticket resume {other}"))
    await teams.card(f"/ticket resume {tid}")
    assert odoo.ticket(tid)["stage_id"][1] == "In Progress"


async def test_list_costs_one_odoo_call_whatever_the_number_of_tickets(
        teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox) -> None:
    for n in range(5):
        await new_ticket(teams, odoo, f"Ticket {n} users:{n * 10}")
    for which in ("mine", "open", "overdue", "priority"):
        sandbox.odoo.calls.clear()
        text = card_text(await teams.card(f"/ticket list {which}"))
        assert sum(sandbox.odoo.calls.values()) == 1, (which, sandbox.odoo.calls)
        assert "tickets" in text.lower()
    mine = card_text(await teams.card("/ticket list mine"))
    assert all(f"Ticket {n}" in mine for n in range(5))


@pytest.mark.parametrize(("command", "max_calls"), [
    ("show {tid}", 1), ("note {tid} x", 2), ("diag {tid} x", 2), ("update {tid} x", 2), ("ack {tid}", 3),
    ("hold {tid} x", 3), ("users {tid} 7", 3), ("assign {tid} me", 3), ("resolve {tid} x", 3),
])
async def test_odoo_calls_per_command(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                      command: str, max_calls: int) -> None:
    """A read costs one call; a change a read plus at most two writes."""
    tid = await new_ticket(teams, odoo)
    sandbox.odoo.calls.clear()
    await teams.card("/ticket " + command.format(tid=tid))
    assert sum(sandbox.odoo.calls.values()) <= max_calls, sandbox.odoo.calls


async def test_a_read_while_odoo_is_down_is_said_plainly_and_echoed(
        teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox) -> None:
    tid = await new_ticket(teams, odoo)
    sandbox.odoo.down = True
    text = card_text(await teams.card(f"/ticket show {tid}"))
    sandbox.odoo.down = False
    assert "Odoo is not answering" in text and "nothing was changed" in text
    assert f"/ticket show {tid}" in text


async def test_a_mention_without_a_command_gets_a_hint_in_channels_too(teams: TeamsClient) -> None:
    [reply] = await teams.say_in_channel("are you there?")
    assert "/ticket help" in reply.text


async def test_channels_are_registered_moved_and_listed(teams: TeamsClient) -> None:
    assert "No channel is registered yet" in (await teams.say("/ticket channels"))[0].text
    [done] = await teams.say_in_channel("/ticket channel dev", "19:dev@thread.tacv2", sender=LEAD)
    assert "now the **dev** channel" in done.text
    await teams.say_in_channel("/ticket channel support", "19:first@thread.tacv2", sender=LEAD)
    await teams.say_in_channel("/ticket channel support", "19:support@thread.tacv2", sender=LEAD)  # moved here
    [listed] = await teams.say("/ticket channels")
    by = f"(registered by {LEAD.name}, Wed 29 Jan 15:33)"  # the lead, at the test clock's time in Vietnam
    assert listed.text.splitlines()[1:] == [f"- **dev**: 19:dev@thread.tacv2 {by}",
                                            f"- **support**: 19:support@thread.tacv2 {by}"]


async def test_a_channel_name_with_markdown_is_listed_literally(teams: TeamsClient) -> None:
    channel = "19:ops@thread.tacv2"
    mention = f"<at>{BOT_NAME}</at>"
    activity = {**teams._in_channel(channel, LEAD), "type": "message", "text": f"{mention} /ticket channel devops"}
    activity["entities"].append({"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}})
    activity["conversation"]["name"] = "**Ops** [click](https://evil.example)"
    await teams.send(activity)
    [listed] = await teams.say("/ticket channels")
    item = listed.text.splitlines()[1]
    by = f"(registered by {LEAD.name}, Wed 29 Jan 15:33)"
    assert visible(item) == f"devops: **Ops** [click](https://evil.example) {by}"
    assert "link_open" not in constructs(item) and constructs(item).count("strong_open") == 1  # only "devops"


async def test_a_channel_is_registered_only_in_a_channel_and_by_a_known_name(teams: TeamsClient) -> None:
    [personal] = await teams.say("/ticket channel support", sender=LEAD)
    assert "Type this in the Teams channel you want to register" in card_text(personal.card or {}) + personal.text
    [unnamed] = await teams.say_in_channel("/ticket channel Support!", sender=LEAD)
    assert "Known teams: support, management, dev" in card_text(unnamed.card or {}) + unnamed.text
    assert "No channel is registered yet" in (await teams.say("/ticket channels"))[0].text


async def test_merging_two_reports_of_the_same_people_keeps_the_larger_count(teams: TeamsClient,
                                                                             odoo: OdooView) -> None:
    """Two reports of the same 12 students: 12, not 24 (which would make it Expedite and alert management)."""
    first = await new_ticket(teams, odoo, "Exam page blank for class A users:12")
    second = await new_ticket(teams, odoo, "Students of class A see a blank exam users:12")
    answer = card_text(await teams.card(f"/ticket merge {first} into {second}"))
    assert "Users affected: 12, the larger of the two reports (they may be the same people)" in answer
    assert "merge with `users:<how many in all>`" in answer and "Priority" in answer
    assert "Users affected: 12" in odoo.ticket(second)["description"]
    assert "the larger of the two reports" in odoo.messages(second, subtype="Note")[-1]["body"]


async def test_merging_with_users_sets_the_total(teams: TeamsClient, odoo: OdooView) -> None:
    first = await new_ticket(teams, odoo, "Video of lesson 3 does not load users:7")
    second = await new_ticket(teams, odoo, "Lesson 3 video: cannot load media users:5")
    answer = card_text(await teams.card(f"/ticket merge {first} into {second} users:12"))
    assert "Users affected: 12, as you wrote." in answer
    assert "Users affected: 12" in odoo.ticket(second)["description"]


async def test_a_merge_with_a_bad_count_is_refused_and_changes_nothing(teams: TeamsClient, odoo: OdooView) -> None:
    first = await new_ticket(teams, odoo, "Video of lesson 3 does not load users:7")
    second = await new_ticket(teams, odoo, "Lesson 3 video: cannot load media users:5")
    answer = card_text(await teams.card(f"/ticket merge {first} into {second} users:twelve"))
    assert "`twelve` is not a number of users" in answer and "like `users:15`" in answer
    assert odoo.ticket(first)["stage_id"][1] == "New" and "Users affected: 5" in odoo.ticket(second)["description"]


async def test_an_option_the_command_does_not_take_is_refused_not_sent_as_text(teams: TeamsClient,
                                                                               odoo: OdooView) -> None:
    """`customer:` belongs to `/ticket new`: on `/ticket update` it would have reached the customer as words."""
    tid = await new_ticket(teams, odoo, "Exam page blank users:3 customer:coordinator.ha@mindx.edu.vn")
    before = len(odoo.messages(tid))
    answer = card_text(await teams.card(f"/ticket update {tid} customer:student01@example.com Please try again"))
    assert "`/ticket update` has no `customer:` option, so I did nothing" in answer
    assert len(odoo.messages(tid)) == before
    said = card_text(await teams.card(f"/ticket update {tid} See https://lms.example/x at 10:30"))  # no option
    assert "has no" not in said and len(odoo.messages(tid)) == before + 1


async def test_the_priority_is_set_by_hand_and_the_class_stays(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo, "Exam page blank users:3")  # Standard: Medium on the helpdesk's scale
    answer = card_text(await teams.card(f"/ticket priority {tid} urgent"))
    assert "Priority: Medium → Urgent; the class of service stays." in answer and "Standard" in answer
    assert odoo.ticket(tid)["priority"] == "3"
    assert "Priority: Medium → Urgent (set by hand" in odoo.messages(tid, subtype="Note")[-1]["body"]
    refused = card_text(await teams.card(f"/ticket priority {tid} asap"))
    assert "This Odoo's helpdesk.ticket has: low, medium, high, urgent" in refused
    assert odoo.ticket(tid)["priority"] == "3"


async def test_tags_are_added_and_taken_off_but_the_class_tag_is_the_class_commands(teams: TeamsClient,
                                                                                  odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo, "Exam page blank users:3")

    def tags() -> set[str]:
        return {t["name"] for t in odoo.call("helpdesk.ticket.tag", "read", odoo.ticket(tid)["tag_ids"],
                                             fields=["name"])}

    answer = card_text(await teams.card(f'/ticket tag {tid} vip "Exam week"'))
    assert tags() == {"standard", "vip", "Exam week"} and "Tags: standard, vip, Exam week." in answer
    await teams.card(f"/ticket tag {tid} -vip")
    assert tags() == {"standard", "Exam week"}
    assert "Tags: -vip." in odoo.messages(tid, subtype="Note")[-1]["body"]
    refused = card_text(await teams.card(f"/ticket tag {tid} -standard"))
    assert "`standard` is the class of service's tag: change it with `/ticket class" in refused
    assert tags() == {"standard", "Exam week"}


@pytest.mark.parametrize("kind", ["ack", "escalation"])
async def test_a_draft_with_a_long_text_to_add_is_refused_before_it_outgrows_a_teams_message(
        teams: TeamsClient, kind: str) -> None:
    """The draft card shows the draft twice (as it is, and in its Edit box): 8,000 characters added (what a message
    may hold) made a 28,233-byte card, which Teams refuses (the command fuzzer found it)."""
    card = await teams.card(f"/ticket email 1 {kind} lang:vi " + "Lỗi " * 1_990)
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28_000
    text = card_text(card)
    assert card["body"][0].get("color") == "attention" and "Keep the text to add under 2,000 characters" in text
    fits = await teams.card(f"/ticket email 1 {kind} lang:vi " + "Lỗi " * 499)
    assert len(json.dumps(fits, ensure_ascii=False).encode()) < 28_000 and "Draft" in card_text(fits)


async def test_a_tag_deleted_in_odoo_since_is_made_again(teams: TeamsClient, odoo: OdooView) -> None:
    """The bot knows the tags' ids from start-up (and those it made); Odoo's administrator may delete one since.
    Writing the old id was "Odoo did not accept this" (the command fuzzer found it)."""
    tid = await new_ticket(teams, odoo, "Exam page blank users:3")
    await teams.card(f"/ticket tag {tid} vip")
    [vip] = odoo.call("helpdesk.ticket.tag", "search", [["name", "=", "vip"]])
    odoo.call("helpdesk.ticket", "write", [tid], {"tag_ids": [[3, vip]]})
    odoo.call("helpdesk.ticket.tag", "unlink", [vip])
    answer = card_text(await teams.card(f"/ticket tag {tid} vip"))
    assert "Tags: standard, vip." in answer and "did not accept" not in answer, answer
    [again] = odoo.call("helpdesk.ticket.tag", "search", [["name", "=", "vip"]])
    assert again != vip and again in odoo.ticket(tid)["tag_ids"]


async def test_an_update_can_go_to_other_contacts_who_then_follow_the_ticket(teams: TeamsClient,
                                                                              odoo: OdooView) -> None:
    """Seed 000: verification by sample users (student01@...) and an update to a CXO, not to the main customer."""
    tid = await new_ticket(teams, odoo, "Exam page blank users:3 customer:coordinator.ha@mindx.edu.vn")
    answer = card_text(await teams.card(
        f"/ticket update {tid} to:student01@example.com,cxo@company.com Could you try submitting again?"))
    assert "Update sent to student01@example.com and cxo@company.com; they now follow the ticket." in answer
    [message] = [m for m in odoo.messages(tid, subtype="Discussions") if "try submitting again" in m["body"]]
    contacts = {odoo.partner_id("student01@example.com"), odoo.partner_id("cxo@company.com")}
    assert set(message["partner_ids"]) == contacts  # addressed to them, not to the coordinator
    followers = odoo.call("helpdesk.ticket", "read", [tid], fields=["message_partner_ids"])[0]["message_partner_ids"]
    assert contacts <= set(followers)
    refused = card_text(await teams.card(f"/ticket update {tid} to:not-an-address Hello"))
    assert "`not-an-address` is not an email address" in refused
    assert len([m for m in odoo.messages(tid, subtype="Discussions") if "Hello" in m["body"]]) == 0


async def test_a_todo_is_an_odoo_activity_for_that_person(teams: TeamsClient, odoo: OdooView,
                                                          clock: FakeClock) -> None:
    """TMF: "create a TODO in Odoo within that ticket for that person"."""
    tid = await new_ticket(teams, odoo, "Car 12 does not unlock users:1")
    answer = card_text(await teams.card(f"/ticket todo {tid} {LEAD.email} Check the box's logbook due:tomorrow@09:00"))
    assert f"To-Do for {LEAD.name}, due" in answer and "Check the box's logbook" in answer
    [activity] = odoo.call("mail.activity", "search_read",
                           [["res_model", "=", "helpdesk.ticket"], ["res_id", "=", tid]],
                           fields=["summary", "user_id", "activity_type_id", "date_deadline"])
    assert activity["date_deadline"] == (clock.now() + timedelta(days=1)).date().isoformat()
    assert activity["summary"] == "Check the box's logbook" and activity["user_id"][0] == odoo.user_id(LEAD.email)
    assert activity["activity_type_id"][1] == "To-Do"
    refused = card_text(await teams.card(f"/ticket todo {tid} me"))
    assert "Who, and what?" in refused
    assert len(odoo.call("mail.activity", "search", [["res_id", "=", tid], ["res_model", "=", "helpdesk.ticket"]])) == 1
