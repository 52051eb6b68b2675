"""The demo's desk in the Odoo double: the MindX support desk of the six Week 3 scenarios (seeds/000), or for the
`project` flavour an Odoo PS style "Support" project whose people are employees (they log their time on tasks).
Another helpdesk profile (TMF's) gets the same people and open tickets, each in the profile's own stage for where
it stands (`seed_people`, then `seed_tickets` once the profile's stages are there).

Everything is created through the double's public API (odoo_double.OdooSandbox), with the same ORM calls a client
makes (so numbers, followers and creation messages exist as in Odoo). Tag names follow the process profiles
(`standard`, `priority`, `expedite`, `fixed-deadline`). The facts block under each description is the bot's own
(bot.tickets.description_html).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.process import ProcessProfile, Stage
from bot.tickets import TicketFacts, description_html
from odoo_double import OdooSandbox

# MindX's own group for the support managers (the profile's manager_groups): (xml id, name, category)
MANAGERS_GROUP = ("mindx_support.group_support_manager", "Support Manager", "MindX Support")
# (name, email = login, helpdesk groups, project groups)
AGENTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn", ("helpdesk_user",), ("project_user",)),
    ("Trần Thị Lan", "lan.tt@mindx.edu.vn", ("helpdesk_manager",), ("project_manager",)),
    ("Phạm Quốc Huy", "huy.pq@mindx.edu.vn", ("helpdesk_user",), ("project_user",)),
    ("Võ Minh Đức", "duc.vm@mindx.edu.vn", ("helpdesk_user",), ("project_user",)),
    # the head of support operations: a manager, not a team lead (business decisions, the management channel)
    ("Hoàng Thu Trang", "trang.ht@mindx.edu.vn", ("helpdesk_user", MANAGERS_GROUP[0]),
     ("project_user", MANAGERS_GROUP[0])),
    ("Test User", "user@contoso.com", ("helpdesk_user",), ("project_user",)),
    # The default users of Microsoft's Agents Playground, so `make demo` works there out of the box.
    ("Alex Wilber", "alexw@example.com", ("helpdesk_user",), ("project_user",)),
    ("Megan Bowen", "meganb@example.com", ("helpdesk_manager",), ("project_manager",)),
)
TEAMS = ("Support L1", "Dev", "DevOps", "Product", "Content Ops")
TAGS = ("standard", "priority", "expedite", "fixed-deadline")
CATEGORIES = ("Login", "Performance", "Bug", "Feature Request", "Video", "Reporting")
# MindX's own stages beside helpdesk_mgmt's: (name, sequence); sequence 3 sorts them after Awaiting (3)
# and before Done (4) because the order is "sequence, id".
MINDX_STAGES = (("On Hold", 3), ("Solved", 3))
# The customers of the six scenarios: (name, email)
CUSTOMERS = (
    ("Nguyễn Văn A", "nguyen.van.a@mindx.edu.vn"),
    ("Coordinator Hà", "coordinator.ha@mindx.edu.vn"),
    ("CXO Cơ sở Nguyễn Chí Thanh", "cxo@company.com"),
    ("Teacher 01", "teacher01@mindx.edu.vn"),
    ("Director", "director@mindx.edu.vn"),
    ("Student 01", "student01@example.com"),
)
VIDEO_DESCRIPTION = (
    "<p>Video bài 3 Advanced JavaScript không load được (class JS-ADV-HN-2412, Advanced JavaScript).</p>"
    "<p>12 students affected. Video loading indefinitely, some see \"Cannot load media\" error. "
    "Both web (Chrome 120+) and mobile (iOS Safari/Android Chrome) affected. Started around 19:40.</p>")


@dataclass(frozen=True)
class DemoTicket:
    """An open ticket of the scenarios, with the facts block the bot writes under its descriptions."""

    title: str
    description: str
    customer: str
    stage: Stage  # where it stands; written as the profile's Odoo stage for it
    tag: str
    category: str
    team: str
    priority: str
    agent: str
    users: int
    kind: str
    deadline_in: timedelta | None = None  # from the sandbox clock's "now"


TICKETS = (
    DemoTicket("Video bài 3 Advanced JavaScript không load được", VIDEO_DESCRIPTION, "teacher01@mindx.edu.vn",
               Stage.NEW, "priority", "Video", "Support L1", "2", "tien.dd@mindx.edu.vn", 12, "incident"),
    DemoTicket("Lesson 3 video: Cannot load media", "<p>Video lesson 3 of Advanced JavaScript (JS-ADV-HN-2412) "
               "shows \"Cannot load media\" on my phone and on Chrome since this evening.</p>",
               "student01@example.com", Stage.NEW, "priority", "Video", "Support L1", "2", "tien.dd@mindx.edu.vn", 12,
               "incident"),
    DemoTicket("Auto-generate PDF progress reports and email to parents weekly",
               "<p>Request: auto-generate PDF progress reports and email them to parents weekly. Would save the "
               "team time. Feature request, forwarded to the Product Team for roadmap evaluation.</p>",
               "cxo@company.com", Stage.ON_HOLD, "standard", "Feature Request", "Product", "1", "tien.dd@mindx.edu.vn",
               1, "feature"),
    DemoTicket("Enrollment report for Director presentation",
               "<p>Enrollment report for the Director's presentation. Deadline: 09:00 AM tomorrow (hard deadline). "
               "Filter by location + program + time period, breakdown by course. Risks: PII data, heavy query, "
               "unclear metrics.</p>", "director@mindx.edu.vn", Stage.IN_PROGRESS, "fixed-deadline", "Reporting",
               "Support L1", "2", "tien.dd@mindx.edu.vn", 1, "request", timedelta(hours=17)),
)


def facts_block(*, users: int, kind: str, reported: datetime, deadline: datetime | None = None) -> str:
    """The facts block the bot writes under a ticket's description (the bot's own, bot.tickets.description_html)."""
    return description_html("", TicketFacts(users=users, deadline=deadline, reported=reported, kind=kind))


# Project flavour (Odoo PS support project): stages (name, fold) and tasks (name, description, stage, tags)
PROJECT_STAGES = (("Requirements", False), ("Development", False), ("UAT", False), ("Done", True),
                  ("Canceled", True))
PROJECT_TASKS = (
    ("Add SSO login", "<p>Customer wants SAML SSO for the portal.</p>", "Requirements", ("standard",)),
    ("Invoices report is empty since the upgrade", "<p>The monthly invoices report shows no lines since the "
     "upgrade to 17.0; 12 accountants affected.</p>", "Development", ("priority",)),
)


def add_agent(sb: OdooSandbox, name: str, email: str) -> int:
    """An agent of the demo desk (an internal user with the groups the desk's agents have, like Alex Wilber's); the
    email is the login. Its uid."""
    if sb.flavour != "project":
        return sb.add_user(name, email, email, groups=("helpdesk_user",))
    uid = sb.add_user(name, email, email, groups=("project_user",))
    add_employee(sb, uid, name)
    return uid


def add_employee(sb: OdooSandbox, uid: int, name: str) -> None:
    """The employee an Odoo administrator links to a user (Employees > New, Related User): Odoo logs time on tasks
    for employees only, and makes none for a user created over the API."""
    sb.call(sb.admin_uid, "hr.employee", "create", [{"name": name, "user_id": uid}])


def ids_by_name(sb: OdooSandbox, model: str) -> dict[str, int]:
    return {r["name"]: r["id"] for r in sb.call(sb.admin_uid, model, "search_read", [[]], {"fields": ["name"]})}


# Where the MindX desk's tickets stand, by the names of its stages
MINDX_STAGE_NAMES = {Stage.NEW: "New", Stage.IN_PROGRESS: "In Progress", Stage.ON_HOLD: "On Hold"}


def seed_scenarios(sb: OdooSandbox) -> None:
    """Fill the sandbox with the demo desk (agents, customers, teams, tags, open tickets)."""
    seed_people(sb)
    if sb.flavour == "project":
        _seed_project(sb)
        return
    for name, sequence in MINDX_STAGES:
        sb.call(sb.admin_uid, "helpdesk.ticket.stage", "create", [{"name": name, "sequence": sequence}])
    _seed_tickets(sb, MINDX_STAGE_NAMES)


def fits_the_desk(sb: OdooSandbox, profile: ProcessProfile) -> bool:
    """Whether the MindX desk (`seed_scenarios`) serves the process profile as it is: a project, or a helpdesk whose
    profile names only the desk's stages (MindX's own, or a copy of it such as the end-to-end run's faster one)."""
    if sb.flavour == "project":
        return True
    stages = {row["name"] for row in sb.records("helpdesk.ticket.stage")} | {name for name, _ in MINDX_STAGES}
    return not profile.missing_stages(stages)


def seed_people(sb: OdooSandbox) -> None:
    """The desk's agents, its managers' group and the scenarios' customers; for helpdesk also its tags, teams and
    categories. No stages, no tickets."""
    project = sb.flavour == "project"
    xmlid, group_name, category = MANAGERS_GROUP
    sb.add_group(xmlid, group_name, category=category)
    for name, email, helpdesk_groups, project_groups in AGENTS:
        uid = sb.add_user(name, email, email, groups=project_groups if project else helpdesk_groups)
        if project:  # the desk's people log their time on tasks
            add_employee(sb, uid, name)
    admin = sb.admin_uid
    # the scenarios' customers write Vietnamese: their contacts say so, as `/ticket email` drafts follow it
    sb.call(admin, "res.partner", "create", [[{"name": name, "email": email, "lang": "vi_VN"}
                                              for name, email in CUSTOMERS]])
    if project:
        return
    for model, names in (("helpdesk.ticket.tag", TAGS), ("helpdesk.ticket.team", TEAMS),
                         ("helpdesk.ticket.category", CATEGORIES)):
        sb.call(admin, model, "create", [[{"name": name} for name in names]])


def seed_tickets(sb: OdooSandbox, profile: ProcessProfile) -> None:
    """The scenarios' open tickets, each in `profile`'s Odoo stage for where it stands (the stages must be there:
    `setup-odoo --apply` makes them)."""
    _seed_tickets(sb, {stage: profile.stages[stage] for stage in {demo.stage for demo in TICKETS}})


def _seed_tickets(sb: OdooSandbox, stage_names: dict[Stage, str]) -> None:
    admin = sb.admin_uid
    partners = {email: partner_id for email, partner_id in
                ((p["email"], p["id"]) for p in sb.call(admin, "res.partner", "search_read", [[]],
                                                      {"fields": ["email"]}))}
    tags, teams = ids_by_name(sb, "helpdesk.ticket.tag"), ids_by_name(sb, "helpdesk.ticket.team")
    categories, stages = ids_by_name(sb, "helpdesk.ticket.category"), ids_by_name(sb, "helpdesk.ticket.stage")
    users = {u["login"]: u["id"] for u in sb.call(admin, "res.users", "search_read", [[]], {"fields": ["login"]})}
    now = sb.now()
    for demo in TICKETS:
        values: dict[str, Any] = {
            "name": demo.title, "partner_id": partners[demo.customer], "priority": demo.priority,
            "description": demo.description + facts_block(
                users=demo.users, kind=demo.kind, reported=now,
                deadline=now + demo.deadline_in if demo.deadline_in is not None else None),
            "tag_ids": [[6, 0, [tags[demo.tag]]]], "category_id": categories[demo.category],
            "team_id": teams[demo.team], "user_id": users[demo.agent], "channel_id": 2,
        }
        ticket = sb.call(admin, "helpdesk.ticket", "create", [values])
        if demo.stage is not Stage.NEW:
            sb.call(admin, "helpdesk.ticket", "write", [[ticket], {"stage_id": stages[stage_names[demo.stage]]}])


def _seed_project(sb: OdooSandbox) -> None:
    admin = sb.admin_uid
    project = sb.call(admin, "project.project", "create", [{"name": "Support"}])
    stage_ids = sb.call(admin, "project.task.type", "create", [[
        {"name": name, "sequence": sequence, "fold": fold, "project_ids": [[6, 0, [project]]]}
        for sequence, (name, fold) in enumerate(PROJECT_STAGES, start=1)]])
    stages = dict(zip([name for name, _ in PROJECT_STAGES], stage_ids, strict=True))
    tags = dict(zip(TAGS, sb.call(admin, "project.tags", "create", [[{"name": t} for t in TAGS]]), strict=True))
    agent = next(u["id"] for u in sb.call(admin, "res.users", "search_read",
                                          [[["login", "=", AGENTS[0][1]]]], {"fields": ["id"]}))
    for name, description, stage, task_tags in PROJECT_TASKS:
        sb.call(admin, "project.task", "create", [{
            "name": name, "description": description, "project_id": project, "stage_id": stages[stage],
            "tag_ids": [[6, 0, [tags[t] for t in task_tags]]], "user_ids": [[6, 0, [agent]]]}])
