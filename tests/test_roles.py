"""Who may do what, through the real bot: every action a process profile can keep for some roles x every role
(agent, lead, manager), and the escalation card's answers x where and by whom they are clicked.

Allowed: the change is in Odoo. Refused: the answer says who the action is for, what the person is and whom to ask,
and Odoo is unchanged (the tickets and their chatter read before and after). The expectations come from the
profile the bot runs (MindX as shipped, and a strict variant that keeps every action for some roles), and a few
MindX rows are pinned by hand below, so a change to the shipped profile that weakens them fails here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bot import build_router
from bot.demo.seed import AGENTS, MANAGERS_GROUP
from bot.escalation.model import Answer
from bot.odoo.gateway import OdooGateway
from bot.odoo.transport import OdooCredentials, make_transport
from bot.process import PROFILES_DIR, Action, ProcessProfile, Role, Stage, load_profile, parse_profile
from bot.roles import ANSWER_FROM_ANYWHERE, ROLE_NAMES, WHAT, whom_to_ask
from tests.conftest import AGENT, LEAD, MANAGER, STRANGER, RunningSandbox
from tests.support.markdown import constructs, visible
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, TeamsUser, card_text

PEOPLE = {Role.AGENT: AGENT, Role.LEAD: LEAD, Role.MANAGER: MANAGER}
DEV = "19:dev@thread.tacv2"
SUPPORT = "19:support@thread.tacv2"
MANAGEMENT = "19:management@thread.tacv2"
DUC = TeamsUser("29:dev-duc", "Võ Minh Đức", "duc.vm@mindx.edu.vn")  # in the Dev team's channel
MAI = TeamsUser("29:dev-mai", "Lê Thị Mai", "mai.lt@mindx.edu.vn")  # in the Dev team's channel, no Odoo user
ANYWHERE = {Role.LEAD, Role.MANAGER}  # who may answer an escalation card outside its team's channel (issue 7)

# Every action kept for some roles, each role allowed some and refused others (agents create: the scenes log
# their tickets through the bot as the agent).
STRICT_ROLES = """\
roles:
  create: [agent, manager]
  acknowledge: [agent, lead]
  assign: [lead]
  note: [agent]
  update: [agent, lead]
  escalate: [lead, manager]
  hold: [lead]
  resume: [manager]
  resolve: [agent, manager]
  close: [lead, manager]
  close_force: [manager]
  reopen: [lead]
  cancel: [manager]
  merge: [lead, manager]
  reclassify: [agent]

"""

# MindX as shipped, by hand: (action, role) -> allowed.
PINNED_MINDX = {
    (Action.CLOSE_FORCE, Role.AGENT): False,  # close only after confirmation, or a lead's / manager's override
    (Action.CLOSE_FORCE, Role.LEAD): True,
    (Action.CLOSE_FORCE, Role.MANAGER): True,
    (Action.MERGE, Role.MANAGER): False,
    (Action.CANCEL, Role.AGENT): True,
    (Action.RECLASSIFY, Role.AGENT): True,  # scenario 6: the agent reclassifies
    (Action.ACKNOWLEDGE, Role.AGENT): True,
    (Action.ESCALATE, Role.AGENT): True,
}


def _strict_profile(folder: Path) -> str:
    text = (PROFILES_DIR / "mindx.yaml").read_text(encoding="utf-8")
    strict, count = re.subn(r"(?ms)^roles:\n.*?\n\n", STRICT_ROLES, text)
    assert count == 1
    path = folder / "strict.yaml"
    path.write_text(strict.replace("name: mindx", "name: strict"), encoding="utf-8")
    return str(path)


@pytest.fixture
def process_profile(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The profile the bot under test runs (overrides conftest's): `mindx`, or `strict` (a file)."""
    wanted = getattr(request, "param", "mindx")
    return _strict_profile(tmp_path) if wanted == "strict" else str(wanted)


# --- the scenes: one command per way of doing an action -----------------------------------------------------------

Check = Callable[[OdooView, list[int]], bool]


@dataclass(frozen=True)
class Scene:
    """`command` ({a}, {b}: the tickets logged for it, `stage` set on them in Odoo first) and how its change shows."""

    name: str
    action: Action
    command: str
    landed: Check
    stage: Stage | None = None
    tickets: int = 1


def stage_is(name: str) -> Check:
    return lambda odoo, ids: odoo.ticket(ids[0])["stage_id"][1] == name


def said(text: str, subtype: str = "Note") -> Check:
    return lambda odoo, ids: any(text in m["body"] for m in odoo.messages(ids[0], subtype=subtype))


def tagged(tag: str) -> Check:
    return lambda odoo, ids: tag in {t["name"] for t in odoo.call("helpdesk.ticket.tag", "read",
                                                                   odoo.ticket(ids[0])["tag_ids"])}


SCENES = (
    Scene("new", Action.CREATE, "/ticket new Projector in room 3 is dead users:1",
          lambda odoo, ids: odoo.newest_ticket()["name"] == "Projector in room 3 is dead", tickets=0),
    Scene("ack", Action.ACKNOWLEDGE, "/ticket ack {a} We are on it", stage_is("In Progress"), Stage.NEW),
    Scene("assign", Action.ASSIGN, f"/ticket assign {{a}} {LEAD.email}",
          lambda odoo, ids: odoo.ticket(ids[0])["user_id"][0] == odoo.user_id(LEAD.email)),
    Scene("note", Action.NOTE, "/ticket note {a} Called the customer", said("Called the customer")),
    Scene("diag", Action.NOTE, "/ticket diag {a} 403 on the CDN", said("403 on the CDN")),
    Scene("update", Action.UPDATE, "/ticket update {a} Still on it", said("Still on it", "Discussions")),
    Scene("escalate", Action.ESCALATE, "/ticket escalate {a} dev Teachers blocked", said("Escalated to the Dev team")),
    Scene("hold", Action.HOLD, "/ticket hold {a} Waiting for the product team", stage_is("On Hold"), Stage.IN_PROGRESS),
    Scene("block", Action.HOLD, "/ticket block {a} Waiting for a screenshot", stage_is("Awaiting"), Stage.IN_PROGRESS),
    Scene("resume", Action.RESUME, "/ticket resume {a}", stage_is("In Progress"), Stage.ON_HOLD),
    Scene("resolve", Action.RESOLVE, "/ticket resolve {a} Reset the password", stage_is("Solved"), Stage.IN_PROGRESS),
    Scene("confirm", Action.CLOSE, "/ticket confirm {a} Works now", stage_is("Done"), Stage.RESOLVED),
    Scene("close", Action.CLOSE_FORCE, "/ticket close {a} force:yes Customer unreachable for 7 days",
          stage_is("Done"), Stage.IN_PROGRESS),
    Scene("reopen", Action.REOPEN, "/ticket reopen {a} The error is back", stage_is("In Progress"), Stage.DONE),
    Scene("cancel", Action.CANCEL, "/ticket cancel {a} Logged twice", stage_is("Cancelled"), Stage.IN_PROGRESS),
    Scene("merge", Action.MERGE, "/ticket merge {a} into {b}", stage_is("Cancelled"), Stage.IN_PROGRESS, tickets=2),
    Scene("class", Action.RECLASSIFY, "/ticket class {a} priority", tagged("priority")),
    Scene("users", Action.RECLASSIFY, "/ticket users {a} 16", tagged("priority")),
)


def members_of(xmlid_key: str) -> list[str]:
    """The seeded people in an Odoo group (a GROUP_KEYS key or an xml id), as the double holds them."""
    return [name for name, _, helpdesk_groups, _ in AGENTS if xmlid_key in helpdesk_groups]


# Whom a refusal names for each role: the leads and managers of the Odoo double; agents are not named one by one.
NAMED = {Role.LEAD: members_of("helpdesk_manager"), Role.MANAGER: members_of(MANAGERS_GROUP[0]),
         Role.AGENT: ["any agent"]}


def snapshot(odoo: OdooView, teams: TeamsClient, ids: list[int]) -> tuple[Any, ...]:
    """Everything a command could change: how many tickets, the tickets, their chatter; the escalation cards."""
    messages = odoo.call("mail.message", "search_read", [["model", "=", "helpdesk.ticket"], ["res_id", "in", ids]],
                         order="id")
    return (odoo.call("helpdesk.ticket", "search_count", []), [odoo.ticket(i) for i in ids], messages,
            len(teams.connector.cards_in(DEV)))


async def stage_in_odoo(odoo: OdooView, profile: ProcessProfile, ids: list[int], stage: Stage) -> None:
    [stage_id] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", profile.stage_name(stage)]])
    odoo.call("helpdesk.ticket", "write", ids, {"stage_id": stage_id})


CELLS = [pytest.param(profile, scene, role, id=f"{profile}-{scene.name}-{role.value}")
         for profile in ("mindx", "strict") for scene in SCENES for role in Role]


@pytest.mark.parametrize(("process_profile", "scene", "role"), CELLS, indirect=["process_profile"])
async def test_each_action_by_each_role(teams: TeamsClient, odoo: OdooView, process_profile: str, scene: Scene,
                                        role: Role) -> None:
    profile = load_profile(process_profile)
    await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
    ids = []
    for number in range(scene.tickets):
        await teams.card(f"/ticket new Role matrix ticket {number} users:1 customer:nguyen.van.a@mindx.edu.vn")
        ids.append(int(odoo.newest_ticket()["id"]))
    if scene.stage is not None:
        await stage_in_odoo(odoo, profile, ids, scene.stage)
    before = snapshot(odoo, teams, ids)

    answer = card_text(await teams.card(scene.command.format(a=ids[0] if ids else 0, b=ids[-1] if ids else 0),
                                        sender=PEOPLE[role]))

    if profile.allows(scene.action, role):
        assert "is for:" not in answer, answer
        assert scene.landed(odoo, ids), answer
        assert snapshot(odoo, teams, ids) != before
        return
    allowed = profile.roles[scene.action]
    assert f"{WHAT[scene.action]} is for: {', '.join(ROLE_NAMES[r] for r in allowed)} " \
           f"(you are: {ROLE_NAMES[role]})" in answer, answer
    for name in (name for allowed_role in allowed for name in NAMED[allowed_role]):
        assert name in answer, answer
    assert snapshot(odoo, teams, ids) == before  # nothing changed in Odoo (nor a card posted)


def test_the_pinned_mindx_rows_still_hold() -> None:
    profile = load_profile("mindx")
    assert {cell: profile.allows(*cell) for cell in PINNED_MINDX} == PINNED_MINDX
    assert profile.manager_groups == (MANAGERS_GROUP[0],)  # the group the MindX Odoo (the double) has


def test_the_matrix_covers_every_action_and_every_action_is_checked_somewhere(tmp_path: Path) -> None:
    # registering channels and reading summaries change nothing in Odoo: tests/test_who_is_speaking.py has their rows
    assert {scene.action for scene in SCENES} | {Action.REGISTER_CHANNEL, Action.READ_SUMMARY} == set(Action)
    assert set(load_profile(_strict_profile(tmp_path)).roles) == set(Action)  # the strict run restricts them all
    checked = {command.action for command in build_router().commands.values() if command.action}
    assert checked | {Action.CLOSE_FORCE} == set(Action)  # none left unchecked (close_force: once force:yes is read)
    assert all(NAMED[role] for role in Role)  # the double has leads and managers to name


# --- escalation cards: answered from the team's channel, or by a lead or a manager from anywhere --------------------

@dataclass(frozen=True)
class Clicker:
    name: str
    who: TeamsUser
    channel: str | None  # None: their 1:1 chat with the bot
    known: bool  # has used the bot before (otherwise it finds their Odoo user by the email Teams gives)
    roles: frozenset[Role] = frozenset()  # from the double's groups; empty: no Odoo user


CLICKERS = (
    Clicker("team-member-in-its-channel", DUC, DEV, known=False, roles=frozenset({Role.AGENT})),
    Clicker("team-member-without-odoo-user-in-its-channel", MAI, DEV, known=False),
    Clicker("lead-elsewhere", LEAD, None, known=True, roles=frozenset({Role.LEAD})),
    Clicker("manager-elsewhere", MANAGER, None, known=True, roles=frozenset({Role.MANAGER})),
    Clicker("manager-the-bot-has-not-met-elsewhere", MANAGER, None, known=False, roles=frozenset({Role.MANAGER})),
    Clicker("lead-the-bot-has-not-met-in-the-management-channel", LEAD, MANAGEMENT, known=False,
            roles=frozenset({Role.LEAD})),
    Clicker("agent-elsewhere", AGENT, None, known=True, roles=frozenset({Role.AGENT})),
    Clicker("agent-in-the-support-channel", AGENT, SUPPORT, known=True, roles=frozenset({Role.AGENT})),
    Clicker("stranger-in-the-support-channel", STRANGER, SUPPORT, known=False),
)


def may_answer(clicker: Clicker) -> bool:
    return clicker.channel == DEV or bool(clicker.roles & ANYWHERE)  # a lead or a manager, met before or not


def test_leads_and_managers_answer_escalations_from_anywhere() -> None:
    assert set(ANSWER_FROM_ANYWHERE) == ANYWHERE


@pytest.mark.parametrize("answer", [Answer.ACKNOWLEDGE, Answer.DECLINE], ids=lambda a: a.value)
@pytest.mark.parametrize("clicker", CLICKERS, ids=lambda c: c.name)
async def test_each_escalation_answer_by_each_clicker(teams: TeamsClient, odoo: OdooView, clicker: Clicker,
                                                      answer: Answer) -> None:
    await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
    await teams.card("/ticket new Attendance report times out users:16 customer:coordinator.ha@mindx.edu.vn")
    tid = int(odoo.newest_ticket()["id"])
    await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked")  # by the agent, who is now known
    [posted] = teams.connector.cards_in(DEV)
    if clicker.known and clicker.who is not AGENT:
        await teams.say("/ticket list mine", sender=clicker.who)
    before = snapshot(odoo, teams, [tid])

    data = {"escalation": posted.card["refresh"]["action"]["data"]["escalation"]} if posted.card else {}
    status, body = await teams.invoke(answer.value, {**data, "why": "Not ours"}, channel=clicker.channel,
                                      sender=clicker.who)
    shown = card_text(body["value"])

    assert status == 200
    if may_answer(clicker):
        done = {Answer.ACKNOWLEDGE: "acknowledged", Answer.DECLINE: "declined"}[answer]
        assert f"{clicker.who.name} (Dev team) {done} the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]
        return
    assert "Only the Dev team's channel can answer this escalation; elsewhere only a team lead or a manager" in shown
    for name in NAMED[Role.LEAD] + NAMED[Role.MANAGER]:
        assert name in shown, shown
    assert ("I can't find an Odoo user with your Teams email address" in shown) == (not clicker.roles)
    assert snapshot(odoo, teams, [tid]) == before and teams.connector.updated == []


# --- where the roles come from -----------------------------------------------------------------------------------

async def test_the_roles_come_from_the_odoo_groups(sandbox: RunningSandbox) -> None:
    users = {user["login"]: user["id"] for user in sandbox.odoo.call(2, "res.users", "search_read", [[]],
                                                                      {"fields": ["login"]})}
    async with connected(sandbox, load_profile("mindx")) as gateway:
        assert [user.name for user in gateway.members(Role.LEAD)] == NAMED[Role.LEAD]
        assert [user.name for user in gateway.members(Role.MANAGER)] == NAMED[Role.MANAGER]
        assert gateway.roles_of(users[AGENT.email]) == {Role.AGENT}
        assert gateway.roles_of(users[LEAD.email]) == {Role.LEAD}
        assert gateway.roles_of(users[MANAGER.email]) == {Role.MANAGER}
        assert gateway.roles_of(2) == {Role.AGENT}  # the bot's own Odoo user (admin) is nobody's lead

        # someone made a Helpdesk Manager and a Support Manager in Odoo is both, once the bot reloads its users
        both = sandbox.odoo.add_user("Đinh Công Bảo", "bao.dc@mindx.edu.vn", "bao.dc@mindx.edu.vn",
                                     groups=("helpdesk_manager", MANAGERS_GROUP[0]))
        await gateway.refresh_users()
        assert gateway.roles_of(both) == {Role.LEAD, Role.MANAGER}

        # a name in Odoo is shown as written where a refusal names whom to ask, never as Markdown
        sandbox.odoo.add_user("**[Lan](https://evil.example)**", "lan@mindx.edu.vn", "lan@mindx.edu.vn",
                              groups=("helpdesk_manager",))
        await gateway.refresh_users()
        asked = whom_to_ask(gateway, [Role.LEAD])
        assert "**[Lan](https://evil.example)**" in visible(asked) and "link_open" not in constructs(asked)


async def test_a_manager_group_odoo_does_not_have_warns_once_and_makes_nobody_a_manager(
        sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    text = (PROFILES_DIR / "mindx.yaml").read_text(encoding="utf-8").replace(
        "manager_groups: [mindx_support.group_support_manager]", "manager_groups: [mindx_ops.group_managers]")
    with caplog.at_level(logging.WARNING, logger="bot.odoo.gateway"):
        async with connected(sandbox, parse_profile(text, "missing-group.yaml")) as gateway:
            await gateway.refresh_users()
            assert gateway.members(Role.MANAGER) == [] and [u.name for u in gateway.leads()] == NAMED[Role.LEAD]
    assert [r.getMessage() for r in caplog.records if "mindx_ops" in r.getMessage()] == [
        "Odoo has no group mindx_ops.group_managers: nobody is a manager for the bot through it"]


def test_the_double_knows_the_managers_group_as_odoo_does(sandbox: RunningSandbox) -> None:
    odoo = OdooView(sandbox.odoo)
    module, name = MANAGERS_GROUP[0].split(".")
    [data] = odoo.call("ir.model.data", "search_read", [["module", "=", module], ["name", "=", name]],
                       fields=["model", "res_id", "complete_name"])
    assert data["model"] == "res.groups" and data["complete_name"] == MANAGERS_GROUP[0]
    [group] = odoo.call("res.groups", "read", [data["res_id"]], fields=["name", "full_name"])
    assert group["full_name"] == f"{MANAGERS_GROUP[2]} / {MANAGERS_GROUP[1]}"  # as Odoo shows "Helpdesk / User"
    assert odoo.call("res.users", "has_group", [odoo.user_id(MANAGER.email)], MANAGERS_GROUP[0]) is True
    assert odoo.call("res.users", "has_group", [odoo.user_id(LEAD.email)], MANAGERS_GROUP[0]) is False


@asynccontextmanager
async def connected(sandbox: RunningSandbox, profile: ProcessProfile) -> AsyncIterator[OdooGateway]:
    async with aiohttp.ClientSession() as session:
        transport = make_transport("xmlrpc", session, OdooCredentials(sandbox.url, "helpdesk", "admin",
                                                                      "test-api-key"))
        gateway = await OdooGateway.connect(transport, profile, base_url=sandbox.url)
        await gateway.refresh_users()  # reloading finds the same people (and warns no more)
        yield gateway
