"""`python app.py setup-odoo [--apply]`: a fresh Odoo (the double) checked against each process profile, set up,
set up again (nothing to do), and the bot starting on it; what it never touches; rights it cannot grant."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.odoo.models import HELPDESK_ENTERPRISE, HELPDESK_MGMT, PROJECT_TASK
from bot.odoo.setup import setup_odoo
from bot.odoo.setup_plan import CreateGroup, CreateStage, OdooStage, OdooState, Project, make_plan, place, report
from bot.process import load_profile
from bot.server import CannotStart, create_app
from bot.settings import OdooSettings
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import FakeClock, bot_settings, series_for
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "test-api-key"
MANAGERS = "mindx_support.group_support_manager"


@dataclass
class FreshOdoo:
    odoo: OdooSandbox
    url: str
    stage_model: str

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.odoo.call(self.odoo.admin_uid, model, method, list(args), kwargs)

    def stages(self) -> list[dict[str, Any]]:
        """The stages as Odoo lists them (sequence, id), archived ones too, personal ones left out."""
        fields = ["name", "sequence", "fold", "active",
                  *(["closed"] if self.stage_model == "helpdesk.ticket.stage" else ["project_ids"])]
        domain = [["user_id", "=", False]] if self.stage_model == "project.task.type" else []
        return self.call(self.stage_model, "search_read", domain, fields=fields, order="sequence, id",  # type: ignore[no-any-return]
                         context={"active_test": False})

    def counts(self) -> dict[str, int]:
        return {model: self.call(model, "search_count", [], context={"active_test": False})
                for model in (self.stage_model, "res.groups", "ir.model.data")}


async def _fresh(flavour: str, clock: FakeClock, series: str) -> tuple[FreshOdoo, TestServer]:
    """A new database with only the module installed (no seed): helpdesk_mgmt's six stages, or for project the
    support project an administrator made, without stages."""
    odoo = OdooSandbox(flavour=flavour, db="helpdesk", login="admin", password="admin",  # type: ignore[arg-type]
                       api_key=API_KEY, clock=clock.now, series=series)
    if flavour == "project":
        odoo.call(odoo.admin_uid, "project.project", "create", [{"name": "Support"}])
    server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await server.start_server()
    stage_model = "project.task.type" if flavour == "project" else "helpdesk.ticket.stage"
    return FreshOdoo(odoo, str(server.make_url("")).rstrip("/"), stage_model), server


@pytest.fixture
async def fresh(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[FreshOdoo]:
    running, server = await _fresh(getattr(request, "param", "helpdesk_mgmt"), clock, series_for(request))
    yield running
    await server.close()


async def setup(odoo: FreshOdoo, profile: str, *, apply: bool = False, login: str = "admin",
                api_key: str = API_KEY, protocol: str = "xmlrpc") -> tuple[int, str]:
    out = io.StringIO()
    settings = OdooSettings(url=odoo.url, db="helpdesk", login=login, api_key=api_key, protocol=protocol)
    code = await setup_odoo(settings, load_profile(profile), apply=apply, out=out)
    return code, out.getvalue()


async def _bot_starts(redis_url: str, odoo: FreshOdoo, profile: str, clock: FakeClock, *, login: str = "admin",
                      api_key: str = API_KEY) -> None:
    settings = bot_settings(redis_url, odoo.url, process_profile=profile)
    settings = replace(settings, odoo=replace(settings.odoo, login=login, api_key=api_key))
    server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
    try:
        await server.start_server()
    finally:
        await server.close()


# (sandbox flavour, process profile, the stages a fresh Odoo lacks, the profile's stages in order, closing ones)
CASES = [
    ("helpdesk_mgmt", "mindx", ["On Hold", "Solved"],
     ["New", "In Progress", "On Hold", "Awaiting", "Solved", "Done", "Cancelled"], {"Done", "Cancelled"}),
    # Triage: /ticket triage's; 2nd line: an escalation team's; 1st line: incident: where an incident logged in GitLab
    # closes the ticket
    ("helpdesk_mgmt", "tmf", ["Triage", "1st line", "2nd line", "3rd line", "1st line: incident", "Canceled"],
     ["New", "Triage", "1st line", "2nd line", "3rd line", "Done", "1st line: incident", "Canceled"],
     {"Done", "1st line: incident", "Canceled"}),
    ("project", "odoo-ps", ["Requirements", "Development", "UAT", "Done", "Canceled"],
     ["Requirements", "Development", "UAT", "Done", "Canceled"], {"Done", "Canceled"}),
]


@pytest.mark.parametrize(("fresh", "profile", "missing", "order", "closing"), CASES, indirect=["fresh"],
                         ids=[case[1] for case in CASES])
async def test_a_fresh_odoo_is_checked_set_up_once_and_the_bot_starts(
        fresh: FreshOdoo, profile: str, missing: list[str], order: list[str], closing: set[str],
        redis: Redis, redis_url: str, clock: FakeClock) -> None:
    # start-up names what is missing in one line, and the command that creates it
    with pytest.raises(CannotStart, match=r"no stage named.*setup-odoo --apply"):
        await _bot_starts(redis_url, fresh, profile, clock)
    before = fresh.counts()

    code, out = await setup(fresh, profile)
    assert code == 1, out
    for name in missing:
        assert f"the stage {name!r} on {fresh.stage_model}" in out
    assert ("with the external id " + MANAGERS in out) is (profile == "mindx")
    assert out.strip().endswith("things to create.")
    assert fresh.counts() == before  # a check changes nothing

    code, out = await setup(fresh, profile, apply=True)
    assert code == 0, out
    assert [line for line in out.splitlines() if line.startswith("created the stage")] == [
        line for line in out.splitlines() if any(line.startswith(f"created the stage {n!r}") for n in missing)]
    assert out.strip().endswith(f"Odoo is ready for the '{profile}' process.")
    stages = fresh.stages()
    assert [s["name"] for s in stages if s["name"] in order] == order  # in the profile's order in Odoo's kanban
    for stage in stages:
        if stage["name"] in order:
            assert stage["fold"] is (stage["name"] in closing)
            assert stage.get("closed", stage["fold"]) is (stage["name"] in closing)
    if fresh.stage_model == "project.task.type":
        [support] = fresh.call("project.project", "search", [["name", "=", "Support"]])
        assert all(s["project_ids"] == [support] for s in stages)
    if profile == "mindx":
        [data] = fresh.call("ir.model.data", "search_read", [["module", "=", "mindx_support"]],
                            fields=["name", "model", "res_id", "noupdate"])
        assert (data["name"], data["model"], data["noupdate"]) == ("group_support_manager", "res.groups", True)
        [group] = fresh.call("res.groups", "read", [data["res_id"]], fields=["name"])
        assert group["name"] == "Support Manager"
    after_first = fresh.counts()

    code, out = await setup(fresh, profile, apply=True)
    assert code == 0, out
    assert "Nothing to do" in out and "created" not in out
    assert fresh.counts() == after_first
    await _bot_starts(redis_url, fresh, profile, clock)  # create_app's start-up check passes


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
async def test_setup_works_over_the_other_transports(fresh: FreshOdoo, protocol: str) -> None:
    code, out = await setup(fresh, "mindx", apply=True, protocol=protocol)
    assert code == 0, out
    assert "created the stage 'Solved'" in out and "created the group 'Support Manager'" in out
    assert (await setup(fresh, "mindx", protocol=protocol))[0] == 0


async def test_existing_stages_are_never_renamed_changed_or_deleted(fresh: FreshOdoo) -> None:
    """Done does not close tickets, Solved (created by hand) does, On Hold is archived: each is reported for an
    administrator, none is written, and no second On Hold is made."""
    [done] = fresh.call("helpdesk.ticket.stage", "search", [["name", "=", "Done"]])
    fresh.call("helpdesk.ticket.stage", "write", [done], {"closed": False})
    fresh.call("helpdesk.ticket.stage", "create", {"name": "Solved", "sequence": 3, "closed": True, "fold": True})
    fresh.call("helpdesk.ticket.stage", "create", {"name": "On Hold", "sequence": 2, "active": False})
    before = fresh.stages()
    fresh.odoo.calls.clear()

    code, out = await setup(fresh, "mindx", apply=True)
    assert code == 1, out
    assert "created the stage" not in out
    assert ("the stage 'Done' does not close tickets in Odoo, but the 'mindx' profile finishes them there (done): "
            "tick 'Closed' on the stage in Odoo (setup-odoo does not change existing stages)") in out
    assert ("the stage 'Solved' closes tickets in Odoo ('Closed' is ticked), but the 'mindx' profile keeps them "
            "open there (resolved): untick it in Odoo") in out
    assert "the stage 'On Hold' is archived in Odoo: unarchive it" in out
    assert "the stage 'Done' is not folded in the kanban" not in out  # folded: only its Closed box differs
    assert "the stage 'Solved' is folded in the kanban" in out  # a note, beside the blocking finding
    assert fresh.stages() == before
    assert not any(method in ("write", "unlink") for _, method in fresh.odoo.calls)
    assert "created the group 'Support Manager'" in out  # what is missing is still created


async def test_rights_the_bot_user_lacks_are_reported_with_what_to_do(fresh: FreshOdoo) -> None:
    """A bot user with the helpdesk's User group only: it may not create stages, tags or groups, nor read the external
    ids the bot finds the leads and managers by. setup-odoo creates nothing and says who may."""
    fresh.odoo.add_user("Support bot", "bot@mindx.example", "bot@mindx.example", groups=("helpdesk_user",),
                        api_key="bot-key")
    before = fresh.counts()
    code, out = await setup(fresh, "mindx", apply=True, login="bot@mindx.example", api_key="bot-key")
    assert code == 1, out
    assert "Nothing to do" in out and "created" not in out
    assert fresh.counts() == before
    assert ("the Odoo user 'bot@mindx.example' may not read ir.model.data records (the bot needs it to find the "
            "leads' and managers' groups by external id): give it the group Administration: Access Rights "
            "(base.group_erp_manager) in Odoo (Settings > Users & Companies > Users > bot@mindx.example > "
            "Access Rights)") in out
    assert ("Odoo lacks the stages 'On Hold' and 'Solved', and the Odoo user 'bot@mindx.example' may not create "
            "helpdesk.ticket.stage records (the group Helpdesk: Helpdesk Manager "
            "(helpdesk_mgmt.group_helpdesk_manager) may): run `python app.py setup-odoo --apply` once with an "
            "administrator's ODOO_LOGIN and ODOO_API_KEY, or create them in Odoo") in out
    assert "Odoo lacks the tags 'standard', 'priority', 'expedite' and 'fixed-deadline'" in out
    assert f"the groups '{MANAGERS}' and 'helpdesk_mgmt.group_helpdesk_manager' were not checked" in out
    assert "may not read, write or create helpdesk.ticket" not in out  # a helpdesk user works tickets


async def test_the_bot_logged_in_with_too_few_rights_says_what_to_run(fresh: FreshOdoo, redis_url: str,
                                                                      clock: FakeClock) -> None:
    """Odoo's access error at start-up (here: the external ids of the leads' groups) is one line naming ODOO_LOGIN and
    setup-odoo, which lists every right the user lacks; not Odoo's bare message."""
    await setup(fresh, "mindx", apply=True)  # the stages: only the rights are missing
    fresh.odoo.add_user("Support bot", "bot@mindx.example", "bot@mindx.example", groups=("helpdesk_user",),
                        api_key="bot-key")
    with pytest.raises(CannotStart) as refused:
        await _bot_starts(redis_url, fresh, "mindx", clock, login="bot@mindx.example", api_key="bot-key")
    [problem] = refused.value.problems
    assert problem.startswith("Odoo: the bot's Odoo user (ODOO_LOGIN) lacks a right the bot needs (Odoo said: ")
    assert "(ir.model.data)" in problem and "\n" not in problem
    assert problem.endswith("`python app.py setup-odoo` names every right it lacks and the group that grants each")


async def _app(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "app.py", *args, cwd=ROOT, env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_command_line(fresh: FreshOdoo) -> None:
    """Only the Odoo settings and PROCESS_PROFILE are needed (no Teams app id, no Redis); exit codes 1, 0, 2."""
    env = {"ODOO_URL": fresh.url, "ODOO_DB": "helpdesk", "ODOO_LOGIN": "admin", "ODOO_API_KEY": API_KEY,
           "PROCESS_PROFILE": "mindx"}
    code, out, err = await _app("setup-odoo", env=env)
    assert (code, err) == (1, ""), err
    assert "the stage 'On Hold' on helpdesk.ticket.stage (sequence 2, after 'In Progress')" in out
    code, out, err = await _app("setup-odoo", "--apply", env=env)
    assert code == 0, out + err
    assert out.strip().endswith("Odoo is ready for the 'mindx' process.")
    code, out, err = await _app("setup-odoo", env={**env, "ODOO_API_KEY": "wrong"})
    assert code == 1 and err.startswith("cannot check Odoo: ") and "wrong" not in err
    code, out, err = await _app("setup-odoo", env={**env, "PROCESS_PROFILE": "nope"})
    assert code == 2 and err.startswith("configuration error: PROCESS_PROFILE: no profile 'nope'"), err
    code, out, err = await _app("setup-odoo", env={**env, "ODOO_URL": f"http://127.0.0.1:{free_port()}"})
    assert code == 1 and err.startswith("cannot check Odoo: ODOO_URL: cannot reach Odoo at http://127.0.0.1:"), err
    assert len(err.strip().splitlines()) == 1, err


# ---- the plan alone: the models the double does not serve, and the corner cases ------------------------------

def _state(stages: list[OdooStage], *, fields: frozenset[str] = frozenset({"name", "sequence", "active", "fold"}),
           groups: dict[str, Any] | None = None, projects: tuple[Project, ...] = (),
           tags: frozenset[str] = frozenset({"standard", "priority", "expedite", "fixed-deadline"})) -> OdooState:
    return OdooState(login="bot", stage_fields=fields, stages=tuple(stages), tags=tags,
                     external_ids={} if groups is None else groups, projects=projects)


def test_odoo_enterprise_helpdesk_closes_by_folding() -> None:
    """Enterprise's helpdesk.stage has no `closed`: a folded stage is a closed one. Its Solved is folded, which the
    MindX profile keeps open (reported); the missing Done is created folded."""
    state = _state([OdooStage(1, "New", 0), OdooStage(2, "In Progress", 1), OdooStage(3, "On Hold", 2),
                    OdooStage(4, "Awaiting", 3), OdooStage(5, "Solved", 4, closed=True, folded=True),
                    OdooStage(6, "Cancelled", 5, closed=True, folded=True)])
    plan = make_plan(load_profile("mindx"), HELPDESK_ENTERPRISE, state)
    [done, group] = plan.changes
    assert done == CreateStage("helpdesk.stage", "Done", 4, True, {"name": "Done", "sequence": 4, "fold": True},
                               "Solved")
    assert group == CreateGroup(MANAGERS, "Support Manager")
    [solved] = [f for f in plan.findings if f.blocking]
    assert "the stage 'Solved' closes tickets in Odoo ('Folded in Kanban' is ticked)" in solved.text
    assert not plan.ready
    assert report(plan)[-1] == "Odoo is not ready for the 'mindx' process: 2 things to create, 1 for an administrator."


def test_a_project_without_a_support_project_is_reported_not_guessed() -> None:
    profile = load_profile("odoo-ps")
    tags = frozenset(profile.tags())  # the classes' and the ticket types' ("Technical Call"): there
    none = make_plan(profile, PROJECT_TASK, _state([], fields=frozenset({"name", "sequence", "fold", "project_ids"}),
                                                    tags=tags))
    assert none.changes == () and "Odoo has no project yet" in none.findings[0].text
    two = make_plan(profile, PROJECT_TASK, _state([], projects=(Project(1, "Internal"), Project(2, "Support")),
                                                  tags=tags))
    assert two.changes == () and "none of the 2 projects uses the profile's stages" in two.findings[0].text
    known = make_plan(profile, PROJECT_TASK, _state(
        [OdooStage(9, "Requirements", 1, closed=False, folded=False, projects=(2,))],
        fields=frozenset({"name", "sequence", "fold", "project_ids"}),
        projects=(Project(1, "Internal"), Project(2, "Support")), tags=tags))
    assert [c.values.get("project_ids") for c in known.changes if isinstance(c, CreateStage)] == [[[6, 0, [2]]]] * 4


def test_new_stages_are_placed_between_their_neighbours() -> None:
    profile = load_profile("mindx")
    needed = profile.needed_stages()
    stages = [OdooStage(1, "New", 10), OdooStage(2, "In Progress", 20), OdooStage(3, "Awaiting", 21),
              OdooStage(4, "Done", 30), OdooStage(5, "Cancelled", 30)]
    sequences = {s.name: s.sequence for s in stages}
    assert place(needed, 2, sequences, stages) == (20, "In Progress")  # no room between 20 and 21: after In Progress
    assert place(needed, 4, sequences, stages) == (22, "Awaiting")  # room between 21 and 30
    assert place(needed, 0, {}, stages) == (31, None)  # nothing of the profile's yet: after every stage
    assert place(needed, 0, {"In Progress": 20}, stages) == (19, None)  # before the first one Odoo has


def test_a_managers_external_id_that_points_elsewhere_is_reported() -> None:
    from bot.odoo.setup_plan import ExternalId

    closing = ("Done", "Cancelled", "Rejected")
    stages = [OdooStage(i, name, i, closed=name in closing, folded=name in closing) for i, name in enumerate(
        ["New", "In Progress", "On Hold", "Awaiting", "Solved", "Done", "Cancelled", "Rejected"])]
    lead = {HELPDESK_MGMT.lead_group: ExternalId(HELPDESK_MGMT.lead_group, "res.groups", 17, True)}
    fields = frozenset({"name", "sequence", "closed", "fold"})
    gone = make_plan(load_profile("mindx"), HELPDESK_MGMT, _state(
        stages, fields=fields, groups={**lead, MANAGERS: ExternalId(MANAGERS, "res.groups", 40, exists=False)}))
    assert gone.changes == () and "names the group id 40, which no longer exists" in gone.findings[0].text
    partner = make_plan(load_profile("mindx"), HELPDESK_MGMT, _state(
        stages, fields=fields, groups={**lead, MANAGERS: ExternalId(MANAGERS, "res.partner", 3, exists=True)}))
    assert "names a res.partner record, not a group" in partner.findings[0].text
    ready = make_plan(load_profile("mindx"), HELPDESK_MGMT, _state(
        stages, fields=fields, groups={**lead, MANAGERS: ExternalId(MANAGERS, "res.groups", 40, exists=True)}))
    assert ready.ready and report(ready) == ["Odoo is ready for the 'mindx' process."]
