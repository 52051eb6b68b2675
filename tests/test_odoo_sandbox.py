"""The sandbox Odoo: domain language, ordering, read_group, the recorded quirks, seed data, HTTP."""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.seed import AGENTS, CATEGORIES, CUSTOMERS, TAGS, TEAMS, seed_scenarios
from odoo_double import OdooSandbox
from odoo_double.faults import OdooFault
from tests.odoo_contract import StepClock, serve

ADMIN = 2


def call(sb: OdooSandbox, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    return sb.call(ADMIN, model, method, list(args), kwargs)


def ticket(sb: OdooSandbox, **values: Any) -> int:
    return int(call(sb, "helpdesk.ticket", "create", {"name": "T", "description": "<p>d</p>", **values}))


# ---- the domain language against a reference evaluation -------------------------------------------------

NAMES = ("Login broken", "VPN down", "login slow", "Printer", "Video 3")
EMAILS = ("jane@x.com", False, "BOB@Y.org", False, "zz@x.com", "ana@login.vn", False)
PRIORITIES = ("0", "1", "2", "3")


@cache
def dataset() -> tuple[OdooSandbox, tuple[dict[str, Any], ...]]:
    """20 tickets with varied values (built once; the property tests only read)."""
    sb = OdooSandbox()
    tags = call(sb, "helpdesk.ticket.tag", "create", [{"name": n} for n in ("a", "b", "c")])
    users = [sb.add_user(f"Agent {i}", f"agent{i}@x.com", f"agent{i}@x.com") for i in range(2)]
    rows = []
    for i in range(20):
        values = {"name": NAMES[i % len(NAMES)], "partner_email": EMAILS[i % len(EMAILS)],
                  "priority": PRIORITIES[(i * 7) % 4], "color": i % 5,
                  "tag_ids": [[6, 0, tags[: i % 4]]], "user_id": users[i % 3] if i % 3 < 2 else False,
                  "stage_id": 1 + i % 3}
        record_id = ticket(sb, **values)
        rows.append({"id": record_id, "name": values["name"], "partner_email": values["partner_email"],
                     "priority": values["priority"],
                     "color": values["color"], "tag_ids": tags[: i % 4], "user_id": values["user_id"],
                     "stage_id": values["stage_id"]})
    return sb, tuple(rows)


def _like(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def reference_leaf(row: dict[str, Any], field: str, op: str, value: Any) -> bool:
    """A deliberately plain evaluation of one leaf, written from Odoo's documented semantics."""
    current = row[field]
    if field == "tag_ids":
        if op == "=":
            return not current if value is False else value in current
        if op == "!=":
            return bool(current) if value is False else value not in current
        if op == "in":
            return bool(set(current) & set(value))
        return not set(current) & set(value)  # not in
    empty = current is False
    if op == "=":
        return empty if value is False else current == value
    if op == "!=":
        return not empty if value is False else current != value
    if op == "in":
        return (empty and False in value) or (not empty and current in value)
    if op == "not in":
        return not ((empty and False in value) or (not empty and current in value))
    if op in ("<", "<=", ">", ">="):
        if empty:
            return False
        return {"<": current < value, "<=": current <= value, ">": current > value, ">=": current >= value}[op]
    text = current if isinstance(current, str) else ""
    if op == "ilike":
        return not empty and value.lower() in text.lower()
    if op == "not ilike":
        return empty or value.lower() not in text.lower()
    if op == "=ilike":
        return not empty and _like(value, text)
    raise AssertionError(op)


def reference(row: dict[str, Any], tree: Any) -> bool:
    if tree[0] == "leaf":
        return reference_leaf(row, *tree[1:])
    if tree[0] == "!":
        return not reference(row, tree[1])
    left, right = reference(row, tree[1]), reference(row, tree[2])
    return (left and right) if tree[0] == "&" else (left or right)


def to_prefix(tree: Any) -> list[Any]:
    if tree[0] == "leaf":
        return [list(tree[1:])]
    return [tree[0], *[token for sub in tree[1:] for token in to_prefix(sub)]]


leaves = st.one_of(
    st.tuples(st.just("leaf"), st.just("priority"), st.sampled_from(["=", "!=", "<", ">=", ">", "<="]),
              st.sampled_from(PRIORITIES)),
    st.tuples(st.just("leaf"), st.just("priority"), st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from(PRIORITIES), max_size=3)),
    st.tuples(st.just("leaf"), st.sampled_from(["name", "partner_email"]), st.sampled_from(["ilike", "not ilike"]),
              st.sampled_from(["login", "LOG", "o", "video", "zz", "x.com"])),
    st.tuples(st.just("leaf"), st.sampled_from(["name", "partner_email"]), st.just("=ilike"),
              st.sampled_from(["login%", "%3", "v_deo 3", "%@x.com", "bob@y.org"])),
    st.tuples(st.just("leaf"), st.sampled_from(["name", "partner_email"]), st.sampled_from(["=", "!="]),
              st.sampled_from(["Printer", "jane@x.com", False])),
    st.tuples(st.just("leaf"), st.just("color"), st.sampled_from(["=", "!=", "<", ">"]), st.integers(0, 5)),
    st.tuples(st.just("leaf"), st.just("tag_ids"), st.sampled_from(["=", "!="]), st.sampled_from([1, 2, 3, False])),
    st.tuples(st.just("leaf"), st.just("tag_ids"), st.sampled_from(["in", "not in"]),
              st.lists(st.integers(1, 3), min_size=1, max_size=2)),
    st.tuples(st.just("leaf"), st.sampled_from(["user_id", "stage_id"]), st.sampled_from(["=", "!="]),
              st.sampled_from([1, 2, 3, 4, False])),
    st.tuples(st.just("leaf"), st.just("user_id"), st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from([3, 4, False]), min_size=1, max_size=2)),
)
trees = st.recursive(leaves, lambda sub: st.one_of(
    st.tuples(st.just("!"), sub),
    st.tuples(st.sampled_from(["&", "|"]), sub, sub)), max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_domains_match_a_reference_evaluation(tree: Any) -> None:
    sb, rows = dataset()
    expected = sorted(r["id"] for r in rows if reference(r, tree))
    assert sorted(call(sb, "helpdesk.ticket", "search", to_prefix(tree))) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(trees, min_size=2, max_size=4))
def test_consecutive_terms_are_anded(terms: list[Any]) -> None:
    sb, rows = dataset()
    domain = [token for tree in terms for token in to_prefix(tree)]
    expected = sorted(r["id"] for r in rows if all(reference(r, t) for t in terms))
    assert sorted(call(sb, "helpdesk.ticket", "search", domain)) == expected
    assert call(sb, "helpdesk.ticket", "search_count", domain) == len(expected)


def test_related_paths_and_child_of() -> None:
    sb = OdooSandbox()
    parent = call(sb, "helpdesk.ticket.category", "create", {"name": "IT"})
    child = call(sb, "helpdesk.ticket.category", "create", {"name": "Login", "parent_id": parent})
    other = call(sb, "helpdesk.ticket.category", "create", {"name": "HR"})
    partner = call(sb, "res.partner", "create", {"name": "Jane", "email": "jane@x.com"})
    first = ticket(sb, category_id=child, partner_id=partner)
    second = ticket(sb, category_id=other)
    assert call(sb, "helpdesk.ticket", "search", [["category_id", "child_of", parent]]) == [first]
    assert call(sb, "helpdesk.ticket", "search", [["partner_id.email", "=ilike", "JANE@x.com"]]) == [first]
    assert call(sb, "helpdesk.ticket", "search", [["stage_id.name", "=", "New"]], order="id") == [first, second]
    assert call(sb, "helpdesk.ticket", "search", [["category_id", "=", "HR"]]) == [second]
    assert call(sb, "helpdesk.ticket", "search", [["category_id.parent_id.name", "=", "IT"]]) == [first]
    assert call(sb, "helpdesk.ticket", "search", [(1, "=", 1)], order="id") == [first, second]


def test_invalid_domains_fault_like_odoo() -> None:
    sb = OdooSandbox()
    with pytest.raises(OdooFault) as unknown:
        call(sb, "helpdesk.ticket", "search", [["stage_id.nope", "=", 1]])
    assert unknown.value.faultCode == 1
    assert unknown.value.faultString.strip().endswith(
        "ValueError: Invalid field helpdesk.ticket.stage.nope in leaf ('stage_id.nope', '=', 1)")
    with pytest.raises(OdooFault, match=r"Invalid leaf \('priority', '~~', '1'\)"):
        call(sb, "helpdesk.ticket", "search", [["priority", "~~", "1"]])
    with pytest.raises(OdooFault, match="Invalid domain"):
        call(sb, "helpdesk.ticket", "search", ["&", ["priority", "=", "1"]])


def test_archived_records_are_hidden_unless_asked() -> None:
    sb = OdooSandbox()
    archived = ticket(sb, active=False)
    assert call(sb, "helpdesk.ticket", "search", []) == []
    assert call(sb, "helpdesk.ticket", "search", [["active", "=", False]]) == [archived]
    assert call(sb, "helpdesk.ticket", "search", [], context={"active_test": False}) == [archived]
    assert call(sb, "helpdesk.ticket", "read", [archived], fields=["active"]) == [{"id": archived, "active": False}]


# ---- ordering, limit, offset ---------------------------------------------------------------------------

def test_order_with_several_keys_desc_nulls_and_many2one() -> None:
    sb, rows = dataset()
    found = call(sb, "helpdesk.ticket", "search_read", [], fields=["priority", "name"], order="priority desc, id")
    expected = sorted(rows, key=lambda r: r["id"])
    expected = sorted(expected, key=lambda r: r["priority"], reverse=True)
    assert [r["id"] for r in found] == [r["id"] for r in expected]
    empty = sum(1 for r in rows if r["partner_email"] is False)
    by_email = call(sb, "helpdesk.ticket", "search_read", [], fields=["partner_email"], order="partner_email, id")
    emails = [r["partner_email"] for r in by_email]
    assert emails[-empty:] == [False] * empty  # NULLs last ascending
    assert emails[:-empty] == sorted(e for e in emails if e)
    by_email_desc = call(sb, "helpdesk.ticket", "search_read", [], fields=["partner_email"],
                         order="partner_email desc, id")
    assert [r["partner_email"] for r in by_email_desc][:empty] == [False] * empty  # ... and first descending
    page = call(sb, "helpdesk.ticket", "search", [], order="id", offset=5, limit=3)
    assert page == sorted(r["id"] for r in rows)[5:8]
    with pytest.raises(OdooFault, match=r"Invalid field 'nope' on model 'helpdesk\.ticket'"):
        call(sb, "helpdesk.ticket", "search", [], order="nope desc")


def test_many2one_orders_by_the_related_models_order() -> None:
    sb = OdooSandbox()
    tickets = {stage: ticket(sb, stage_id=stage) for stage in (3, 1, 2)}
    call(sb, "helpdesk.ticket.stage", "write", [1], {"sequence": 9})  # New now sorts after the others
    by_stage = call(sb, "helpdesk.ticket", "search", [], order="stage_id, id")
    assert by_stage == [tickets[2], tickets[3], tickets[1]]
    assert call(sb, "helpdesk.ticket", "search", [], order="stage_id desc") == [tickets[1], tickets[3], tickets[2]]


class SetClock:
    def __init__(self, moment: datetime) -> None:
        self.current = moment

    def __call__(self) -> datetime:
        return self.current


# ---- read_group ------------------------------------------------------------------------------------------

def test_read_group_counts_by_stage_lazily_with_usable_domains() -> None:
    sb, rows = dataset()
    groups = call(sb, "helpdesk.ticket", "read_group", [["priority", "!=", "0"]], ["color"], ["stage_id", "priority"])
    wanted = [r for r in rows if r["priority"] != "0"]
    assert [g["stage_id"] for g in groups] == [[1, "New"], [2, "In Progress"], [3, "Awaiting"]]
    for group in groups:
        assert set(group) == {"stage_id", "stage_id_count", "color", "__domain", "__context"}
        members = [r for r in wanted if r["stage_id"] == group["stage_id"][0]]
        assert group["stage_id_count"] == len(members)
        assert group["color"] == sum(r["color"] for r in members)
        assert group["__context"] == {"group_by": ["priority"]}
        assert call(sb, "helpdesk.ticket", "search_count", group["__domain"]) == len(members)


def test_read_group_not_lazy_and_many2many() -> None:
    sb, rows = dataset()
    groups = call(sb, "helpdesk.ticket", "read_group", [], ["id"], ["tag_ids", "stage_id"], lazy=False)
    for group in groups:
        assert set(group) == {"tag_ids", "stage_id", "__count", "__domain"}
        tag = group["tag_ids"][0] if group["tag_ids"] else False
        members = [r for r in rows if r["stage_id"] == group["stage_id"][0]
                   and ((tag in r["tag_ids"]) if tag else not r["tag_ids"])]
        assert group["__count"] == len(members) > 0
    assert sum(g["__count"] for g in groups) == sum(max(1, len(r["tag_ids"])) for r in rows)
    assert [1, "a"] in [g["tag_ids"] for g in groups] and False in [g["tag_ids"] for g in groups]


def test_read_group_by_month_with_range() -> None:
    clock = SetClock(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    sb = OdooSandbox(clock=clock)
    ticket(sb)
    clock.current += timedelta(seconds=2)
    ticket(sb)
    groups = call(sb, "helpdesk.ticket", "read_group", [], [], ["create_date:month"])
    assert [(g["create_date:month"], g["create_date_count"]) for g in groups] == [("November 2026", 1),
                                                                                  ("December 2026", 1)]
    assert groups[0]["__range"] == {"create_date:month": {"from": "2026-11-01 00:00:00",
                                                          "to": "2026-12-01 00:00:00"}}
    assert call(sb, "helpdesk.ticket", "search_count", groups[1]["__domain"]) == 1


# ---- recorded quirks -------------------------------------------------------------------------------------

def test_write_date_polling_repeats_the_record() -> None:
    sb = OdooSandbox(clock=StepClock())
    first = ticket(sb)
    [seen] = call(sb, "helpdesk.ticket", "read", [first], fields=["write_date"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", seen["write_date"])
    again = call(sb, "helpdesk.ticket", "search_read", [["write_date", ">", seen["write_date"]]], fields=["id"])
    assert again == [{"id": first}]  # stored with microseconds, shown truncated: '>' matches again
    assert sb.records("helpdesk.ticket")[0]["write_date"].microsecond != 0
    call(sb, "helpdesk.ticket", "message_post", [first], body="note", message_type="comment",
         subtype_xmlid="mail.mt_note")
    [after_note] = call(sb, "helpdesk.ticket", "read", [first], fields=["write_date"])
    assert sb.records("helpdesk.ticket")[0]["write_date"].isoformat().startswith(
        after_note["write_date"].replace(" ", "T"))
    before = sb.records("helpdesk.ticket")[0]["write_date"]
    partner = call(sb, "res.partner", "create", {"name": "Jane", "email": "jane@x.com"})
    call(sb, "helpdesk.ticket", "message_post", [first], body="hi", message_type="comment",
         subtype_xmlid="mail.mt_comment", partner_ids=[partner])
    assert sb.records("helpdesk.ticket")[0]["write_date"] > before  # the access_token write moves it
    moved = sb.records("helpdesk.ticket")[0]["write_date"]
    call(sb, "helpdesk.ticket", "message_post", [first], body="again", message_type="comment",
         subtype_xmlid="mail.mt_comment", partner_ids=[partner])
    assert sb.records("helpdesk.ticket")[0]["write_date"] == moved  # only the first mail does


def test_closing_stage_side_effects() -> None:
    sb = OdooSandbox(clock=StepClock())
    partner = call(sb, "res.partner", "create", {"name": "Jane", "email": "jane@x.com"})
    closing = ticket(sb, partner_id=partner, name="Printer on fire")
    call(sb, "helpdesk.ticket", "write", [closing], {"stage_id": 4})
    [record] = call(sb, "helpdesk.ticket", "read", [closing], fields=["closed", "closed_date", "stage_id", "number"])
    assert record["closed"] is True and record["closed_date"] and record["stage_id"] == [4, "Done"]
    messages = call(sb, "mail.message", "search_read", [["model", "=", "helpdesk.ticket"], ["res_id", "=", closing]],
                    fields=["message_type", "subtype_id", "tracking_value_ids", "body", "record_name"], order="id")
    assert [m["message_type"] for m in messages] == ["notification", "notification", "email_outgoing"]
    tracking = messages[1]
    assert tracking["subtype_id"] == [2, "Note"] and tracking["record_name"] is False
    [value] = call(sb, "mail.tracking.value", "read", tracking["tracking_value_ids"],
                   fields=["old_value_char", "new_value_char", "old_value_integer", "new_value_integer"])
    assert (value["old_value_char"], value["new_value_char"]) == ("New", "Done")
    assert (value["old_value_integer"], value["new_value_integer"]) == (1, 4)
    assert "has been closed" in messages[2]["body"] and messages[2]["subtype_id"] is False
    [mail] = call(sb, "mail.mail", "search_read", [["res_id", "=", closing]],
                  fields=["subject", "state", "recipient_ids", "failure_reason"])
    assert mail["subject"] == f"The ticket {record['number']} has been closed."
    assert (mail["state"], mail["recipient_ids"]) == ("exception", [partner])
    call(sb, "helpdesk.ticket", "write", [closing], {"stage_id": 4})  # same stage again: nothing new
    assert len(sb.records("mail.message")) == 3
    call(sb, "helpdesk.ticket", "write", [closing], {"stage_id": 2})
    [reopened] = call(sb, "helpdesk.ticket", "read", [closing], fields=["closed", "closed_date"])
    assert reopened["closed"] is False and reopened["closed_date"] == record["closed_date"]


def test_failed_calls_roll_back_but_consume_numbers() -> None:
    sb = OdooSandbox()
    first = ticket(sb)
    with pytest.raises(OdooFault):
        call(sb, "helpdesk.ticket", "create", [{"name": "ok", "description": "x"}, {"name": "no description"}])
    assert [r["id"] for r in sb.records("helpdesk.ticket")] == [first]
    second = ticket(sb)
    numbers = [r["number"] for r in call(sb, "helpdesk.ticket", "read", [first, second], fields=["number"])]
    assert numbers == ["HT00001", "HT00004"]  # the failed batch consumed two numbers
    with pytest.raises(OdooFault, match="Wrong value"):
        call(sb, "helpdesk.ticket", "write", [first, second], {"name": "renamed", "priority": "9"})
    assert {r["name"] for r in sb.records("helpdesk.ticket")} == {"T"}


def test_assignment_followers_and_message_bodies() -> None:
    sb = OdooSandbox()
    agent = sb.add_user("Agent", "agent@x.com", "agent@x.com")
    created = ticket(sb)
    [record] = call(sb, "helpdesk.ticket", "read", [created], fields=["user_id", "assigned_date"])
    assert record == {"id": created, "user_id": [ADMIN, "Administrator"], "assigned_date": False}
    call(sb, "helpdesk.ticket", "write", [created], {"user_id": agent})
    [record] = call(sb, "helpdesk.ticket", "read", [created],
                    fields=["assigned_date", "message_partner_ids", "message_ids"])
    agent_partner = call(sb, "res.users", "read", [agent], fields=["partner_id"])[0]["partner_id"][0]
    assert record["assigned_date"] and record["message_partner_ids"] == [3, agent_partner]
    assert len(record["message_ids"]) == 1  # user changes are not tracked
    bodies = {
        "two\n\nparas & <x>": "<p>two</p><p>paras &amp; &lt;x&gt;</p>",
        "line1\nline2": "<p>line1<br>line2</p>",
    }
    for text, stored in bodies.items():
        message = call(sb, "helpdesk.ticket", "message_post", [created], body=text, message_type="comment")
        assert call(sb, "mail.message", "read", [message], fields=["body"])[0]["body"] == stored
    unsafe = call(sb, "helpdesk.ticket", "message_post", [created],
                  body='<p onclick="x()">hi<script>bad()</script></p>', body_is_html=True, message_type="comment",
                  subtype_xmlid="mail.mt_note")
    assert call(sb, "mail.message", "read", [unsafe], fields=["body"])[0]["body"] == "<p>hi</p>"


def test_activities_state_follows_the_clock() -> None:
    sb = OdooSandbox(clock=SetClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)))
    created = ticket(sb)
    states = {}
    for deadline in ("2026-11-30", "2026-12-01", "2026-12-02"):
        activity = call(sb, "mail.activity", "create", {"res_model_id": 346, "res_id": created, "activity_type_id": 4,
                                                        "summary": deadline, "date_deadline": deadline, "user_id": 2})
        states[deadline] = call(sb, "mail.activity", "read", [activity], fields=["state"])[0]["state"]
    assert states == {"2026-11-30": "overdue", "2026-12-01": "today", "2026-12-02": "planned"}
    [record] = call(sb, "helpdesk.ticket", "read", [created], fields=["activity_state", "activity_summary"])
    assert record["activity_state"] == "overdue" and record["activity_summary"] == "2026-11-30"


def test_project_state_resets_on_stage_moves_except_closed_states() -> None:
    sb = OdooSandbox(flavour="project", db="projects")
    project = call(sb, "project.project", "create", {"name": "Support"})
    stages = call(sb, "project.task.type", "create", [{"name": n, "sequence": i, "fold": n == "Done",
                                                       "project_ids": [[6, 0, [project]]]}
                                                      for i, n in enumerate(("Requirements", "Development", "Done"))])
    task = call(sb, "project.task", "create", {"name": "SSO", "project_id": project})
    call(sb, "project.task", "write", [task], {"state": "03_approved"})
    call(sb, "project.task", "write", [task], {"stage_id": stages[1]})
    assert call(sb, "project.task", "read", [task], fields=["state"])[0]["state"] == "01_in_progress"
    call(sb, "project.task", "write", [task], {"state": "1_done"})
    call(sb, "project.task", "write", [task], {"stage_id": stages[2]})
    [record] = call(sb, "project.task", "read", [task], fields=["state", "date_end", "user_ids", "stage_id"])
    assert record["state"] == "1_done" and record["date_end"] and record["user_ids"] == [ADMIN]
    personal = call(sb, "project.task.type", "search_read", [["user_id", "=", ADMIN]], fields=["name"])
    assert [p["name"] for p in personal][:2] == ["Inbox", "Today"]
    with pytest.raises(OdooFault, match=r"Invalid field 'kanban_state' on model 'project\.task'"):
        call(sb, "project.task", "read", [task], fields=["kanban_state"])


@pytest.mark.parametrize(("series", "account"), [("17.0", "analytic_account_id"), ("19.0", "account_id")])
def test_timesheet_lines_as_hr_timesheet_makes_them(series: str, account: str) -> None:
    sb = OdooSandbox(flavour="project", db="projects", series=series)
    project = call(sb, "project.project", "create", {"name": "Support"})
    [support] = call(sb, "project.project", "read", [project], fields=["allow_timesheets", account])
    assert support["allow_timesheets"] is True and support[account][1] == "Support"  # made with the project
    task = call(sb, "project.task", "create", {"name": "SSO", "project_id": project})
    huy = sb.add_user("Huy", "huy@x.com", "huy@x.com", groups=("project_user",))
    line = {"task_id": task, "unit_amount": 1.5, "name": "Research", "user_id": huy}
    with pytest.raises(OdooFault, match="Timesheets must be created with an active employee") as refused:
        call(sb, "account.analytic.line", "create", line)  # a user made over the API has no employee
    assert refused.value.faultCode == 2
    with pytest.raises(OdooFault, match="You are not allowed to create 'Employee'"):
        sb.call(huy, "hr.employee", "create", [{"name": "Huy", "user_id": huy}])
    employee = call(sb, "hr.employee", "create", {"name": "Huy", "user_id": huy})
    assert sb.call(huy, "hr.employee.public", "search_read", [[["user_id", "=", huy]]], {"fields": ["name"]}) == [
        {"id": employee, "name": "Huy"}]
    created = call(sb, "account.analytic.line", "create", line)
    [read] = call(sb, "account.analytic.line", "read", [created],
                  fields=["project_id", "employee_id", "user_id", "account_id", "unit_amount"])
    assert (read["project_id"][0], read["employee_id"][0], read["user_id"][0], read["account_id"][0],
            read["unit_amount"]) == (project, employee, huy, support[account][0], 1.5)
    [done] = call(sb, "project.task", "read", [task], fields=["timesheet_ids", "effective_hours"])
    assert done == {"id": task, "timesheet_ids": [created], "effective_hours": 1.5}
    assert call(sb, "project.task", "fields_get", ["timesheet_ids"], attributes=["relation", "relation_field"]) == {
        "timesheet_ids": {"relation": "account.analytic.line", "relation_field": "task_id"}}
    private = call(sb, "project.task", "create", {"name": "Private"})
    with pytest.raises(OdooFault, match="Timesheets cannot be created on a private task"):
        call(sb, "account.analytic.line", "create", {**line, "task_id": private})
    with pytest.raises(OdooFault, match="You are not allowed to create 'Analytic Line'"):  # no timesheet group
        sb.call(huy, "account.analytic.line", "create", [{**line, "name": "Own"}])
    timesheets = sb.add_user("Lan", "lan@x.com", "lan@x.com", groups=("hr_timesheet.group_hr_timesheet_user",))
    call(sb, "hr.employee", "create", {"name": "Lan", "user_id": timesheets})
    with pytest.raises(OdooFault, match="top-secret"):  # a timesheet user logs their own time only
        sb.call(timesheets, "account.analytic.line", "create", [{**line, "employee_id": employee}])
    assert call(sb, "account.analytic.line", "search_count", []) == 1


def test_access_for_users_without_rights_and_portal_users() -> None:
    sb = OdooSandbox()
    portal = sb.add_user("Portal", "portal@x.com", "portal@x.com", groups=("portal",))
    reader = sb.add_user("Reader", "reader@x.com", "reader@x.com", groups=())
    portal_partner = call(sb, "res.users", "read", [portal], fields=["partner_id"])[0]["partner_id"][0]
    own = ticket(sb, partner_id=portal_partner)
    other = ticket(sb)
    assert sb.call(portal, "helpdesk.ticket", "search", [[]]) == [own]
    assert sb.call(reader, "helpdesk.ticket", "search_read", [[]], {"fields": ["name"]}) == []
    with pytest.raises(OdooFault, match="top-secret") as denied:
        sb.call(portal, "helpdesk.ticket", "read", [[other]], {"fields": ["name"]})
    assert denied.value.faultCode == 4
    with pytest.raises(OdooFault, match="You are not allowed to modify 'Helpdesk Ticket'"):
        sb.call(portal, "helpdesk.ticket", "write", [[own], {"priority": "3"}])
    with pytest.raises(OdooFault, match=r"Document type: Message, Operation: create"):
        sb.call(reader, "helpdesk.ticket", "message_post", [[own]], {"body": "x"})
    assert call(sb, "res.users", "has_group", [reader], "base.group_user") is True
    assert call(sb, "res.users", "has_group", [reader], "helpdesk_mgmt.group_helpdesk_user") is False
    assert call(sb, "res.users", "read", [portal], fields=["share"])[0]["share"] is True


def test_configuration_access_follows_the_modules_access_lists() -> None:
    """helpdesk_mgmt: stages and tags are a Helpdesk Manager's to change; base: groups are Access Rights' to create,
    external ids Access Rights' even to read, unique per module; check_access_rights answers as the ACLs do."""
    sb = OdooSandbox()
    agent = sb.add_user("Agent", "agent@x.com", "agent@x.com", groups=("helpdesk_user",))
    only_managers = r"(?s)create 'Helpdesk Ticket Stage'.*\n\t- Helpdesk/Helpdesk Manager\n\n"
    with pytest.raises(OdooFault, match=only_managers) as denied:
        sb.call(agent, "helpdesk.ticket.stage", "create", [{"name": "Solved"}])
    assert denied.value.faultCode == 4
    assert sb.call(agent, "helpdesk.ticket.stage", "search_count", [[]]) == 6
    with pytest.raises(OdooFault, match=r"(?s)not allowed to create 'Access Groups' \(res.groups\).*Access Rights"):
        sb.call(agent, "res.groups", "create", [{"name": "Support Manager"}])
    with pytest.raises(OdooFault, match=r"(?s)not allowed to access 'Model Data' \(ir.model.data\).*Access Rights"):
        sb.call(agent, "ir.model.data", "search_read", [[]], {"fields": ["name"]})
    rights = {(model, operation): sb.call(agent, model, "check_access_rights", [operation], {"raise_exception": False})
              for model, operation in (("helpdesk.ticket", "write"), ("helpdesk.ticket.stage", "read"),
                                       ("helpdesk.ticket.stage", "create"), ("ir.model.data", "read"))}
    assert rights == {("helpdesk.ticket", "write"): True, ("helpdesk.ticket.stage", "read"): True,
                      ("helpdesk.ticket.stage", "create"): False, ("ir.model.data", "read"): False}
    with pytest.raises(OdooFault, match="You are not allowed to create 'Helpdesk Ticket Stage'"):
        sb.call(agent, "helpdesk.ticket.stage", "check_access_rights", ["create"])
    with pytest.raises(OdooFault, match="AssertionError: Invalid access mode"):
        call(sb, "helpdesk.ticket", "check_access_rights", "delete")
    group = call(sb, "res.groups", "create", {"name": "Support Manager"})
    data = {"module": "mindx_support", "name": "group_support_manager", "model": "res.groups", "res_id": group}
    call(sb, "ir.model.data", "create", data)
    assert sb.store.xmlids["mindx_support.group_support_manager"] == ("res.groups", group)
    with pytest.raises(OdooFault, match=r'unique constraint "ir_model_data_module_name_uniq_index"') as twice:
        call(sb, "ir.model.data", "create", data)
    assert twice.value.faultCode == 2


def test_calls_are_counted() -> None:
    sb = OdooSandbox()
    ticket(sb)
    call(sb, "helpdesk.ticket", "search_read", [])
    with pytest.raises(OdooFault):
        call(sb, "helpdesk.ticket", "merge_tickets", [1])
    assert sb.calls == {("helpdesk.ticket", "create"): 1, ("helpdesk.ticket", "search_read"): 1,
                        ("helpdesk.ticket", "merge_tickets"): 1}


# ---- seed data -----------------------------------------------------------------------------------------

def test_seed_builds_the_mindx_desk() -> None:
    sb = OdooSandbox()
    seed_scenarios(sb)
    names = {model: [r["name"] for r in call(sb, model, "search_read", [], fields=["name"], order="id")]
             for model in ("helpdesk.ticket.team", "helpdesk.ticket.tag", "helpdesk.ticket.category")}
    assert names == {"helpdesk.ticket.team": list(TEAMS), "helpdesk.ticket.tag": list(TAGS),
                     "helpdesk.ticket.category": list(CATEGORIES)}
    stages = call(sb, "helpdesk.ticket.stage", "search_read", [], fields=["name", "closed"], order="sequence, id")
    assert [s["name"] for s in stages] == ["New", "In Progress", "Awaiting", "On Hold", "Solved", "Done",
                                           "Cancelled", "Rejected"]
    assert [s["name"] for s in stages if s["closed"]] == ["Done", "Cancelled", "Rejected"]
    for name, email, *_ in AGENTS:
        [user] = call(sb, "res.users", "search_read", [["login", "=ilike", email]], fields=["name", "email", "share"])
        assert (user["name"], user["email"], user["share"]) == (name, email, False)
        assert call(sb, "res.users", "has_group", [user["id"]], "helpdesk_mgmt.group_helpdesk_user_own") is True
    lead = call(sb, "res.users", "search", [["login", "=", "lan.tt@mindx.edu.vn"]])
    assert call(sb, "res.users", "has_group", lead, "helpdesk_mgmt.group_helpdesk_manager") is True
    for name, email in CUSTOMERS:
        assert call(sb, "res.partner", "search_read", [["email", "=ilike", email]], fields=["name"])[0]["name"] == name
    video = call(sb, "helpdesk.ticket", "search_read", [["category_id.name", "=", "Video"]],
                 fields=["partner_id", "stage_id", "tag_ids", "description"], order="id")
    assert len(video) == 2 and {v["partner_id"][1] for v in video} == {"Teacher 01", "Student 01"}
    assert "JS-ADV-HN-2412" in video[0]["description"] and "Support desk" in video[0]["description"]
    on_hold = call(sb, "helpdesk.ticket", "search_read", [["stage_id.name", "=", "On Hold"]], fields=["partner_id"])
    assert [t["partner_id"][1] for t in on_hold] == ["CXO Cơ sở Nguyễn Chí Thanh"]
    deadline = call(sb, "helpdesk.ticket", "search_read", [["tag_ids.name", "=", "fixed-deadline"]],
                    fields=["description"])
    assert re.search(r"Deadline: \d{4}-\d\d-\d\d \d\d:\d\d UTC", deadline[0]["description"])
    installed = call(sb, "ir.module.module", "search_read",
                     [["name", "in", ["helpdesk", "helpdesk_mgmt", "project"]], ["state", "=", "installed"]],
                     fields=["name"])
    assert [m["name"] for m in installed] == ["helpdesk_mgmt"]


def test_seed_builds_the_support_project() -> None:
    sb = OdooSandbox(flavour="project", db="projects")
    seed_scenarios(sb)
    [project] = call(sb, "project.project", "search_read", [], fields=["name", "type_ids", "task_count"])
    assert project["name"] == "Support" and project["task_count"] == 2
    stages = call(sb, "project.task.type", "search_read", [["user_id", "=", False]], fields=["name", "fold"],
                  order="sequence, id")
    assert [(s["name"], s["fold"]) for s in stages] == [("Requirements", False), ("Development", False),
                                                         ("UAT", False), ("Done", True), ("Canceled", True)]
    installed = call(sb, "ir.module.module", "search_read",
                     [["name", "in", ["helpdesk", "helpdesk_mgmt", "project", "hr_timesheet"]],
                      ["state", "=", "installed"]], fields=["name"], order="name")
    assert [m["name"] for m in installed] == ["hr_timesheet", "project"]
    with pytest.raises(OdooFault, match=r"Object helpdesk\.ticket doesn't exist"):
        call(sb, "helpdesk.ticket", "search", [])


# ---- over HTTP -------------------------------------------------------------------------------------------

@pytest.fixture
async def served() -> AsyncIterator[tuple[OdooSandbox, str, aiohttp.ClientSession]]:
    sb = OdooSandbox()
    async with serve(sb) as url, aiohttp.ClientSession() as session:
        yield sb, url, session


async def test_every_response_closes_the_connection(served: tuple[OdooSandbox, str, aiohttp.ClientSession]) -> None:
    sb, url, session = served
    body = xmlrpc.client.dumps((), "version")
    async with session.post(f"{url}/xmlrpc/2/common", data=body, headers={"Content-Type": "text/xml"}) as response:
        assert response.headers["Connection"] == "close"
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    sb.down = True
    async with session.get(f"{url}/web/version") as response:
        assert response.status == 503 and response.headers["Connection"] == "close"


async def test_json2_endpoint() -> None:
    """Odoo 19 answers JSON-2; 17 and 18 have no such route (werkzeug's 404 page)."""
    async with serve(OdooSandbox(series="17.0")) as url, aiohttp.ClientSession() as session:
        async with session.post(f"{url}/json/2/helpdesk.ticket/search", json={"domain": []},
                                headers={"Authorization": "bearer sandbox-key"}) as response:
            assert response.status == 404 and "text/html" in response.headers["Content-Type"]
    async with serve(OdooSandbox(series="19.0")) as url, aiohttp.ClientSession() as session:
        await _json2_story(url, session)


async def _json2_story(url: str, session: aiohttp.ClientSession) -> None:
    headers = {"Authorization": "bearer sandbox-key", "X-Odoo-Database": "helpdesk"}
    async with session.post(f"{url}/json/2/helpdesk.ticket/create", headers=headers,
                            json={"vals_list": [{"name": "x", "description": "y"}]}) as response:
        assert response.status == 200 and await response.json() == [1]
    async with session.post(f"{url}/json/2/helpdesk.ticket/read", headers=headers,
                            json={"ids": [1], "fields": ["name"]}) as response:
        assert await response.json() == [{"id": 1, "name": "x"}]
    async with session.post(f"{url}/json/2/helpdesk.ticket/write", headers=headers,
                            json={"ids": [404], "vals": {"name": "x"}}) as response:
        error = await response.json()
        assert response.status == 404 and error["name"] == "odoo.exceptions.MissingError"
    async with session.post(f"{url}/json/2/helpdesk.ticket/read", headers={"Authorization": "bearer nope"},
                            json={"ids": [1]}) as response:
        assert response.status == 401 and (await response.json())["name"] == "werkzeug.exceptions.Unauthorized"
