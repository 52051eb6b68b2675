"""`/ticket gitlab`: a ticket's incident or bug filed in GitLab (or an issue GitLab has linked), its link in the
chatter and on the card; TMF's incident path (the ticket closed into "1st line: incident"); GitLab's refusals, each
answered clearly with nothing changed in Odoo; a command replayed after Odoo's answer was lost filing nothing twice.

Through the bot's HTTP endpoint with Teams-shaped activities, against the Odoo double (MindX's seeded desk, or the
demo's on the TMF profile) and the GitLab double (tests/support/gitlab_double.py) over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.process import PROFILES_DIR
from bot.server import create_app
from bot.settings import GitLabSettings, Mode
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.demo import embedded_bot
from tests.support.faultproxy import FaultProxy
from tests.support.gitlab_double import TOKEN, GitLabDouble, served
from tests.support.odoo_view import OdooView
from tests.support.proxied_odoo import Relay, through
from tests.support.teams import TeamsClient, TeamsUser, card_elements, card_text

PROJECT = "tmf/platform"
UNCHANGED = "Nothing was changed in Odoo."


@dataclass
class Desk:
    """The bot on MindX's seeded desk, AGENT typing in their 1:1 chat; Odoo and GitLab behind it."""

    teams: TeamsClient
    odoo: OdooView
    gitlab: GitLabDouble
    relay: Relay

    async def card(self, text: str) -> dict[str, Any]:
        return await self.teams.card(text)

    async def say(self, text: str) -> str:
        return card_text(await self.teams.card(text))

    async def ticket(self, title: str = "Report page times out", users: int = 16) -> int:
        await self.say(f"/ticket new {title} users:{users}\nTeachers cannot open the attendance report.")
        tid = int(self.odoo.newest_ticket()["id"])
        await self.say(f"/ticket diag {tid} App Insights: /report p95 2s -> 35s since 14:00\n"
                       "SlowQueryWarning on attendance")
        return tid

    def notes(self, tid: int) -> list[str]:
        return [message["body"] for message in self.odoo.messages(tid)]

    def stage(self, tid: int) -> str:
        return str(self.odoo.ticket(tid)["stage_id"][1])


StartDesk = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def start_desk(redis: Redis, redis_url: str, sandbox: RunningSandbox, proxy: FaultProxy, clock: FakeClock,
                     connector: tuple[ConnectorStub, str]) -> AsyncIterator[StartDesk]:
    """Starts the bot with GitLab configured as `gitlab` says (None: not at all, "served": the double's address, the
    right token and PROJECT); `proxied`: Odoo reached through the fault proxy."""
    stub, connector_url = connector
    servers: list[TestServer] = []
    double = GitLabDouble()
    async with aiohttp.ClientSession() as session, served(double) as url:
        async def start(*, gitlab: str | None = "served", proxied: bool = False, **changes: str) -> Desk:
            configured = replace(GitLabSettings(url, TOKEN, PROJECT), **changes) if gitlab else None
            settings = bot_settings(redis_url, sandbox.url, gitlab=configured)
            if proxied:
                settings = through(settings, proxy, timeout=1.0)
            server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            teams = TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
            return Desk(teams, OdooView(sandbox.odoo), double, Relay(server, teams))

        yield start
        for server in servers:
            await server.close()


@pytest.fixture
async def desk(start_desk: StartDesk) -> Desk:
    return await start_desk()


def buttons(card: dict[str, Any]) -> dict[str, str]:
    return {e["title"]: e["url"] for e in card_elements(card) if e["type"] == "Action.OpenUrl"}


# --- filing and linking ----------------------------------------------------------------------------------------------

async def test_an_incident_is_filed_with_its_severity_impact_and_diagnosis(desk: Desk) -> None:
    tid = await desk.ticket()
    await desk.say(f"/ticket diag {tid} Tried the fix in staging\n/close\n/label ~wontfix")  # not GitLab's to run
    ticket, stage = desk.odoo.ticket(tid), desk.stage(tid)
    card = await desk.card(f"/ticket gitlab {tid} incident severity:2")

    [issue] = desk.gitlab.issues_in(PROJECT)
    [created] = [r for r in desk.gitlab.writes() if r.path == "projects/7/issues"]
    assert created.body["title"] == "Report page times out" and created.body["issue_type"] == "incident"
    assert "labels" not in created.body
    description = created.body["description"]
    for expected in (f"[{ticket['number']}](", f"id={tid}", "Users affected: 16", "Class of service: Priority",
                     "- App Insights: /report p95 2s -> 35s since 14:00\n  SlowQueryWarning on attendance",
                     f"Filed from Microsoft Teams by {AGENT.name}.", "<!-- teams-command:"):
        assert expected in description, expected
    assert "- Tried the fix in staging\n  /close\n  /label ~wontfix" in description
    assert not [line for line in description.splitlines() if line.startswith("/")]  # no quick action in it
    assert issue["severity"] == "HIGH"  # set after creation, by the /severity quick action in a comment
    assert [note["body"] for note in desk.gitlab.notes] == ["Severity high, as the support desk assessed it."]

    said = card_text(card)
    assert f"Incident {PROJECT}#1 filed in GitLab. Severity 2 (high)." in said
    assert buttons(card)["Open in GitLab"] == issue["web_url"]
    [note] = [body for body in desk.notes(tid) if "GitLab" in body]
    assert f"Incident filed in GitLab: {PROJECT}#1 {issue['web_url']} Severity 2 (high)." in note
    assert desk.stage(tid) == stage  # MindX has no incident stage: the ticket stays where it is


async def test_a_bug_report_gets_the_bug_labels(start_desk: StartDesk) -> None:
    desk = await start_desk(bug_labels=("type::bug", "support"))
    tid = await desk.ticket("Export to Excel drops accents")
    said = await desk.say(f"/ticket gitlab {tid} bug")
    [issue] = desk.gitlab.issues_in(PROJECT)
    assert issue["issue_type"] == "issue" and issue["labels"] == ["type::bug", "support"]
    assert issue["severity"] == "UNKNOWN" and desk.gitlab.notes == []
    assert f"Bug report {PROJECT}#1 filed in GitLab." in said
    assert any(f"Bug report filed in GitLab: {PROJECT}#1 {issue['web_url']}" in body for body in desk.notes(tid))


async def test_an_incident_without_a_severity_is_filed_saying_it_has_none(desk: Desk) -> None:
    tid = await desk.ticket()
    said = await desk.say(f"/ticket gitlab {tid} incident")
    assert "It has no severity yet: set one in GitLab (when unsure, the higher)." in said
    assert desk.gitlab.issues_in(PROJECT)[0]["severity"] == "UNKNOWN"


async def test_an_issue_gitlab_has_is_linked_not_filed(desk: Desk) -> None:
    known = desk.gitlab.add_issue("tmf/backend", "Attendance query misses its index", labels=("bug",))
    tid = await desk.ticket()
    before = len(desk.gitlab.issues)
    card = await desk.card(f"/ticket gitlab {tid} incident link:{known['web_url']}")
    assert len(desk.gitlab.issues) == before and desk.gitlab.writes() == []  # read, not written
    said = card_text(card)
    assert "Linked to GitLab issue tmf/backend#1: Attendance query misses its index." in said
    assert buttons(card)["Open in GitLab"] == known["web_url"]
    assert any(f"Linked to GitLab issue tmf/backend#1 (Attendance query misses its index): {known['web_url']}"
               in body for body in desk.notes(tid))


# --- refusals: bad input, GitLab's errors, GitLab not configured --------------------------------------------------

@pytest.mark.parametrize(("typed", "refused"), [
    ("{tid} problem", "`problem` is not something I log in GitLab: write `incident` or `bug`."),
    ("{tid}", "Say what to log in GitLab: `incident` or `bug`."),
    ("{tid} incident severity:9", "`9` is not a severity: give 1 (critical), 2 (high), 3 (medium) or 4 (low)"),
    ("{tid} bug severity:2", "A severity is given to an incident I file"),
    ("{tid} incident link:https://gitlab.elsewhere.example/tmf/platform/-/issues/3",
     "is not on this desk's GitLab"),
    ("{tid} incident link:{gitlab}/tmf/platform/-/merge_requests/3", "is not the address of a GitLab issue"),
    ("{tid} incident now please", "I don't know what to do with `now please`."),
])
async def test_bad_input_is_refused_with_nothing_changed(desk: Desk, typed: str, refused: str) -> None:
    tid = await desk.ticket()
    notes, requests = desk.notes(tid), len(desk.gitlab.received)
    said = await desk.say("/ticket gitlab " + typed.format(tid=tid, gitlab=desk.gitlab.url))
    assert refused in said and "Usage: `/ticket gitlab <id> <incident|bug>" in said
    assert len(desk.gitlab.received) == requests and desk.notes(tid) == notes


async def test_without_gitlab_the_command_says_what_to_set(start_desk: StartDesk) -> None:
    desk = await start_desk(gitlab=None)
    tid = await desk.ticket()
    notes = desk.notes(tid)
    said = await desk.say(f"/ticket gitlab {tid} incident severity:1")
    assert "GitLab is not configured for this desk, so I did nothing." in said
    assert "GITLAB_URL, GITLAB_TOKEN and GITLAB_PROJECT" in said
    assert desk.notes(tid) == notes and desk.gitlab.received == []


@dataclass(frozen=True)
class Failing:
    """GitLab refusing: the settings the bot starts with, what GitLab is made to do, what the agent reads."""

    settings: dict[str, Any]
    said: str
    throttle: int = 0
    long_title: bool = False
    link: str = ""


FAILING = {
    "401 bad token": Failing({"token": "glpat-revoked-token"},
                             "GitLab refused the bot's token (GITLAB_TOKEN): it is wrong, expired or revoked."),
    "404 unknown project": Failing({"project": "tmf/nowhere"},
                                   "GitLab has no project tmf/nowhere (GITLAB_PROJECT), or the bot's token cannot "
                                   "see it."),
    "404 unknown issue": Failing({}, "GitLab has no issue tmf/platform#404, or the bot's token cannot see it.",
                                 link="{gitlab}/tmf/platform/-/issues/404"),
    "422 validation": Failing({}, "GitLab did not accept the issue: title is too long (maximum is 255 characters)",
                              long_title=True),
    "429 for long": Failing({}, "GitLab is busy; try again in 120 s.", throttle=120),
    "not answering": Failing({"url": "http://127.0.0.1:9"},
                             "GitLab is not answering right now, so nothing was changed in Odoo."),
}


@pytest.mark.parametrize("case", list(FAILING))
async def test_each_gitlab_error_is_answered_and_changes_nothing_in_odoo(start_desk: StartDesk, case: str) -> None:
    failing = FAILING[case]
    desk = await start_desk(**failing.settings)
    tid = await desk.ticket()
    if failing.long_title:  # a title Odoo takes and GitLab does not (written in Odoo's own form)
        desk.odoo.call("helpdesk.ticket", "write", [tid], {"name": "Report page times out " + "x" * 250})
    desk.gitlab.throttle(failing.throttle) if failing.throttle else None
    notes, stage = desk.notes(tid), desk.stage(tid)
    link = " link:" + failing.link.format(gitlab=desk.gitlab.url) if failing.link else ""
    said = await desk.say(f"/ticket gitlab {tid} incident{link}")
    assert failing.said in said
    assert "Usage:" not in said and "Sorry, something went wrong" not in said
    assert desk.notes(tid) == notes and desk.stage(tid) == stage
    assert desk.gitlab.issues == []


async def test_a_short_rate_limit_is_waited_out_once(desk: Desk) -> None:
    tid = await desk.ticket()
    desk.gitlab.throttle(1)
    said = await desk.say(f"/ticket gitlab {tid} bug")
    assert f"Bug report {PROJECT}#1 filed in GitLab." in said
    assert [r.status for r in desk.gitlab.received[:2]] == [429, 200]  # the project asked for again after 1 s
    desk.gitlab.throttle(1, times=2)  # a second 429 in a row is said, not waited for again
    assert "GitLab is busy; try again in 1 s." in await desk.say(f"/ticket gitlab {tid} bug")
    assert len(desk.gitlab.issues) == 1


@pytest.mark.parametrize("retry_after", ["²", "9" * 4_301, "99999999", "-1", "Wed, 21 Oct 2015 07:28:00 GMT"],
                         ids=["superscript", "4,301 digits", "years", "negative", "a date"])
async def test_a_retry_after_in_other_digits_or_too_big_is_read_as_unsaid(desk: Desk, retry_after: str) -> None:
    """`'²'.isdigit()` is true and `int('²')` raises (as does int() of 4,301 digits): this was the crash card."""
    tid = await desk.ticket()
    notes = desk.notes(tid)
    desk.gitlab.throttle(retry_after)
    said = await desk.say(f"/ticket gitlab {tid} bug")
    assert "GitLab is busy; try again in 60 s." in said and "Sorry, something went wrong" not in said
    assert desk.notes(tid) == notes and desk.gitlab.issues == []


async def test_a_vietnamese_agent_is_refused_in_vietnamese(start_desk: StartDesk) -> None:
    desk = await start_desk(token="glpat-revoked-token")
    tid = await desk.ticket()
    desk.teams.locale = "vi-VN"
    said = await desk.say(f"/ticket gitlab {tid} incident")
    assert "GitLab từ chối token của bot (GITLAB_TOKEN)" in said and "Không có gì thay đổi trong Odoo." in said


# --- idempotency: a replay files nothing twice -------------------------------------------------------------------

async def test_a_command_replayed_after_odoos_answer_was_lost_files_one_issue(start_desk: StartDesk,
                                                                              proxy: FaultProxy) -> None:
    """GitLab filed the incident, then the note to Odoo was written with its reply lost: the command was kept and is
    replayed whole; the replay finds the issue by the command's tag in its description. Figures: 1 kept, 1 told
    applied; 1 issue, 1 severity comment, 1 note in Odoo."""
    desk = await start_desk(proxied=True)
    tid = await desk.ticket()
    proxy.spare(2)  # the ticket and its diagnosis notes are read; the note written after GitLab is hit
    proxy.swallow_replies()
    assert "Your command is saved" in await desk.say(f"/ticket gitlab {tid} incident severity:1")
    assert len(desk.gitlab.issues) == 1

    proxy.heal()
    desk.relay.odoo_answers_again()
    told = await desk.relay.run()
    assert told[0].startswith("Odoo is back: your command was applied.")
    assert f"Incident {PROJECT}#1 filed in GitLab. Severity 1 (critical)." in told[1]
    assert len(desk.gitlab.issues) == 1 and len(desk.gitlab.notes) == 1
    searched = [r for r in desk.gitlab.received if r.method == "GET" and r.path == "projects/7/issues"]
    assert searched and searched[-1].query["in"] == "description"
    assert sum("Incident filed in GitLab" in body for body in desk.notes(tid)) == 1


# --- TMF: an incident closes the ticket into "1st line: incident" --------------------------------------------------

MAI = TeamsUser("29:tmf-mai", "Nguyễn Thị Mai", "mai.nt@tmf.example")


@pytest.fixture
async def tmf(clock: FakeClock, connector: tuple[ConnectorStub, str]) -> AsyncIterator[tuple[TeamsClient, Any,
                                                                                               GitLabDouble]]:
    """The demo on the TMF profile (its Odoo set up by setup-odoo, the scenarios' tickets in TMF's stages), GitLab
    configured: MAI typing in their 1:1 chat."""
    stub, connector_url = connector
    stub.add_member(MAI.id, MAI.name, MAI.email)
    double = GitLabDouble()
    async with aiohttp.ClientSession() as session, served(double) as url, embedded_bot(
            Mode.DEMO, clock.now, {"PROCESS_PROFILE": "tmf", "GITLAB_URL": url, "GITLAB_TOKEN": TOKEN,
                                   "GITLAB_PROJECT": PROJECT}) as demo:
        yield TeamsClient(demo.url, connector_url, stub, session, MAI), demo.sandbox, double


async def _tmf_ticket(teams: TeamsClient, odoo: Any, title: str) -> int:
    await teams.card(f"/ticket new {title} users:2")
    [tid] = odoo.call(odoo.admin_uid, "helpdesk.ticket", "search", [[["name", "=", title]]], {})
    await teams.card(f"/ticket ack {tid}")
    return int(tid)


def _stage(odoo: Any, tid: int) -> str:
    [record] = odoo.call(odoo.admin_uid, "helpdesk.ticket", "read", [[tid]], {"fields": ["stage_id"]})
    return str(record["stage_id"][1])


async def test_tmf_closes_an_incident_into_its_incident_stage(
        tmf: tuple[TeamsClient, Any, GitLabDouble]) -> None:
    teams, odoo, gitlab = tmf
    tid = await _tmf_ticket(teams, odoo, "Car 12 does not unlock")
    assert _stage(odoo, tid) == "1st line"
    said = card_text(await teams.card(f"/ticket gitlab {tid} incident severity:3"))
    assert _stage(odoo, tid) == "1st line: incident"  # the profile's incident_stage, read as done
    assert f"Incident {PROJECT}#1 filed in GitLab. Severity 3 (medium)." in said
    assert ("The ticket is closed as an incident (1st line: incident); Odoo sends the customer its \u201cThank you "
            "for reporting incident\u201d e-mail.") in said
    assert gitlab.issues_in(PROJECT)[0]["severity"] == "MEDIUM"
    closed = card_text(await teams.card(f"/ticket note {tid} Customer called again"))
    assert "is closed (1st line: incident)" in closed  # done: reopen it first


async def test_tmf_files_a_bug_without_moving_the_ticket(tmf: tuple[TeamsClient, Any, GitLabDouble]) -> None:
    """A bug report (TMF's 2nd line opens bugs too) leaves the ticket where it is; only an incident closes it."""
    teams, odoo, gitlab = tmf
    tid = await _tmf_ticket(teams, odoo, "Invoice PDF shows the wrong VAT")
    said = card_text(await teams.card(f"/ticket gitlab {tid} bug"))
    assert f"Bug report {PROJECT}#1 filed in GitLab." in said and "closed as an incident" not in said
    assert _stage(odoo, tid) == "1st line"
    assert gitlab.issues_in(PROJECT)[0]["labels"] == ["bug"]


async def test_an_incident_that_cannot_close_yet_is_refused_before_gitlab(
        tmp_path: Path, clock: FakeClock, connector: tuple[ConnectorStub, str]) -> None:
    """A process whose closing needs a field (here TMF's, wanting a category) refuses the incident that would close
    the ticket while the field is empty, before GitLab files anything; a bug, which does not close it, is filed."""
    profile = tmp_path / "tmf-categorised.yaml"
    profile.write_text((PROFILES_DIR / "tmf.yaml").read_text() + "\nrequired_fields:\n  done: [category_id]\n")
    stub, connector_url = connector
    stub.add_member(MAI.id, MAI.name, MAI.email)
    double = GitLabDouble()
    async with aiohttp.ClientSession() as session, served(double) as url, embedded_bot(
            Mode.DEMO, clock.now, {"PROCESS_PROFILE": str(profile), "GITLAB_URL": url, "GITLAB_TOKEN": TOKEN,
                                   "GITLAB_PROJECT": PROJECT}) as demo:
        teams = TeamsClient(demo.url, connector_url, stub, session, MAI)
        tid = await _tmf_ticket(teams, demo.sandbox, "Car 14 does not lock")
        said = card_text(await teams.card(f"/ticket gitlab {tid} incident severity:2"))
        assert "cannot move to done yet: fill in Category (category_id) in Odoo first." in said
        assert double.received == [] and _stage(demo.sandbox, tid) == "1st line"
        assert "Bug report" in card_text(await teams.card(f"/ticket gitlab {tid} bug"))
