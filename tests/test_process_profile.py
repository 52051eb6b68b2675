import ast
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.process import (
    PROFILES_DIR,
    Action,
    Audience,
    ClassOfService,
    FollowUpRule,
    KanbanState,
    OdooModel,
    ProcessProfile,
    ProfileError,
    Role,
    Stage,
    available_profiles,
    load_profile,
    parse_profile,
)

# A small valid profile; each value that a test changes appears once, so a mutation is unambiguous.
BASE = """\
name: test
title: Test desk
model: helpdesk.ticket
thresholds:
  priority_min_users: 5
  expedite_min_users: 26
classes:
  standard:
    label: Standard
    tag: standard
    priority: "1"
    update_every: 24h
    acknowledge_within: 30m
    escalation_ack_within: 4h
    alerts: [owner]
  priority:
    label: Priority
    tag: priority
    priority: "2"
    update_every: 15m
    acknowledge_within: 29m
    escalation_ack_within: 15m
    alerts: [owner, lead]
  expedite:
    label: Expedite
    tag: expedite
    priority: "3"
    update_every: 10m
    acknowledge_within: 28m
    escalation_ack_within: 5m
    alerts: [owner, lead, management, escalation]
  deadline:
    label: Fixed Deadline
    tag: fixed-deadline
    priority: "2"
    acknowledge_within: 27m
    escalation_ack_within: 30m
    alerts: [owner, requester]
deadline:
  min_updates: 4
  checkpoints: [0.5, 0.75, 0.9, 1.0]
  urgent_within: 4h
timers:
  reception_within: 15m
  customer_reply_within: 1h
  min_update_interval: 5m
  lead_after_misses: 2
follow_up:
  after: 24h
  give_up_after: 7d
  rule: nag
stages:
  new: New
  in_progress: In Progress
  on_hold: On Hold
  waiting_customer: Awaiting
  resolved: Solved
  done: Done
  cancelled: Cancelled
escalation_teams:
  dev:
    label: Dev team
    next: senior
  senior:
    label: Senior engineers
    next: management
  management:
    label: Management
ticket_types: [incident, request]
roles:
  close_force: [lead]
  cancel: [agent, lead]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def mutate(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must appear exactly once in BASE"
    return BASE.replace(old, new)


def line_of(text: str, anchor: str) -> int:
    assert text.count(anchor) == 1, f"{anchor!r} must appear exactly once"
    return text[: text.index(anchor)].count("\n") + 1


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


# --- shipped profiles ----------------------------------------------------------------------------


def test_the_three_profiles_ship() -> None:
    assert set(available_profiles()) >= {"mindx", "tmf", "odoo-ps"}


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_loads_and_is_complete(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.source == f"profiles/{name}.yaml"
    assert set(profile.stages) == set(Stage)
    assert set(profile.classes) == set(ClassOfService)
    for cos, service_class in profile.classes.items():
        assert service_class.key is cos
        assert service_class.priority in profile.model.priorities
        assert (service_class.update_every is None) == (cos is ClassOfService.FIXED_DEADLINE)
        assert service_class.alerts
    assert profile.urgent_priority in profile.model.priorities
    assert profile.priority_min_users < profile.expedite_min_users
    for team in profile.escalation_teams:
        chain = profile.escalation_chain(team)
        assert chain[0].key == team
        assert chain[-1].next is None
    for stage in Stage:
        assert profile.stage_of(profile.stage_name(stage)) is not None


def test_load_by_path_equals_load_by_name() -> None:
    by_name = load_profile("tmf")
    by_path = load_profile(str(PROFILES_DIR / "tmf.yaml"))
    assert by_path.source.endswith("tmf.yaml")
    assert replace(by_path, source=by_name.source) == by_name


def test_mindx_is_the_default_and_matches_the_class_of_service_table() -> None:
    profile = load_profile()
    assert profile.name == "mindx"
    assert profile.model is OdooModel.HELPDESK_TICKET
    assert (profile.priority_min_users, profile.expedite_min_users) == (5, 26)
    classes = profile.classes
    assert [classes[cos].priority for cos in ClassOfService] == ["1", "2", "3", "2"]
    assert profile.urgent_priority == "3"
    assert classes[ClassOfService.STANDARD].update_every == timedelta(hours=24)
    assert classes[ClassOfService.PRIORITY].update_every == timedelta(minutes=15)
    assert classes[ClassOfService.EXPEDITE].update_every == timedelta(minutes=15)
    assert classes[ClassOfService.FIXED_DEADLINE].update_every is None
    assert [classes[cos].escalation_ack_within for cos in ClassOfService] == [
        timedelta(hours=4),
        timedelta(minutes=15),
        timedelta(minutes=5),
        timedelta(minutes=30),
    ]
    assert {classes[cos].acknowledge_within for cos in ClassOfService} == {timedelta(minutes=30)}
    assert classes[ClassOfService.EXPEDITE].alerts == (
        Audience.OWNER,
        Audience.LEAD,
        Audience.MANAGEMENT,
        Audience.ESCALATION,
    )
    assert classes[ClassOfService.FIXED_DEADLINE].alerts == (Audience.OWNER, Audience.REQUESTER)
    assert profile.reception_within == timedelta(minutes=15)
    assert profile.deadline_checkpoints == (0.5, 0.75, 0.9, 1.0)
    assert profile.deadline_min_updates == 4
    assert profile.follow_up_rule is FollowUpRule.NAG
    assert profile.stages[Stage.ON_HOLD] == "On Hold"
    assert profile.stages[Stage.RESOLVED] == "Solved"
    assert profile.stages[Stage.WAITING_CUSTOMER] == "Awaiting"
    assert profile.stage_of("Rejected") is Stage.CANCELLED
    for team in ("dev", "devops", "product", "content-ops"):
        assert [t.key for t in profile.escalation_chain(team)] == [team, "senior", "management"]
    assert profile.ticket_types == ("incident", "bug", "request", "feature")
    assert profile.roles[Action.CLOSE_FORCE] == (Role.LEAD, Role.MANAGER)
    assert not profile.allows("close_force", "agent")
    assert profile.allows(Action.CLOSE_FORCE, Role.LEAD)
    assert profile.manager_groups == ("mindx_support.group_support_manager",)
    assert profile.allows("note", "agent")  # not restricted
    assert profile.class_for_tag("Fixed-Deadline") is ClassOfService.FIXED_DEADLINE
    assert profile.class_for_tag("vip") is None


def test_tmf_profile() -> None:
    profile = load_profile("tmf")
    assert profile.model is OdooModel.HELPDESK_TICKET
    assert profile.stage_name(Stage.CANCELLED) == "Canceled"
    assert profile.notify_customer_on_cancel is False
    assert set(profile.odoo_stage_names()) == {
        "New",
        "Triage",
        "1st line",
        "1st line: incident",
        "2nd line",
        "3rd line",
        "Done",
        "Canceled",
    }
    assert dict(profile.odoo_stage_emails) == {
        "New": "Ticket created",
        "Triage": "Team member is addressing your support request",
        "1st line: incident": "Thank you for reporting incident",
        "Done": "closing ticket",
    }
    assert profile.stage_emails[Stage.NEW] == "Ticket created"
    assert profile.stage_emails[Stage.DONE] == "closing ticket"
    assert Stage.CANCELLED not in profile.stage_emails
    # stars: 1 star within 2-5 business days, 2 stars 1 business day, 3 stars immediate
    standard, priority, expedite = (profile.classes[cos] for cos in list(ClassOfService)[:3])
    assert (standard.priority, priority.priority, expedite.priority) == ("1", "2", "3")
    assert standard.acknowledge_within == timedelta(days=2)
    assert priority.acknowledge_within == timedelta(days=1)
    assert expedite.acknowledge_within <= timedelta(minutes=15)
    # stages shared by several logical stages read back as the plain one
    assert profile.stage_of("1st line") is Stage.IN_PROGRESS
    assert profile.stage_of("Done") is Stage.DONE
    assert profile.stage_of("Triage") is Stage.IN_PROGRESS
    assert profile.stage_of("1st line: incident") is Stage.DONE
    assert profile.incident_stage == "1st line: incident"
    assert profile.escalation_teams["second-line"].stage == "2nd line"
    assert profile.escalation_teams["third-party"].stage == "3rd line"


def test_odoo_ps_profile() -> None:
    profile = load_profile("odoo-ps")
    assert profile.model is OdooModel.PROJECT_TASK
    assert {c.priority for c in profile.classes.values()} <= {"0", "1"}
    assert profile.urgent_priority == "1"
    assert [profile.stages[s] for s in (Stage.NEW, Stage.IN_PROGRESS, Stage.RESOLVED, Stage.DONE)] == [
        "Requirements",
        "Development",
        "UAT",
        "Done",
    ]
    assert profile.stages[Stage.CANCELLED] == "Canceled"
    assert profile.follow_up_rule is FollowUpRule.CLOSE
    assert profile.follow_up_activity is True and load_profile("mindx").follow_up_activity is False
    assert dict(profile.type_tags) == {"call": "Technical Call", "email": "Technical Email",
                                       "change-request": "Change Request"}
    assert profile.follow_up_after == profile.follow_up_give_up_after == timedelta(days=7)
    assert profile.required_fields[Stage.IN_PROGRESS] == ("sale_line_id", "parent_id", "subscription_id")
    assert "sale_line_id" in profile.required_fields[Stage.DONE]
    assert profile.stage_of("UAT") is Stage.RESOLVED
    assert profile.stage_of("Development") is Stage.IN_PROGRESS
    assert profile.stage_of("Development", KanbanState.BLOCKED) is Stage.WAITING_CUSTOMER
    assert profile.stage_of("Development", KanbanState.NORMAL) is Stage.IN_PROGRESS
    assert profile.stage_of("Inbox") is None


# --- loading details -----------------------------------------------------------------------------


def test_the_stages_a_profile_needs_in_odoo() -> None:
    """One list, used by the start-up check and setup-odoo: each Odoo stage once, in lifecycle order, closing when
    a done or cancelled stage maps to it (TMF resolves into Done, so Done serves both and closes)."""
    def needed(name: str) -> list[tuple[str, bool]]:
        return [(stage.name, stage.closing) for stage in load_profile(name).needed_stages()]

    assert needed("mindx") == [("New", False), ("In Progress", False), ("On Hold", False), ("Awaiting", False),
                               ("Solved", False), ("Done", True), ("Cancelled", True)]
    # 2nd line: escalating to TMF's second line moves the ticket there (an extra stage, read as in progress)
    # 1st line: incident: an incident logged in GitLab closes the ticket there (incident_stage, read as done)
    assert needed("tmf") == [("New", False), ("Triage", False), ("1st line", False), ("2nd line", False),
                             ("3rd line", False), ("Done", True), ("1st line: incident", True),
                             ("Canceled", True)]  # Triage: /ticket triage's
    [_, development, *_] = load_profile("odoo-ps").needed_stages()
    assert development.serves == (Stage.IN_PROGRESS, Stage.ON_HOLD, Stage.WAITING_CUSTOMER)
    mindx = load_profile("mindx")
    assert [s.name for s in mindx.missing_stages(["New", "In Progress", "Awaiting", "Done", "Rejected"])] == [
        "On Hold", "Solved", "Cancelled"]
    assert mindx.class_tags() == ("standard", "priority", "expedite", "fixed-deadline")


def test_base_profile_is_valid_and_defaults_apply() -> None:
    profile = parse_profile(BASE, "base.yaml")
    assert isinstance(profile, ProcessProfile)
    assert profile.notify_customer_on_cancel is True
    assert profile.urgent_priority == "3"
    assert profile.deadline_urgent_priority == "3"
    assert dict(profile.stage_emails) == {}
    assert dict(profile.required_fields) == {}
    assert dict(profile.kanban_states) == {}
    assert dict(profile.extra_stages) == {}
    assert profile.escalation_teams["management"].next is None
    assert profile.escalation_teams["dev"].stage is None
    assert profile.incident_stage is None  # an incident logged in GitLab leaves the ticket where it is
    assert profile.classes[ClassOfService.EXPEDITE].update_every == timedelta(minutes=10)
    assert profile.language == "en"  # the bot's own channel posts


def test_channel_posts_may_be_in_vietnamese() -> None:
    assert parse_profile(mutate("title: Test desk\n", "title: Test desk\nlanguage: vi\n"), "vi.yaml").language == "vi"


def test_profile_without_roles_opens_every_action_to_every_role_but_registering_channels() -> None:
    text = BASE[: BASE.index("roles:")]
    profile = parse_profile(text, "open.yaml")
    # issue 15: registering a channel stays the leads' and managers' (and reading summaries needs an Odoo user)
    assert dict(profile.roles) == {Action.REGISTER_CHANNEL: (Role.LEAD, Role.MANAGER),
                                   Action.READ_SUMMARY: (Role.AGENT, Role.LEAD, Role.MANAGER)}
    assert all(profile.allows(action, role) for action in Action for role in Role
               if action is not Action.REGISTER_CHANNEL)
    assert not profile.allows(Action.REGISTER_CHANNEL, Role.AGENT)
    listed = parse_profile(text + "roles:\n  register_channel: [agent, lead]\n", "listed.yaml")
    assert listed.allows(Action.REGISTER_CHANNEL, Role.AGENT) and not listed.allows(Action.REGISTER_CHANNEL, "manager")


def test_managers_are_the_members_of_the_groups_the_profile_names() -> None:
    assert parse_profile(BASE, "none.yaml").manager_groups == ()  # left out: nobody is a manager
    text = mutate("roles:\n", "manager_groups: [mindx_support.group_support_manager, __export__.res_groups_42]\n"
                              "roles:\n")
    assert parse_profile(text, "x.yaml").manager_groups == ("mindx_support.group_support_manager",
                                                            "__export__.res_groups_42")
    assert parse_profile(mutate("roles:\n", "manager_groups: []\nroles:\n"), "x.yaml").manager_groups == ()


def test_priority_may_be_written_as_a_number() -> None:
    profile = parse_profile(mutate('priority: "3"', "priority: 3"), "x.yaml")
    assert profile.classes[ClassOfService.EXPEDITE].priority == "3"


def test_merge_keys_work_and_the_explicit_value_wins() -> None:
    text = mutate(
        "  priority:\n    label: Priority\n    tag: priority\n",
        "  priority:\n    <<: *std\n    label: Priority\n    tag: priority\n",
    ).replace("  standard:\n", "  standard: &std\n")
    profile = parse_profile(text, "merge.yaml")
    assert profile.classes[ClassOfService.PRIORITY].label == "Priority"
    assert profile.classes[ClassOfService.PRIORITY].update_every == timedelta(minutes=15)


def test_profiles_are_hashable_and_compare_by_value() -> None:
    first, second = parse_profile(BASE, "base.yaml"), parse_profile(BASE, "base.yaml")
    assert first == second
    assert len({first, second}) == 1
    assert first != replace(first, lead_after_misses=3)


def test_profile_is_immutable() -> None:
    profile = parse_profile(BASE, "base.yaml")
    with pytest.raises(TypeError):
        profile.stages[Stage.NEW] = "Other"  # type: ignore[index]
    with pytest.raises(AttributeError):
        profile.name = "other"  # type: ignore[misc]


def test_unknown_profile_name() -> None:
    for name in ("nope", "MindX"):
        with pytest.raises(ProfileError) as raised:
            load_profile(name)
        assert str(raised.value) == f"no profile {name!r} (choose mindx, odoo-ps, tmf or a path to a YAML file)"


def test_unreadable_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    with pytest.raises(ProfileError, match=r"missing\.yaml: cannot read the profile"):
        load_profile(missing)


# --- bad profiles: one clear `file:line: key: what` line each ------------------------------------

BAD = [
    pytest.param(
        "update_every: 15m",
        "update_every: 15 minutes",
        "update_every: 15 minutes",
        "classes.priority.update_every: '15 minutes' is not a duration (write 30s, 15m, 24h or 7d",
        id="duration-words",
    ),
    pytest.param(
        "update_every: 10m",
        "update_every: 10",
        "update_every: 10",
        "classes.expedite.update_every: '10' is not a duration",
        id="duration-bare-number",
    ),
    pytest.param(
        "reception_within: 15m",
        "reception_within: 0m",
        "reception_within: 0m",
        "timers.reception_within: must be longer than 0s",
        id="duration-zero",
    ),
    pytest.param(
        "update_every: 15m",
        "update_evry: 15m",
        "update_evry: 15m",
        "classes.priority.update_evry: unknown key; did you mean 'update_every'?",
        id="typo-in-key",
    ),
    pytest.param(
        "title: Test desk\n",
        "title: Test desk\ncolour: blue\n",
        "colour: blue",
        "colour: unknown key",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "    tag: priority\n",
        "",
        "  priority:\n",
        "classes.priority.tag: missing (this key is required)",
        id="missing-key",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "",
        "name: test",
        "ticket_types: missing (this key is required)",
        id="missing-top-level-key",
    ),
    pytest.param(
        "  waiting_customer: Awaiting\n",
        "",
        "stages:",
        "stages.waiting_customer: missing (this key is required)",
        id="unmapped-stage",
    ),
    pytest.param(
        "  on_hold: On Hold\n",
        "  on_hold: On Hold\n  paused: Paused\n",
        "paused: Paused",
        "stages.paused: unknown stage",
        id="unknown-stage",
    ),
    pytest.param(
        'priority: "3"',
        'priority: "4"',
        'priority: "4"',
        "classes.expedite.priority: '4' is not a priority of helpdesk.ticket (use '0', '1', '2' or '3')",
        id="priority-out-of-range",
    ),
    pytest.param(
        "model: helpdesk.ticket",
        "model: project.task",
        'priority: "2"\n    update_every: 15m',
        "classes.priority.priority: '2' is not a priority of project.task (use '0' or '1')",
        id="priority-invalid-for-project-task",
    ),
    pytest.param(
        "model: helpdesk.ticket",
        "model: crm.lead",
        "model: crm.lead",
        "model: 'crm.lead' is not an Odoo model this bot supports (use 'helpdesk.ticket' or 'project.task')",
        id="unknown-model",
    ),
    pytest.param(
        "expedite_min_users: 26",
        "expedite_min_users: 5",
        "expedite_min_users: 5",
        "thresholds.expedite_min_users: must be greater than priority_min_users (5), got 5",
        id="thresholds-not-increasing",
    ),
    pytest.param(
        "priority_min_users: 5",
        "priority_min_users: five",
        "priority_min_users: five",
        "thresholds.priority_min_users: expected a whole number, got 'five'",
        id="threshold-not-a-number",
    ),
    pytest.param(
        "priority_min_users: 5",
        "priority_min_users: 0",
        "priority_min_users: 0",
        "thresholds.priority_min_users: must be at least 1, got 0",
        id="threshold-zero",
    ),
    pytest.param(
        "checkpoints: [0.5, 0.75, 0.9, 1.0]",
        "checkpoints: [0.5, 0.75, 0.9, 1.5]",
        "checkpoints: [0.5, 0.75, 0.9, 1.5]",
        "deadline.checkpoints[3]: 1.5 is not in (0, 1]",
        id="checkpoint-above-one",
    ),
    pytest.param(
        "checkpoints: [0.5, 0.75, 0.9, 1.0]",
        "checkpoints: [0, 0.5]",
        "checkpoints: [0, 0.5]",
        "deadline.checkpoints[0]: 0 is not in (0, 1]",
        id="checkpoint-zero",
    ),
    pytest.param(
        "checkpoints: [0.5, 0.75, 0.9, 1.0]",
        "checkpoints: [0.5, 0.9, 0.75]",
        "checkpoints: [0.5, 0.9, 0.75]",
        "deadline.checkpoints[2]: 0.75 must come after 0.9",
        id="checkpoints-out-of-order",
    ),
    pytest.param(
        "checkpoints: [0.5, 0.75, 0.9, 1.0]",
        "checkpoints: []",
        "checkpoints: []",
        "deadline.checkpoints: expected a list of fractions",
        id="checkpoints-empty",
    ),
    pytest.param(
        "    next: senior\n",
        "    next: senoir\n",
        "next: senoir",
        "escalation_teams.dev.next: 'senoir' is not an escalation team "
        "(teams: 'dev', 'senior' or 'management')",
        id="escalation-unknown-team",
    ),
    pytest.param(
        "    next: management\n",
        "    next: dev\n",
        "next: dev",
        "escalation_teams.senior.next: the escalation chain loops: dev -> senior -> dev",
        id="escalation-loop",
    ),
    pytest.param(
        "    label: Management\n",
        "    label: Management\n    next: management\n",
        "    next: management\nticket_types",
        "escalation_teams.management.next: the escalation chain loops: management -> management",
        id="escalation-self-loop",
    ),
    pytest.param(
        "    label: Dev team\n",
        "    label: Dev team\n    stage: 2nd line\n",
        "stage: 2nd line",
        "escalation_teams.dev.stage: '2nd line' is not an Odoo stage of this profile",
        id="escalation-unknown-stage",
    ),
    pytest.param(
        "  close_force: [lead]",
        "  close_forse: [lead]",
        "close_forse",
        "roles.close_forse: unknown action; did you mean 'close_force'?",
        id="roles-unknown-action",
    ),
    pytest.param(
        "  cancel: [agent, lead]",
        "  cancel: [agnet, lead]",
        "agnet",
        "roles.cancel[0]: 'agnet' is not a role (use 'agent', 'lead' or 'manager')",
        id="roles-unknown-role",
    ),
    pytest.param(
        "  cancel: [agent, lead]",
        "  cancel: []",
        "cancel: []",
        "roles.cancel: must not be an empty list",
        id="roles-nobody",
    ),
    pytest.param(
        "roles:\n",
        "manager_groups: [Support Managers]\nroles:\n",
        "manager_groups:",
        "manager_groups[0]: 'Support Managers' is not an Odoo external id: write module.name",
        id="manager-group-by-name",
    ),
    pytest.param(
        "roles:\n",
        "manager_groups: mindx_support.group_support_manager\nroles:\n",
        "manager_groups:",
        "manager_groups: expected a list, got 'mindx_support.group_support_manager'",
        id="manager-groups-not-a-list",
    ),
    pytest.param(
        "roles:\n",
        "manager_group: [mindx_support.group_support_manager]\nroles:\n",
        "manager_group:",
        "manager_group: unknown key; did you mean 'manager_groups'?",
        id="manager-groups-misspelt",
    ),
    pytest.param(
        "alerts: [owner, requester]",
        "alerts: [owner, customer]",
        "alerts: [owner, customer]",
        "classes.deadline.alerts[1]: 'customer' is not someone the bot can alert",
        id="unknown-alert",
    ),
    pytest.param(
        "    acknowledge_within: 27m\n",
        "    acknowledge_within: 27m\n    update_every: 1h\n",
        "update_every: 1h",
        "classes.deadline.update_every: Fixed Deadline updates are spaced by the time left",
        id="deadline-class-with-fixed-cadence",
    ),
    pytest.param(
        "    tag: expedite\n",
        "    tag: Priority\n",
        "tag: Priority",
        "classes.expedite.tag: 'Priority' is already the tag of classes.priority",
        id="duplicate-tag",
    ),
    pytest.param(
        "give_up_after: 7d",
        "give_up_after: 12h",
        "give_up_after: 12h",
        "follow_up.give_up_after: must not be shorter than follow_up.after (1d)",
        id="give-up-before-follow-up",
    ),
    pytest.param(
        "rule: nag",
        "rule: ignore",
        "rule: ignore",
        "follow_up.rule: 'ignore' is not a follow-up rule (use 'nag' or 'close')",
        id="bad-follow-up-rule",
    ),
    pytest.param(
        "  urgent_within: 4h\n",
        '  urgent_within: 4h\n  urgent_priority: "1"\n',
        'urgent_priority: "1"',
        "deadline.urgent_priority: must not be lower than classes.deadline.priority ('2')",
        id="urgent-priority-lower",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\ntype_tags:\n  call: Technical Call\n",
        "call: Technical Call",
        "type_tags.call: not a ticket type of this profile (ticket_types: 'incident' or 'request')",
        id="tag-for-unknown-type",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nstage_emails:\n  Closed: Bye\n",
        "Closed: Bye",
        "stage_emails.Closed: not an Odoo stage of this profile",
        id="email-for-unknown-stage",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nextra_stages:\n  Done: cancelled\n",
        "Done: cancelled",
        "extra_stages.Done: already the Odoo stage of stages.done",
        id="extra-stage-already-mapped",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nincident_stage: Incident closed\n",
        "incident_stage: Incident closed",
        "incident_stage: 'Incident closed' is not an Odoo stage of this profile (use 'New', ",
        id="incident-stage-unknown",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nextra_stages:\n  Incident: in_progress\nincident_stage: Incident\n",
        "incident_stage: Incident",
        "incident_stage: 'Incident' must be read as done (the incident closes the ticket): list it under "
        "extra_stages as 'Incident': done",
        id="incident-stage-not-closing",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nkanban_states:\n  resolved: green\n",
        "resolved: green",
        "kanban_states.resolved: 'green' is not a kanban state (use 'normal', 'done' or 'blocked')",
        id="bad-kanban-state",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nrequired_fields:\n  done: [Sale Order Line]\n",
        "done: [Sale Order Line]",
        "required_fields.done[0]: 'Sale Order Line' is not an Odoo field name",
        id="bad-required-field",
    ),
    pytest.param(
        "ticket_types: [incident, request]",
        "ticket_types: [incident, incident]",
        "ticket_types: [incident, incident]",
        "ticket_types[1]: 'incident' is listed twice",
        id="duplicate-ticket-type",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nnotify_customer_on_cancel: maybe\n",
        "notify_customer_on_cancel: maybe",
        "notify_customer_on_cancel: expected true or false, got 'maybe'",
        id="not-a-boolean",
    ),
    pytest.param(
        "title: Test desk\n",
        "title: Test desk\nlanguage: fr\n",
        "language: fr",
        "language: 'fr' is not a language the bot speaks (use 'en' or 'vi')",
        id="language-not-shipped",
    ),
    pytest.param(
        "title: Test desk\n",
        "title: Test desk\ntitle: Other desk\n",
        "title: Other desk",
        "title: duplicate key (first given on line 2)",
        id="duplicate-key",
    ),
    pytest.param(
        "name: test",
        "name: Test Desk",
        "name: Test Desk",
        "name: 'Test Desk' must be lower-case letters, digits, '-' or '_'",
        id="bad-name",
    ),
    pytest.param(
        "thresholds:\n  priority_min_users: 5\n  expedite_min_users: 26\n",
        "thresholds: [5, 26]\n",
        "thresholds: [5, 26]",
        "thresholds: expected a mapping of keys to values, got a list",
        id="section-not-a-mapping",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nkanban_states:\n  resolvd: done\n",
        "resolvd: done",
        "kanban_states.resolvd: unknown stage; did you mean 'resolved'? (expected 'new', 'in_progress', ",
        id="kanban-state-for-unknown-stage",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nstage_emails:\n  2nd line: Escalated\n",
        "2nd line: Escalated",
        "stage_emails['2nd line']: not an Odoo stage of this profile (known: 'New', ",
        id="email-for-unknown-stage-with-a-space",
    ),
    pytest.param(
        "ticket_types: [incident, request]\n",
        "ticket_types: [incident, request]\nmanagement:\n  priority_threshold:\n",
        "priority_threshold:",
        "management.priority_threshold: expected a mapping of keys to values, got nothing",
        id="management-threshold-null",
    ),
    pytest.param(
        "    escalation_ack_within: 30m\n",
        "    escalation_ack_within: 30m\n    resolve_within:\n",
        "resolve_within:",
        "classes.deadline.resolve_within: '' is not a duration (write 30s, 15m, 24h or 7d",
        id="optional-duration-null",
    ),
    pytest.param(
        "  urgent_within: 4h\n",
        "  urgent_within: 4h\n  urgent_priority: [3]\n",
        "urgent_priority: [3]",
        "deadline.urgent_priority: expected a priority, got a list",
        id="priority-not-a-scalar",
    ),
    pytest.param(
        "ticket_types: [incident, request]",
        "ticket_types: !!python/object/apply:os.getcwd []",
        "ticket_types: !!python",
        "ticket_types: expected a list, got a value tagged !!python/object/apply:os.getcwd",
        id="python-tag-named",
    ),
]


@pytest.mark.parametrize(("old", "new", "anchor", "expected"), BAD)
def test_bad_profile_is_refused_with_file_line_key_and_reason(
    tmp_path: Path, old: str, new: str, anchor: str, expected: str
) -> None:
    text = mutate(old, new)
    message = load_error(tmp_path, text)
    line = line_of(text, anchor)
    assert message.startswith(f"{line}: {expected}"), message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = mutate("  rule: nag\n", "  rule: [nag\n")
    message = load_error(tmp_path, text)
    line, _, rest = message.partition(": ")
    assert int(line) >= line_of(text, "rule: [nag")
    assert rest.startswith("not valid YAML")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    assert load_error(tmp_path, "# nothing here\n") == "1: the profile is empty"


def test_top_level_list_is_refused(tmp_path: Path) -> None:
    assert load_error(tmp_path, "- a\n- b\n").startswith("1: expected a mapping of keys to values")


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    text = mutate("title: Test desk", "title: !!python/object/apply:os.getcwd []")
    message = load_error(tmp_path, text)
    assert message.startswith(f"{line_of(text, 'title:')}: title: expected text")


def test_of_several_problems_the_first_in_the_file_is_told(tmp_path: Path) -> None:
    text = mutate("update_every: 24h", "update_every: 24 hours").replace("title: Test desk", "title: 5")
    assert load_error(tmp_path, text) == "2: title: expected text, got '5' (put it in quotes)"


def test_a_value_merged_in_is_told_on_the_line_it_is_written(tmp_path: Path) -> None:
    text = mutate("  priority:\n    label: Priority\n    tag: priority\n",
                  "  priority:\n    <<: *std\n    label: Priority\n").replace("  standard:\n", "  standard: &std\n")
    assert load_error(tmp_path, text) == (f"{line_of(text, 'tag: standard')}: classes.priority.tag: 'standard' is "
                                          "already the tag of classes.standard")


@pytest.mark.parametrize("aliases", [
    "stage_emails: &loop {New: *loop}\n",  # an alias inside its own anchor
    "stage_emails:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"  # a "billion laughs": 10^9 values from 10 lines
    + "".join(f"  {b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
])
def test_aliases_that_multiply_without_end_are_refused(tmp_path: Path, aliases: str) -> None:
    text = mutate("ticket_types: [incident, request]\n", f"ticket_types: [incident, request]\n{aliases}")
    assert load_error(tmp_path, text) == (f"{line_of(text, 'stage_emails')}: stage_emails: too many values, or "
                                          "nested too deeply: does an alias (*name) repeat itself?")


def test_roles_keep_the_order_they_are_written_in() -> None:
    profile = parse_profile(BASE.replace("  close_force: [lead]\n  cancel: [agent, lead]\n",
                                         "  cancel: [agent, lead]\n  close_force: [lead]\n"), "x.yaml")
    assert list(profile.roles) == [Action.REGISTER_CHANNEL, Action.READ_SUMMARY, Action.CANCEL, Action.CLOSE_FORCE]


def test_every_section_of_the_schema_refuses_unknown_keys_and_is_frozen() -> None:
    from pydantic import BaseModel, ValidationError

    from bot.process import management, schema
    from bot.process.validation import Strict

    models = [value for module in (schema, management) for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, BaseModel)]
    assert len(models) > 10 and all(issubclass(model, Strict) for model in models)
    assert Strict.model_config["extra"] == "forbid" and Strict.model_config["frozen"]
    with pytest.raises(ValidationError):
        schema.ProfileFile.model_validate(yaml.safe_load(BASE)).title = "other"  # type: ignore[misc]


def test_the_process_modules_import_one_way() -> None:
    """profile.py and management.py imported each other over the validator; nothing in bot/process does now."""
    package = Path(__file__).resolve().parents[1] / "bot" / "process"
    imports: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports[path.stem] = {node.module.removeprefix("bot.process.") for node in ast.walk(tree)
                              if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.process.")}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join([*trail, module])}"
        if module not in done:
            for imported in imports[module]:
                visit(imported, (*trail, module))
            done.add(module)

    for module in imports:
        visit(module, ())
    assert "profile" not in imports["management"] and "profile" not in imports["schema"]
