"""The narrow async gateway between the bot and Odoo: domain objects in, domain objects out.

Everything Odoo-specific (model and field names, stage ids, tag ids, chatter subtypes) stays
here and in `models.py`. Reads cost one call; a change costs at most two (a write and a
chatter post), composed with the ticket the command read first, never re-read per ticket.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.chatter_words import DIAGNOSIS, RESOLUTION_QUESTION, RESOLVED_STEP
from bot.i18n import N_, tr
from bot.insights.model import ChatterEntry, TicketHistory
from bot.numbers import MAX_RECORD_ID, whole_number
from bot.odoo.errors import OdooAccessDenied, OdooError, OdooProgrammingError, one_line
from bot.odoo.idempotency import marker, next_tag, running_again, search_term
from bot.odoo.models import ModelProfile, choose_profile
from bot.odoo.records import ODOO_DATE, ODOO_TIME, Fields, parse_odoo_time, record_id, shown
from bot.odoo.transport import OdooTransport
from bot.parsing import TicketRef
from bot.process import ClassOfService, KanbanState, ProcessProfile, Role, Stage, classify
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts, description_html, plain_text, read_description
from bot.timesheets import TimeLine, hours_and_minutes
from bot.wording import literal

logger = logging.getLogger(__name__)

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)  # what the bot hides in a message's html (`note(hidden=...)`)


class TicketNotFound(OdooError):
    def __init__(self, ref: TicketRef | int) -> None:
        super().__init__(tr("There is no ticket {ticket} in Odoo.",
                            ticket=ref if isinstance(ref, TicketRef) else f"#{ref}"))


FOLLOW_UP_SUMMARY = "Follow up with the customer"  # the Odoo activity a resolved ticket gets (follow_up.activity)


class OdooSetupError(OdooError):
    """Odoo is reachable but not set up the way the process profile needs (stages missing...)."""


class CannotLogTime(LookupError):
    """Odoo cannot take time spent here: it keeps no timesheets on these records, the ticket's project keeps none, or
    the person is no employee. The message says what to ask the Odoo administrator for; nothing was written."""


TIMESHEET_LINE = "account.analytic.line"
TIMESHEETS = "timesheet_ids"  # a ticket's (or task's) lines, where a timesheet module adds them
# what the bot calls each ticket model's records when it says this Odoo keeps no timesheets on them
_RECORDS = {"helpdesk.ticket": N_("helpdesk tickets"), "project.task": N_("tasks")}


def like_literal(text: str) -> str:
    """`text` for a `like`/`ilike` domain value that matches it as typed: `%` and `_` are SQL wildcards
    (and `\\` their escape) unless escaped, in Odoo (PostgreSQL) as in the double."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_odoo_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(ODOO_TIME)


@dataclass(frozen=True)
class NewTicket:
    title: str
    description: str
    facts: TicketFacts
    cos: ClassOfService
    priority: str
    customer_email: str | None = None
    owner: OdooUser | None = None
    team: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class ChatterMessage:
    id: int
    ticket_id: int
    date: datetime
    by_bot: bool  # posted through the bot (already handled in the turn that posted it)
    by_agent: bool  # an internal user wrote it (in Odoo's UI)
    customer_visible: bool  # a message to or from the customer (not an internal note)


@dataclass(frozen=True)
class Named:
    id: int
    name: str


class OdooGateway:
    def __init__(self, transport: OdooTransport, model: ModelProfile, process: ProcessProfile, *,
                 base_url: str, stages: list[dict[str, Any]], tags: dict[str, int],
                 users: list[dict[str, Any]], teams: dict[str, int], categories: dict[str, int],
                 required_fields: Mapping[Stage, Mapping[str, str]], bot_partner_id: int = 0,
                 role_members: Mapping[Role, Iterable[int]] | None = None, bot_uid: int = 0,
                 groups_field: str = "groups_id", timesheet_link: str | None = None,
                 links: Mapping[str, str] | None = None) -> None:
        self._rpc = transport
        self.model = model
        self.process = process
        self._base_url = base_url.rstrip("/")
        self._stage_by_name = {s["name"]: Named(s["id"], s["name"]) for s in stages}
        self._project_id = _project_of(stages, process.stages[Stage.NEW])
        self._bot_partner_id = bot_partner_id
        self._stage_name_by_id = {s["id"]: s["name"] for s in stages}
        closing = model.stage_closed_field
        self._closed_stage_ids = {s["id"] for s in stages if closing and s.get(closing)}
        self._tags = dict(tags)
        self._tag_names = {v: k for k, v in tags.items()}
        self._users = {u["id"]: _user(u) for u in users}
        self._bot_uid = bot_uid
        self._role_members = _without(role_members or {}, bot_uid)
        self._groups_field = groups_field  # res.users' groups with the implied ones (_user_groups_field)
        self._activity_keys: tuple[int, int] | None = None  # _activity_ids
        self._teams = teams
        self._categories = categories
        self.required_fields = required_fields  # stage -> {field: label}, only fields this Odoo has
        self._timesheet_link = timesheet_link  # the timesheet line's field naming its ticket; None: no timesheets
        self.timesheet_field = TIMESHEETS if timesheet_link else None  # the ticket's field listing its time spent
        self._read_fields = model.read_fields() + sorted({f for fields in required_fields.values() for f in fields})
        # the required fields that point at one record of another model (parent_id -> project.task): set from Teams
        self.links: Mapping[str, str] = dict(links or {})

    # ---- start-up ---------------------------------------------------------------------------
    @classmethod
    async def connect(cls, transport: OdooTransport, process: ProcessProfile, *, base_url: str,
                      configured_profile: str = "auto") -> OdooGateway:
        """Log in, pick the model profile, load stages/tags/users, and check the process fits. A right the bot's
        Odoo user lacks is an OdooSetupError that says how to find them all."""
        uid = await transport.authenticate()
        try:
            return await cls._load(transport, process, uid, base_url=base_url, configured_profile=configured_profile)
        except OdooAccessDenied as refused:
            raise OdooSetupError(
                f"the bot's Odoo user (ODOO_LOGIN) lacks a right the bot needs (Odoo said: "
                f"{one_line(str(refused)).rstrip('.')}); `python app.py setup-odoo` names every right it lacks and "
                "the group that grants each") from refused

    @classmethod
    async def _load(cls, transport: OdooTransport, process: ProcessProfile, uid: int, *, base_url: str,
                    configured_profile: str) -> OdooGateway:
        detected = await detect_model(transport, process, configured_profile)
        ticket_fields = await transport.execute_kw(
            detected.model, "fields_get", [], {"attributes": ["string", "type", "selection", "relation",
                                                              "relation_field"]})
        model = detected.fitted_to(ticket_fields)
        if detected.kanban and not model.kanban:
            logger.warning("%s has no kanban light the bot knows (%s): the bot leaves it alone", model.model,
                           ", ".join(light.field_name for light in detected.kanban_lights))
        stage_fields = ["name", "sequence", *([model.stage_closed_field] if model.stage_closed_field else []),
                        *(["project_ids"] if model.project_field else [])]
        stages = await transport.execute_kw(model.stage_model, "search_read", [model.stage_domain()],
                                            {"fields": stage_fields, "order": "sequence, id"})
        missing = process.missing_stages(s["name"] for s in stages)
        if missing:
            raise OdooSetupError(
                f"Odoo has no stage named {', '.join(repr(m.name) for m in missing)} on {model.stage_model}; "
                "create it with `python app.py setup-odoo --apply` (or in Odoo), or change the stage names in the "
                f"'{process.name}' process profile")
        tags = {t["name"]: t["id"] for t in await transport.execute_kw(model.tag_model, "search_read", [[]],
                                                                         {"fields": ["name"]})}
        for tag in process.tags():
            if tag not in tags:
                tags[tag] = await transport.execute_kw(model.tag_model, "create", [{"name": tag}])
                logger.info("created the Odoo tag %r for the class of service", tag)
        users = await _internal_users(transport)
        teams = await _names(transport, model.team_model)
        categories = await _names(transport, model.category_model)
        required = _required_fields(ticket_fields, model, process)
        links = {name: str(ticket_fields[name]["relation"]) for fields in required.values() for name in fields
                 if ticket_fields[name].get("type") == "many2one" and ticket_fields[name].get("relation")}
        timesheet_link = _timesheet_link(ticket_fields)
        if timesheet_link is None:
            logger.info("%s has no timesheets here (Odoo's %s module is not installed): /ticket time refuses",
                        model.model, model.timesheet_module)
        series = await _series(transport)
        groups_field = await _user_groups_field(transport)
        members = await _role_members(transport, _role_groups(model, process), groups_field, warn=True)
        logger.info("connected to Odoo %s over %s: profile %s, %d stages, %d users (%d leads, %d managers)",
                    series or "(version not said)", transport.protocol, model.key, len(stages), len(users),
                    len(members[Role.LEAD]), len(members[Role.MANAGER]))
        if transport.protocol != "json2" and _major(series) >= 19:
            logger.info("Odoo %s also speaks JSON-2 (ODOO_PROTOCOL=json2), the only protocol Odoo 22 keeps; "
                        "%s logs a deprecation warning in Odoo's log on every call", series, transport.protocol)
        bot_partner = next((u["partner_id"][0] for u in users if u["id"] == uid and u.get("partner_id")), 0)
        return cls(transport, model, process, base_url=base_url, stages=stages, tags=tags, users=users,
                   teams=teams, categories=categories, required_fields=required, bot_partner_id=bot_partner,
                   role_members=members, bot_uid=uid, groups_field=groups_field, timesheet_link=timesheet_link,
                   links=links)

    async def ping(self) -> None:
        """One cheap call; raises OdooUnavailable when Odoo does not answer."""
        await self._rpc.version()

    # ---- reads ------------------------------------------------------------------------------
    async def ticket(self, ref: TicketRef | int) -> Ticket:
        if isinstance(ref, TicketRef) and ref.number:
            if not self.model.number_field:
                raise TicketNotFound(ref)
            records = await self._rpc.execute_kw(self.model.model, "search_read",
                                                 [[[self.model.number_field, "=", ref.number]]],
                                                 {"fields": self._read_fields, "limit": 1})
        else:
            ticket_id = ref.id if isinstance(ref, TicketRef) else ref
            records = await self._rpc.execute_kw(self.model.model, "read", [[ticket_id]],
                                                 {"fields": self._read_fields})
        found = self._tickets(records)
        if not found:
            raise TicketNotFound(ref)
        return found[0]

    async def tickets(self, domain: list[Any], *, limit: int = 25) -> list[Ticket]:
        records = await self._rpc.execute_kw(self.model.model, "search_read", [domain],
                                             {"fields": self._read_fields, "limit": limit,
                                              "order": "priority desc, id desc"})
        return self._tickets(records)

    async def all_tickets(self, domain: list[Any], *, page: int = 500) -> AsyncIterator[list[Ticket]]:
        """Every ticket matching `domain`, a page at a time, in id order (the start-up rebuild): a
        desk with 10k open tickets is neither one huge response nor 10k tickets in memory at once.
        Pages by `id >` the last one seen, so a ticket created meanwhile neither shifts nor repeats one."""
        last_id = 0
        while True:
            records = await self._rpc.execute_kw(self.model.model, "search_read", [[["id", ">", last_id], *domain]],
                                                 {"fields": self._read_fields, "order": "id", "limit": page})
            readable = _with_ids(records, "ticket")
            if readable:
                yield [self._ticket(r) for r in readable]
            if not isinstance(records, list) or len(records) < page or not readable:
                return
            last_id = max(r["id"] for r in readable)

    async def changed_since(self, cursor: str, *, skip: Collection[int] = (),
                            limit: int = 500) -> list[tuple[Ticket, str]]:
        """Tickets written at or after `cursor` (Odoo's 'YYYY-MM-DD HH:MM:SS'), oldest first, with their
        write_date, except those in `skip` still written at `cursor` itself.

        `>=`, because Odoo truncates write_date to seconds: `skip` holds those already seen at that second."""
        domain: list[Any] = [["write_date", ">=", cursor]]
        if skip:
            domain += ["|", ["write_date", ">", cursor], ["id", "not in", sorted(skip)]]
        records = await self._rpc.execute_kw(self.model.model, "search_read", [domain],
                                             {"fields": self._read_fields, "order": "write_date, id", "limit": limit})
        return [(self._ticket(r), _written(r, cursor)) for r in _with_ids(records, "ticket")]

    async def messages_after(self, last_id: int, *, limit: int = 500) -> list[ChatterMessage]:
        """Chatter messages on tickets newer than `last_id`: replies and notes, in order."""
        records = await self._rpc.execute_kw(
            "mail.message", "search_read",
            [[["id", ">", last_id], ["model", "=", self.model.model], ["message_type", "in", ["comment", "email"]]]],
            {"fields": ["res_id", "author_id", "subtype_id", "message_type", "date"], "order": "id", "limit": limit})
        internal = {u.user.partner_id for u in self._users.values()}
        messages = []
        for record in _with_ids(records, "chatter message"):
            fields = Fields(record, f"chatter message {record['id']}")
            author, subtype = fields.many2one("author_id"), fields.many2one("subtype_id")
            messages.append(ChatterMessage(
                id=record["id"], ticket_id=fields.id("res_id") or 0, date=fields.time("date") or datetime.now(UTC),
                by_bot=author is not None and author[0] == self._bot_partner_id,
                by_agent=author is not None and author[0] in internal,
                customer_visible=fields.text("message_type") == "email" or (subtype or (0, ""))[1] == "Discussions"))
            fields.warn()
        return messages

    async def findings(self, ticket: Ticket, *, heading: str = DIAGNOSIS) -> list[str]:
        """The ticket's diagnosis notes (`/ticket diag`), oldest first, without their heading."""
        records = await self._rpc.execute_kw(
            "mail.message", "search_read",
            [[["model", "=", self.model.model], ["res_id", "=", ticket.id], ["body", "ilike", heading]]],
            {"fields": ["body"], "order": "id"})
        found = []
        for record in _with_ids(records, "chatter message"):
            _, marker, rest = plain_text(record.get("body")).partition(heading)
            if marker and rest.strip():
                found.append(rest.strip())
        return found

    async def chatter_mentioning(self, ticket_ids: Collection[int],
                                 words: Iterable[str]) -> dict[int, list[ChatterEntry]]:
        """Each ticket's comments and e-mails whose body contains one of `words` (case-insensitive), oldest first,
        for many tickets in one call (rebuilding the escalations of a page of open tickets)."""
        words = list(words)
        if not words:
            return {}
        mentions: list[Any] = ["|"] * (len(words) - 1) + [["body", "ilike", word] for word in words]
        return await self._chatter(sorted(ticket_ids), *mentions)

    async def last_message_id(self) -> int:
        found = await self._rpc.execute_kw("mail.message", "search", [[]], {"order": "id desc", "limit": 1})
        return int(found[0]) if found else 0

    def open_domain(self) -> list[Any]:
        closed = [self._stage_by_name[n].id for n in (self.process.stages[Stage.DONE],
                                                      self.process.stages[Stage.CANCELLED])]
        return [["stage_id", "not in", sorted(set(closed) | self._closed_stage_ids)]]

    def owner_domain(self, user: OdooUser) -> list[Any]:
        return [[self.model.owner_field, "in" if self.model.owner_is_many else "=", [user.id] if
                 self.model.owner_is_many else user.id]]

    def tag_domain(self, tag: str) -> list[Any]:
        return [["tag_ids", "in", [self._tags.get(tag, 0)]]]

    def stage_domain(self, stage: Stage) -> list[Any]:
        return [["stage_id", "=", self._stage_by_name[self.process.stages[stage]].id]]

    def created_before_domain(self, moment: datetime) -> list[Any]:
        return [["create_date", "<", to_odoo_time(moment)]]

    def known_user(self, user_id: int) -> OdooUser | None:
        known = self._users.get(user_id)
        return known.user if known else None

    def user_by_email(self, email: str) -> OdooUser | None:
        wanted = email.strip().lower()
        for user in self._users.values():
            if wanted and wanted in (user.email.lower(), user.login.lower()):
                return user.user
        return None

    def user_by_name(self, name: str) -> OdooUser | None:
        wanted = name.strip().lower()
        matches = [u.user for u in self._users.values() if u.user.name.lower() == wanted]
        return matches[0] if len(matches) == 1 else None

    async def refresh_users(self) -> None:
        """Reload the Odoo users (someone was added since start-up)."""
        self._users = {u["id"]: _user(u) for u in await _internal_users(self._rpc)}
        members = await _role_members(self._rpc, _role_groups(self.model, self.process), self._groups_field,
                                      warn=False)
        self._role_members = _without(members, self._bot_uid)

    def members(self, role: Role) -> list[OdooUser]:
        """The known users holding a lead's or a manager's role (`_role_groups`); agents are everyone else."""
        ids = self._role_members.get(role, frozenset())
        return [known.user for uid, known in sorted(self._users.items()) if uid in ids]

    def leads(self) -> list[OdooUser]:
        """The team leads: members of the model's manager group in Odoo (Helpdesk Manager...)."""
        return self.members(Role.LEAD)

    def roles_of(self, user_id: int) -> frozenset[Role]:
        """A user's roles: lead and/or manager from their Odoo groups, else agent."""
        held = frozenset(role for role, ids in self._role_members.items() if user_id in ids)
        return held or frozenset({Role.AGENT})

    # ---- writes -----------------------------------------------------------------------------
    def _tags_of(self, new: NewTicket) -> list[str]:
        """A new ticket's tags: its class's, and its type's where the profile tags types (Odoo PS's "Technical
        Call")."""
        kind = self.process.type_tags.get(new.facts.kind.lower())
        return [self.process.classes[new.cos].tag, *([kind] if kind else [])]

    async def create(self, new: NewTicket) -> Ticket:
        tag = next_tag("new")
        if tag and tag[1] and (landed := await self._tagged(self.model.model, [], "description", tag[0],
                                                             self._read_fields)):
            return self._ticket(landed)  # created by an earlier run of this command
        vals: dict[str, Any] = {
            "name": new.title,
            "description": description_html(new.description, new.facts) + (marker(tag[0]) if tag else ""),
            "priority": self._priority(new.priority),
            "tag_ids": [[6, 0, [self._tags[tag] for tag in self._tags_of(new)]]],
            "stage_id": self._stage_by_name[self.process.stages[Stage.NEW]].id,
        }
        if self.model.project_field and self._project_id:
            vals[self.model.project_field] = self._project_id
        if new.owner:
            vals[self.model.owner_field] = [[6, 0, [new.owner.id]]] if self.model.owner_is_many else new.owner.id
        if new.team and self.model.team_field:
            vals[self.model.team_field] = self._lookup(
                self._teams, new.team, N_("There is no team named '{wanted}' in Odoo. Known: {known}."))
        if new.category and self.model.category_field:
            vals[self.model.category_field] = self._lookup(
                self._categories, new.category, N_("There is no category named '{wanted}' in Odoo. Known: {known}."))
        if self.model.deadline_field and new.facts.deadline:
            vals[self.model.deadline_field] = to_odoo_time(new.facts.deadline)
        if new.customer_email:  # last: a refused team or category must not leave a new partner behind
            vals["partner_id"] = await self._customer(new.customer_email)
        ticket_id = await self._rpc.execute_kw(self.model.model, "create", [vals])
        return await self.ticket(ticket_id)

    async def is_customer(self, email: str) -> bool:
        """Whether Odoo has a contact with exactly this e-mail address who is none of its users (a customer)."""
        if self.user_by_email(email) is not None:
            return False
        found = await self._rpc.execute_kw("res.partner", "search", [[["email", "=ilike", like_literal(email)]]],
                                           {"limit": 1})
        return bool(found)

    async def _customer(self, email: str) -> int:
        """The partner with exactly this e-mail address, created when there is none. Not Odoo's
        `find_or_create`: it looks the address up with `=ilike` as typed, where a `%` or `_` in it is a
        wildcard (`%@mindx.edu.vn` would give the ticket to whichever customer comes first)."""
        found = await self._rpc.execute_kw("res.partner", "search_read", [[["email", "=ilike", like_literal(email)]]],
                                           {"fields": ["id"], "limit": 1})
        if found:
            return int(found[0]["id"])
        return int(await self._rpc.execute_kw("res.partner", "create", [{"name": email, "email": email}]))

    async def move(self, ticket: Ticket, stage: Stage, **extra: Any) -> Ticket:
        """Write the Odoo stage the process profile maps `stage` to (plus other fields)."""
        return await self._enter(ticket, self._stage_by_name[self.process.stages[stage]], stage, extra)

    async def move_into(self, ticket: Ticket, odoo_stage: str) -> Ticket:
        """Write an Odoo stage by its name (an escalation team's: TMF's "2nd line"), the ticket then standing at
        the logical stage the profile reads it as; the start-up check made sure Odoo has it."""
        stage = self.process.stage_of(odoo_stage)
        assert stage is not None, odoo_stage  # the profile's schema: an escalation team's stage is one of its own
        return await self._enter(ticket, self._stage_by_name[odoo_stage], stage, {})

    async def _enter(self, ticket: Ticket, target: Named, stage: Stage, extra: dict[str, Any]) -> Ticket:
        vals = {"stage_id": target.id, **extra}
        kanban = self.model.kanban_value(stage, self.process.kanban_states.get(stage))
        if kanban is not None and self.model.kanban:
            vals[self.model.kanban.field_name] = kanban
        moved = ticket.stage_key is stage and ticket.stage == target.name
        if not (running_again() and moved and not extra):  # else moved by an earlier run
            await self.write(ticket, vals)
        return ticket.with_changes(stage=target.name, stage_key=stage,
                                   closed=target.id in self._closed_stage_ids or stage in (Stage.DONE, Stage.CANCELLED))

    async def follow_up_in_odoo(self, ticket: Ticket, *, now: datetime) -> None:
        """Where the profile says so (`follow_up.activity`), a resolved ticket gets its follow-up as an Odoo
        activity too: a To-Do for its owner (else the bot's user), due when the bot's follow-up is, so it shows in
        Odoo's own views. Once per resolution, a replayed command included."""
        if not self.process.follow_up_activity:
            return
        await self.todo(ticket, ticket.owner.id if ticket.owner else self._bot_uid, FOLLOW_UP_SUMMARY,
                        due=(now + self.process.follow_up_after).date(),
                        note="No answer yet? Follow up with the customer; the support bot reminds the owner too.")

    async def todo(self, ticket: Ticket, user_id: int, summary: str, *, due: date, note: str = "") -> None:
        """A To-Do on the ticket for an Odoo user, due that day: an Odoo activity, in their own Odoo views. Once per
        command, a replayed one included (an activity with that summary for them is looked for first)."""
        if running_again() and await self._rpc.execute_kw("mail.activity", "search_count", [[
                ["res_model", "=", self.model.model], ["res_id", "=", ticket.id], ["summary", "=", summary],
                ["user_id", "=", user_id]]]):
            return  # scheduled by the earlier run of this command
        model_id, todo_id = await self._activity_ids()
        # mail.activity's create, not the record's activity_schedule: that returns a recordset, which Odoo 17 and 18
        # cannot marshal over XML-RPC (a fault after the commit: recorded)
        await self._rpc.execute_kw("mail.activity", "create", [{
            "res_model_id": model_id, "res_id": ticket.id, "activity_type_id": todo_id, "summary": summary,
            "date_deadline": due.isoformat(), "note": f"<p>{html.escape(note)}</p>" if note else False,
            "user_id": user_id}])

    async def _activity_ids(self) -> tuple[int, int]:
        """The ticket model's ir.model id and the To-Do activity type's id (mail.mail_activity_data_todo), read
        the first time an activity is made."""
        if self._activity_keys is None:
            models = await self._rpc.execute_kw("ir.model", "search_read", [[["model", "=", self.model.model]]],
                                                {"fields": ["id"]})
            todo = await self._rpc.execute_kw("ir.model.data", "search_read", [[
                ["module", "=", "mail"], ["name", "=", "mail_activity_data_todo"]]], {"fields": ["res_id"]})
            if not models or not todo:
                raise OdooSetupError(f"Odoo has no {'model ' + self.model.model if not models else 'To-Do activity'}"
                                     " to schedule the follow-up with")
            self._activity_keys = (int(models[0]["id"]), int(todo[0]["res_id"]))
        return self._activity_keys

    async def write(self, ticket: Ticket, vals: dict[str, Any]) -> None:
        await self._rpc.execute_kw(self.model.model, "write", [[ticket.id], vals])

    async def set_owner(self, ticket: Ticket, owner: OdooUser) -> Ticket:
        value = [[6, 0, [owner.id]]] if self.model.owner_is_many else owner.id
        await self.write(ticket, {self.model.owner_field: value})
        return ticket.with_changes(owner=owner)

    async def link_choices(self, field: str, wanted: str, *, limit: int = 6) -> list[Named]:
        """The records a required link field (`links`) could point at: by id (`#12`) or by Odoo's name search."""
        relation = self.links[field]
        if wanted.startswith("#") and (wanted_id := whole_number(wanted[1:], maximum=MAX_RECORD_ID)) is not None:
            records = await self._rpc.execute_kw(relation, "read", [[wanted_id]], {"fields": ["display_name"]})
            return [Named(int(record["id"]), name if isinstance(name := record.get("display_name"), str) else "")
                    for record in _with_ids(records, relation)]
        pairs = await self._rpc.execute_kw(relation, "name_search", [wanted], {"limit": limit})  # Odoo's own lookup
        return [Named(pair[0], pair[1] if isinstance(pair[1], str) else "") for pair in pairs or []
                if isinstance(pair, list | tuple) and len(pair) == 2 and record_id(pair[0]) is not None]

    async def set_link(self, ticket: Ticket, field: str, record: Named) -> Ticket:
        """Point a required link field at `record`; the ticket as it now stands (the field filled)."""
        await self.write(ticket, {field: record.id})
        return ticket.with_changes(filled=ticket.filled | {field})

    async def set_priority(self, ticket: Ticket, priority: str) -> Ticket:
        """Write the priority alone (by hand: the class of service stays)."""
        await self.write(ticket, {"priority": priority})
        return ticket.with_changes(priority=priority, priority_label=self.model.priority_label(priority))

    async def set_tags(self, ticket: Ticket, tags: Sequence[str]) -> Ticket:
        """The ticket's tags become `tags` (names), a tag Odoo does not have yet created first. The tags known
        since start-up are looked for first: one deleted in Odoo since (by its administrator) is made again, not
        written by its old id (Odoo refuses that: the record is gone)."""
        known = {self._tags[name] for name in tags if name in self._tags}
        if known:
            there = await self._rpc.execute_kw(self.model.tag_model, "search", [[["id", "in", sorted(known)]]],
                                               {"context": {"active_test": False}})
            for gone in known - {found for found in there or [] if record_id(found) is not None}:
                logger.warning("tag %r (id %d) is gone from Odoo: made again", self._tag_names.get(gone), gone)
                self._tags.pop(self._tag_names.pop(gone, ""), None)
        for name in tags:
            if name not in self._tags:
                self._tags[name] = int(await self._rpc.execute_kw(self.model.tag_model, "create", [{"name": name}]))
                self._tag_names[self._tags[name]] = name
        await self.write(ticket, {"tag_ids": [[6, 0, [self._tags[name] for name in tags]]]})
        return ticket.with_changes(tags=tuple(tags))

    async def set_class(self, ticket: Ticket, cos: ClassOfService, facts: TicketFacts, priority: str) -> Ticket:
        """Rewrite the class tag, priority and facts block in one write."""
        class_tag_ids = {self._tags[c.tag] for c in self.process.classes.values()}
        kept = [self._tags[t] for t in ticket.tags if t in self._tags and self._tags[t] not in class_tag_ids]
        new_tag = self.process.classes[cos].tag
        tag = next_tag(f"class-{ticket.id}")
        if tag and tag[1] and await self._tagged(self.model.model, [["id", "=", ticket.id]], "description", tag[0]):
            return ticket  # written by an earlier run of this command: the ticket as read now has it
        vals: dict[str, Any] = {
            "tag_ids": [[6, 0, [*kept, self._tags[new_tag]]]],
            "priority": self._priority(priority),
            "description": description_html(ticket.description, facts) + (marker(tag[0]) if tag else ""),
        }
        if self.model.deadline_field:
            vals[self.model.deadline_field] = to_odoo_time(facts.deadline) if facts.deadline else False
        await self.write(ticket, vals)
        tags = (*(t for t in ticket.tags if t not in {c.tag for c in self.process.classes.values()}), new_tag)
        written = self._priority(priority)
        return ticket.with_changes(cos=cos, facts=facts, priority=written,
                                   priority_label=self.model.priority_label(written), tags=tags)

    async def note(self, ticket: Ticket, text: str, *, by: str, hidden: str = "") -> int:
        """An internal note in the chatter (diagnosis, escalations, who did what); `hidden` goes with it as an HTML
        comment, which nobody sees in Odoo and the bot reads back (`ChatterEntry.hidden`)."""
        return await self._post(ticket, text, by=by, subtype="mail.mt_note", hidden=hidden)

    async def tell_customer(self, ticket: Ticket, text: str, *, by: str, subject: str = "", hidden: str = "") -> int:
        """A customer-visible chatter message, addressed to the customer (who is not a follower);
        `subject`: the e-mail's subject (Odoo uses the ticket's name without one); `hidden` as for `note`."""
        partners = [ticket.customer.id] if ticket.customer else []
        return await self._post(ticket, text, by=by, subtype="mail.mt_comment", partner_ids=partners,
                                subject=subject, hidden=hidden)

    async def tell_contacts(self, ticket: Ticket, text: str, emails: Sequence[str], *, by: str) -> list[int]:
        """A customer-visible chatter message addressed to other contacts of the ticket (sample users, a CXO), each
        found by their exact address or created, and made followers so that their replies land on the ticket;
        their partner ids."""
        partners = [await self._customer(address) for address in emails]
        await self._rpc.execute_kw(self.model.model, "message_subscribe", [[ticket.id]], {"partner_ids": partners})
        await self._post(ticket, text, by=by, subtype="mail.mt_comment", partner_ids=partners)
        return partners

    async def customer_language(self, ticket: Ticket) -> str:
        """The customer's language as Odoo keeps it on the partner (`vi_VN`), or "" when unknown."""
        if ticket.customer is None:
            return ""
        records = await self._rpc.execute_kw("res.partner", "read", [[ticket.customer.id]], {"fields": ["lang"]})
        return str(records[0].get("lang") or "") if records else ""

    async def _post(self, ticket: Ticket, text: str, *, by: str, subtype: str,
                    partner_ids: Iterable[int] = (), subject: str = "", hidden: str = "") -> int:
        lines = "<br>".join(html.escape(line) for line in text.strip().splitlines())
        body = f"<p><b>{html.escape(by)}</b> (via Teams):<br>{lines}</p>"
        if hidden:
            if "--" in hidden or "<" in hidden or ">" in hidden:
                raise ValueError(f"a hidden comment cannot hold {hidden!r}")  # the bot's own ids: never typed text
            body += f"<!-- {hidden} -->"
        tag = next_tag(f"message-{ticket.id}")
        if tag:
            body += marker(tag[0])
            landed = tag[1] and await self._tagged("mail.message", [["model", "=", self.model.model],
                                                                    ["res_id", "=", ticket.id]], "body", tag[0])
            if landed:
                return int(landed["id"])  # posted by an earlier run of this command
        kwargs: dict[str, Any] = {"body": body, "message_type": "comment", "subtype_xmlid": subtype,
                                  "body_is_html": True}
        if partner_ids:
            kwargs["partner_ids"] = list(partner_ids)
        if subject:
            kwargs["subject"] = subject
        return _message_id(await self._rpc.execute_kw(self.model.model, "message_post", [[ticket.id]], kwargs))

    async def _tagged(self, model: str, domain: list[Any], field: str, tag: str,
                      fields: list[str] | None = None) -> dict[str, Any] | None:
        """The record whose html `field` carries a command's tag (see bot.odoo.idempotency): one call."""
        found = await self._rpc.execute_kw(model, "search_read", [[*domain, [field, "ilike", search_term(tag)]]],
                                           {"fields": fields or ["id"], "limit": 1})
        return found[0] if found else None

    # ---- timesheets (account.analytic.line) ------------------------------------------------------
    async def log_time(self, ticket: Ticket, user: OdooUser, spent: timedelta, what: str, day: date, *,
                       by: str) -> None:
        """A timesheet line on the ticket for `user`'s employee (`spent` on `day`: `what` was done), and an internal
        note saying so. CannotLogTime, with nothing written, when this Odoo, the ticket's project or the person
        cannot have time logged."""
        link = self._timesheets()
        project = await self._timesheet_project(ticket)
        employee = await self._employee(user)
        # The note goes first and carries the command's tag (bot.odoo.idempotency), which a line has no field to
        # hold: a run of the command again finds the note, then looks for its line written after it.
        noted = await self.note(ticket, f"Time logged: {hours_and_minutes(spent)} on {day.isoformat()}: {what}",
                                by=by)
        line = {link: ticket.id, "project_id": project, "employee_id": employee, "name": what}
        if running_again() and await self._logged_after(noted, line):
            return
        await self._rpc.execute_kw(TIMESHEET_LINE, "create", [{**line, "unit_amount": spent.total_seconds() / 3600,
                                                                "date": day.strftime(ODOO_DATE)}])

    async def time_logged(self, ticket: Ticket) -> list[TimeLine]:
        """The ticket's timesheet lines, newest first."""
        link = self._timesheets()
        return await self._time_lines([[link, "=", ticket.id]], link)

    async def time_of(self, user: OdooUser, first: date, last: date) -> list[TimeLine]:
        """The time `user` logged from `first` to `last` (days, both included) on any ticket or project, newest
        first."""
        link = self._timesheets()
        return await self._time_lines([["user_id", "=", user.id], ["project_id", "!=", False],
                                       ["date", ">=", first.strftime(ODOO_DATE)],
                                       ["date", "<=", last.strftime(ODOO_DATE)]], link)

    def _timesheets(self) -> str:
        """The timesheet line's field naming its ticket; CannotLogTime when this Odoo keeps no timesheets on them."""
        if self._timesheet_link is None:
            records = tr(_RECORDS[self.model.model])
            raise CannotLogTime(tr("This Odoo keeps no timesheets on {records}: ask your Odoo administrator to install "
                                   "the `{module}` module.", records=records, module=self.model.timesheet_module))
        return self._timesheet_link

    async def _timesheet_project(self, ticket: Ticket) -> int:
        """The project the ticket's time goes to (Odoo keeps timesheets by project), if it takes timesheets."""
        records = await self._rpc.execute_kw(self.model.model, "read", [[ticket.id]], {"fields": ["project_id"]})
        fields = Fields(records[0] if isinstance(records, list) and records else {}, f"ticket {ticket.id}")
        project = fields.many2one("project_id")
        if project is None:
            raise CannotLogTime(tr("{ticket} is in no project, and Odoo keeps time spent by project: set its project "
                                   "in Odoo first.", ticket=ticket.label))
        settings = await self._rpc.execute_kw("project.project", "read", [[project[0]]],
                                              {"fields": ["allow_timesheets"]})
        if not (isinstance(settings, list) and settings and Fields(settings[0], "project").flag("allow_timesheets")):
            raise CannotLogTime(tr("The project {project} keeps no timesheets: ask your Odoo administrator to turn on "
                                   "Timesheets in its settings.", project=literal(project[1])))
        return project[0]

    async def _employee(self, user: OdooUser) -> int:
        """The employee linked to `user`: Odoo logs time for employees, and makes none for a user on its own.
        hr.employee.public: every internal user may read it (hr.employee is HR's)."""
        found = await self._rpc.execute_kw("hr.employee.public", "search_read", [[["user_id", "=", user.id]]],
                                           {"fields": ["id"], "limit": 1})
        employee = record_id(found[0].get("id")) if isinstance(found, list) and found else None
        if employee is None:
            raise CannotLogTime(tr("{name} is no employee in Odoo, and Odoo logs time for employees only: ask your "
                                   "Odoo administrator to create one in Employees (or open theirs) with {name} as its "
                                   "Related User.", name=literal(user.name)))
        return employee

    async def _logged_after(self, message_id: int, line: dict[str, Any]) -> bool:
        """Whether the line was written after the note with `message_id` (by an earlier run of the command)."""
        [message] = await self._rpc.execute_kw("mail.message", "read", [[message_id]], {"fields": ["date"]})
        found = await self._rpc.execute_kw(
            TIMESHEET_LINE, "search", [[*([key, "=", value] for key, value in line.items()),
                                        ["create_date", ">=", message["date"]]]], {"limit": 1})
        return bool(found)

    async def _time_lines(self, domain: list[Any], link: str) -> list[TimeLine]:
        records = await self._rpc.execute_kw(
            TIMESHEET_LINE, "search_read", [domain],
            {"fields": ["date", "employee_id", "user_id", "unit_amount", "name", "project_id", link],
             "order": "date desc, id desc"})
        lines = []
        for record in _with_ids(records, "timesheet line"):
            fields = Fields(record, f"timesheet line {record['id']}")
            ticket, project = fields.many2one(link), fields.many2one("project_id")
            who = fields.many2one("employee_id") or fields.many2one("user_id")
            lines.append(TimeLine(day=fields.day("date"), who=who[1] if who else "",
                                  spent=timedelta(minutes=round(fields.number("unit_amount") * 60)),
                                  what=fields.text("name"), ticket_id=ticket[0] if ticket else None,
                                  where=(ticket or project or (0, ""))[1]))
            fields.warn()
        return lines

    # ---- helpers ----------------------------------------------------------------------------
    def url(self, ticket_id: int) -> str:
        return f"{self._base_url}/web#id={ticket_id}&model={self.model.model}&view_type=form"

    def _priority(self, priority: str) -> str:
        """Clamp a process priority to the values the model accepts (project.task has '0'/'1')."""
        return priority if priority in self.model.priorities else self.model.priorities[-1]

    def _lookup(self, names: dict[str, int], wanted: str, missing: str) -> int:
        """The id of the record named `wanted`; else a LookupError saying `missing` (a sentence marked N_), with
        what was typed and Odoo's names shown as written (`literal`: the message goes on a card)."""
        for name, named_id in names.items():
            if name.lower() == wanted.strip().lower():
                return named_id
        raise LookupError(tr(missing, wanted=literal(wanted),
                             known=", ".join(literal(name) for name in sorted(names)) or tr("none")))

    def _ticket(self, record: dict[str, Any]) -> Ticket:
        """The bot's ticket from an Odoo record whose id is readable (`_with_ids`): a field it cannot read is
        read as absent, with one warning line naming the ticket."""
        ticket, fields = self._read_ticket(record)
        fields.warn()
        return ticket

    def _read_ticket(self, record: dict[str, Any]) -> tuple[Ticket, Fields]:
        """The ticket, and its fields with what could not be read in them (for one warning: `Fields.warn`)."""
        ticket_id = record_id(record.get("id")) or 0
        fields = Fields(record, f"ticket {ticket_id}")
        description, facts, unreadable_facts = read_description(fields.text("description"))
        fields.unreadable += [f"the description's {fact}" for fact in unreadable_facts]
        stage_value = fields.many2one("stage_id")
        stage_id = stage_value[0] if stage_value else 0
        stage = self._stage_name_by_id.get(stage_id, stage_value[1] if stage_value else "")
        tags = tuple(self._tag_names.get(t, "") for t in fields.ids("tag_ids"))
        if self.model.owner_is_many:  # many2many: [ids]
            owner_id = next(iter(fields.ids(self.model.owner_field)), 0)
            owner = self._users[owner_id].user if owner_id in self._users else None
        else:  # many2one: [id, name]
            owner_value = fields.many2one(self.model.owner_field)
            owner_id = owner_value[0] if owner_value else 0
            owner = self._users[owner_id].user if owner_id in self._users else (
                OdooUser(owner_id, owner_value[1]) if owner_value else None)
        partner = fields.many2one("partner_id")
        team = fields.many2one(self.model.team_field) if self.model.team_field else None
        category = fields.many2one(self.model.category_field) if self.model.category_field else None
        now = datetime.now(UTC)
        ticket = Ticket(
            id=ticket_id,
            number=fields.text(self.model.number_field) if self.model.number_field else "",
            title=fields.text("name"),
            description=description,
            stage=stage,
            stage_key=self.process.stage_of(stage, self._kanban_state(fields)),
            priority=fields.text("priority") or "0",
            priority_label=self.model.priority_label(fields.text("priority") or "0"),
            cos=self._class_of(tags, facts),
            created=fields.time("create_date") or now,
            updated=fields.time("write_date") or now,
            facts=facts,
            owner=owner,
            customer=Customer(*partner) if partner else None,
            tags=tuple(t for t in tags if t),
            team=team[1] if team else "",
            category=category[1] if category else "",
            closed=self._closed(fields, stage_id),
            url=self.url(ticket_id),
            filled=frozenset(f for names in self.required_fields.values() for f in names if fields.present(f)),
        )
        return ticket, fields

    def _tickets(self, records: object) -> list[Ticket]:
        """The tickets of a page of records; a record without a readable id (which Odoo always gives) is left out,
        with a warning, so that the rest of the page goes on."""
        return [self._ticket(record) for record in _with_ids(records, "ticket")]

    def _closed(self, fields: Fields, stage_id: int) -> bool:
        if self.model.closed_field:
            return fields.flag(self.model.closed_field)
        light = self.model.kanban
        if light and light.closing:
            return fields.raw(light.field_name) in light.closing.values()
        return stage_id in self._closed_stage_ids

    def _kanban_state(self, fields: Fields) -> KanbanState | None:
        light = self.model.kanban
        return self.model.kanban_state(fields.raw(light.field_name)) if light else None

    def _class_of(self, tags: tuple[str, ...], facts: TicketFacts) -> ClassOfService:
        for tag in tags:
            if (key := self.process.class_for_tag(tag)) is not None:
                return key
        return classify(facts.users, facts.deadline, self.process)

    # ---- insights (step 7): whole histories in a fixed number of calls, never one per ticket -------
    async def history(self, ref: TicketRef | int) -> TicketHistory:
        """One ticket with its close date and its whole chatter (a post-mortem): two calls."""
        fields = [*self._read_fields, self._close_date_field()]
        if isinstance(ref, TicketRef) and ref.number:
            if not self.model.number_field:
                raise TicketNotFound(ref)
            records = await self._rpc.execute_kw(self.model.model, "search_read",
                                                 [[[self.model.number_field, "=", ref.number]]],
                                                 {"fields": fields, "limit": 1})
        else:
            ticket_id = ref.id if isinstance(ref, TicketRef) else ref
            records = await self._rpc.execute_kw(self.model.model, "read", [[ticket_id]], {"fields": fields})
        found = await self._with_chatter(records)
        if not found:
            raise TicketNotFound(ref)
        return found[0]

    async def histories_since(self, since: datetime, *, limit: int) -> list[TicketHistory]:
        """Tickets created at or after `since`, newest first (at most `limit`), each with its close date
        and chatter (trends): two calls however many tickets there are."""
        records = await self._rpc.execute_kw(
            self.model.model, "search_read", [[["create_date", ">=", to_odoo_time(since)]]],
            {"fields": [*self._read_fields, self._close_date_field()], "order": "create_date desc, id desc",
             "limit": limit})
        return await self._with_chatter(records)

    async def desk_histories(self, since: datetime, *, limit: int) -> list[TicketHistory]:
        """The open tickets and those logged or closed since `since`, oldest first (at most `limit`), each
        with its close date and chatter (the management digest): two calls however many tickets there are."""
        moment = to_odoo_time(since)
        close = self._close_date_field()
        [still_open] = self.open_domain()  # one condition, so the three are or-ed in prefix notation
        records = await self._rpc.execute_kw(
            self.model.model, "search_read",
            [["|", "|", still_open, ["create_date", ">=", moment], [close, ">=", moment]]],
            {"fields": [*self._read_fields, close], "order": "create_date, id", "limit": limit})
        return await self._with_chatter(records)

    def resolved_domain(self) -> list[Any]:
        """Tickets closed in a stage other than Cancelled: what was fixed (the similar tickets' index)."""
        stage = self._stage_by_name
        done = {stage[self.process.stages[Stage.DONE]].id} | self._closed_stage_ids
        return [["stage_id", "in", sorted(done - {stage[self.process.stages[Stage.CANCELLED]].id})]]

    async def resolved_histories(self, *, page: int = 200) -> AsyncIterator[list[TicketHistory]]:
        """Every resolved ticket (`resolved_domain`), a page at a time in id order, each with its diagnosis notes and
        resolution messages (the similar tickets' index): two calls a page, never one per ticket."""
        last_id = 0
        while True:
            records = await self._rpc.execute_kw(
                self.model.model, "search_read", [[["id", ">", last_id], *self.resolved_domain()]],
                {"fields": [*self._read_fields, self._close_date_field()], "order": "id", "limit": page})
            readable = _with_ids(records, "ticket")
            if readable:
                yield await self._with_chatter(readable, *_FIXES)
            if not isinstance(records, list) or len(records) < page or not readable:
                return
            last_id = max(r["id"] for r in readable)

    async def resolved_since(self, cursor: str, *, skip: Collection[int] = (),
                             limit: int = 200) -> list[tuple[TicketHistory, str]]:
        """Resolved tickets written at or after `cursor`, oldest first, with their write_date (as `changed_since`:
        those in `skip` still written at `cursor` left out), each with its diagnosis and resolution: two calls."""
        domain: list[Any] = [["write_date", ">=", cursor], *self.resolved_domain()]
        if skip:
            domain += ["|", ["write_date", ">", cursor], ["id", "not in", sorted(skip)]]
        records = _with_ids(await self._rpc.execute_kw(
            self.model.model, "search_read", [domain],
            {"fields": [*self._read_fields, self._close_date_field()], "order": "write_date, id", "limit": limit}),
            "ticket")
        histories = await self._with_chatter(records, *_FIXES)
        return list(zip(histories, (_written(record, cursor) for record in records), strict=True))

    async def _with_chatter(self, records: object, *conditions: Any) -> list[TicketHistory]:
        """The tickets' comments and e-mails (those meeting `conditions`, a domain's terms), all read in one call
        (tracking notifications left out)."""
        readable = _with_ids(records, "ticket")
        chatter = await self._chatter([record["id"] for record in readable], *conditions)
        close_field = self._close_date_field()
        histories = []
        for record in readable:
            ticket, fields = self._read_ticket(record)
            histories.append(TicketHistory(ticket=ticket, closed_at=fields.time(close_field),
                                           chatter=tuple(chatter[ticket.id])))
            fields.warn()
        return histories

    async def _chatter(self, ticket_ids: Sequence[int], *conditions: Any) -> dict[int, list[ChatterEntry]]:
        """Each ticket's comments and e-mails (tracking notifications left out) meeting `conditions` (a domain's
        terms), oldest first, all read in one call."""
        messages = await self._rpc.execute_kw(
            "mail.message", "search_read",
            [[["model", "=", self.model.model], ["res_id", "in", list(ticket_ids)],
              ["message_type", "in", ["comment", "email"]], *conditions]],
            {"fields": ["res_id", "date", "author_id", "subtype_id", "message_type", "body"], "order": "date, id"},
        ) if ticket_ids else []
        internal = {known.user.partner_id for known in self._users.values()} | {self._bot_partner_id}
        chatter: dict[int, list[ChatterEntry]] = {ticket_id: [] for ticket_id in ticket_ids}
        for message in _with_ids(messages, "chatter message"):
            entry, ticket_id = self._chatter_entry(message, internal)
            if ticket_id in chatter:
                chatter[ticket_id].append(entry)
        return chatter

    def _chatter_entry(self, record: dict[str, Any], internal_partners: set[int]) -> tuple[ChatterEntry, int]:
        """A chatter message (with a readable id) as the insights read it, and the ticket it is on (0: unreadable)."""
        fields = Fields(record, f"chatter message {record['id']}")
        author, subtype = fields.many2one("author_id"), fields.many2one("subtype_id")
        body = fields.text("body")
        signed_by, text = self._signature(plain_text(body))
        entry = ChatterEntry(
            date=fields.time("date") or datetime.now(UTC),
            author=signed_by or (author[1] if author else ""),
            by_agent=(author[0] if author else 0) in internal_partners,
            customer_visible=fields.text("message_type") == "email" or (subtype or (0, ""))[1] == "Discussions",
            text=text,
            hidden=tuple(comment.strip() for comment in _COMMENT.findall(body)),
        )
        ticket_id = fields.id("res_id") or 0
        fields.warn()
        return entry, ticket_id

    @staticmethod
    def _signature(text: str) -> tuple[str, str]:
        """Who a message posted through the bot is from (`_post` signs it "Name (via Teams):"), and the rest."""
        first, _, rest = text.partition("\n")
        if first.endswith(" (via Teams):"):
            return first.removesuffix(" (via Teams):").strip(), rest.strip()
        return "", text

    def _close_date_field(self) -> str:
        """Where each kind of Odoo keeps the moment a ticket entered a closing stage."""
        return {"helpdesk_mgmt": "closed_date", "helpdesk": "close_date", "project": "date_end"}[self.model.key]


async def detect_model(transport: OdooTransport, process: ProcessProfile, configured: str = "auto") -> ModelProfile:
    """The model profile of this Odoo for the process: the configured one (ODOO_PROFILE), or the first installed
    module serving the process's model; OdooSetupError when none is installed."""
    modules = await transport.execute_kw(
        "ir.module.module", "search_read",
        [[["name", "in", ["helpdesk", "helpdesk_mgmt", "project"]], ["state", "=", "installed"]]],
        {"fields": ["name"]})
    try:
        return choose_profile({m["name"] for m in modules}, wanted_model=process.model, configured=configured)
    except LookupError as error:
        raise OdooSetupError(str(error)) from error


@dataclass(frozen=True)
class _KnownUser:
    user: OdooUser
    login: str
    email: str


def _user(record: dict[str, Any]) -> _KnownUser:
    partner = record.get("partner_id")
    email = record.get("email") or ""
    return _KnownUser(OdooUser(record["id"], record.get("name") or "", email or record.get("login") or "",
                               partner[0] if partner else 0), record.get("login") or "", email)


# The messages that say what was wrong and what was done: diagnosis notes and resolutions (marked, or older ones asking
# the customer to confirm), or-ed in prefix notation.
_FIXES: tuple[Any, ...] = ("|", "|", ["body", "ilike", DIAGNOSIS], ["body", "ilike", RESOLVED_STEP],
                           ["body", "ilike", RESOLUTION_QUESTION])


def _with_ids(records: object, what: str) -> list[dict[str, Any]]:
    """The records of an Odoo answer that have a readable id (Odoo always gives one); any other is left out, with a
    warning, so that the rest of the page goes on."""
    if not isinstance(records, list):
        logger.warning("Odoo answered a read of %ss with %s, not a list: read as none", what, shown(records))
        return []
    readable: list[dict[str, Any]] = []
    unreadable: list[object] = []
    for record in records:
        if isinstance(record, dict) and record_id(record.get("id")) is not None:
            readable.append(record)
        else:
            unreadable.append(record)
    if unreadable:
        logger.warning("%d %s record(s) from Odoo without a readable id left out: %s", len(unreadable), what,
                       shown(unreadable))
    return readable


def _written(record: dict[str, Any], cursor: str) -> str:
    """A ticket's write_date, as the poller's cursor keeps it; the cursor itself when Odoo's is unreadable (the
    ticket's warning says so), so that the cursor never takes a value Odoo cannot compare."""
    written = parse_odoo_time(record.get("write_date"))
    return to_odoo_time(written) if written else cursor


async def _internal_users(transport: OdooTransport) -> list[dict[str, Any]]:
    return await transport.execute_kw("res.users", "search_read", [[["share", "=", False]]],  # type: ignore[no-any-return]
                                      {"fields": ["name", "login", "email", "partner_id"]})


def _role_groups(model: ModelProfile, process: ProcessProfile) -> dict[Role, tuple[str, ...]]:
    """The Odoo groups (external ids) whose members hold each role: the model's manager group makes a lead, the
    process profile's `manager_groups` a manager."""
    return {Role.LEAD: (model.lead_group,) if model.lead_group else (), Role.MANAGER: process.manager_groups}


def _message_id(answer: Any) -> int:
    """message_post's answer: the new message's id, or on Odoo 19 a list holding it (a recordset's ids)."""
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise OdooProgrammingError(f"message_post answered {answer!r}, not the new message's id")
    return answer


async def _series(transport: OdooTransport) -> str:
    """The server's series as it says it ('17.0', '19.0', 'saas~18.2'); empty when it does not say."""
    answer = await transport.version()
    version = answer.get("server_version")
    return version if isinstance(version, str) else ""


def _major(series: str) -> int:
    """17 for '17.0' or '17.0+e', 18 for 'saas~18.2'; 0 when unknown."""
    digits = series.removeprefix("saas~").partition(".")[0]
    return whole_number(digits, maximum=9_999) or 0


# res.users' groups with the implied ones: Odoo 19 calls them all_group_ids (group_ids holds only those set on
# the user); up to 18 groups_id held them all.
_GROUPS_FIELDS = ("all_group_ids", "groups_id")


async def _user_groups_field(transport: OdooTransport) -> str:
    """Which of _GROUPS_FIELDS this Odoo's res.users has: read from fields_get once at start-up, not from the
    version, so that a server that renames it again is named in the error."""
    known = await transport.execute_kw("res.users", "fields_get", [list(_GROUPS_FIELDS)], {"attributes": ["type"]})
    for name in _GROUPS_FIELDS:
        if name in known:
            return name
    raise OdooSetupError(f"res.users has none of the fields {', '.join(_GROUPS_FIELDS)}: the bot cannot tell "
                         "who is a lead or a manager on this Odoo")


async def _role_members(transport: OdooTransport, groups: Mapping[Role, Sequence[str]], groups_field: str, *,
                        warn: bool) -> dict[Role, frozenset[int]]:
    """The internal users in each role's groups, in two calls whatever the number of groups. A group Odoo does not
    have gives nobody that role; `warn` logs it (once, at start-up: users are reloaded whenever a stranger writes).
    `groups_field` is res.users' field of groups with the implied ones (`_user_groups_field`)."""
    wanted = {xmlid for xmlids in groups.values() for xmlid in xmlids}
    modules = sorted({xmlid.partition(".")[0] for xmlid in wanted})
    names = sorted({xmlid.partition(".")[2] for xmlid in wanted})
    found = await transport.execute_kw(
        "ir.model.data", "search_read",
        [[["model", "=", "res.groups"], ["module", "in", modules], ["name", "in", names]]],
        {"fields": ["module", "name", "res_id"]}) if wanted else []
    group_ids = {f"{row['module']}.{row['name']}": int(row["res_id"]) for row in found}
    if warn:
        for role, xmlids in groups.items():
            for xmlid in xmlids:
                if xmlid not in group_ids:
                    logger.warning("Odoo has no group %s: nobody is a %s for the bot through it", xmlid, role.value)
    users = await transport.execute_kw(
        "res.users", "search_read",
        [[["share", "=", False], [groups_field, "in", sorted(set(group_ids.values()))]]],
        {"fields": [groups_field]}) if group_ids else []
    return {role: frozenset(user["id"] for user in users
                            if any(group_ids.get(xmlid) in user[groups_field] for xmlid in xmlids))
            for role, xmlids in groups.items()}


def _without(members: Mapping[Role, Iterable[int]], bot_uid: int) -> dict[Role, frozenset[int]]:
    """The bot's own Odoo user holds no role (it is nobody's lead or manager)."""
    return {role: frozenset(ids) - {bot_uid} for role, ids in members.items()}


def _project_of(stages: list[dict[str, Any]], new_stage: str) -> int | None:
    """project.task: new tasks go to the (first) project using the process's New stage."""
    for stage in stages:
        if stage["name"] == new_stage and stage.get("project_ids"):
            return int(stage["project_ids"][0])
    return None


def _required_fields(known: Mapping[str, Any], model: ModelProfile,
                     process: ProcessProfile) -> dict[Stage, dict[str, str]]:
    """The profile's mandatory fields per stage, with their Odoo labels (`known`: the model's fields_get); fields this
    Odoo lacks are skipped."""
    if not process.required_fields:
        return {}
    missing = sorted({f for fields in process.required_fields.values() for f in fields} - set(known))
    if missing:
        logger.warning("the '%s' profile requires %s, which %s does not have in this Odoo: not checked",
                       process.name, ", ".join(missing), model.model)
    return {stage: {f: f"{known[f]['string']} ({f})" for f in fields if f in known}
            for stage, fields in process.required_fields.items()}


def _timesheet_link(known: Mapping[str, Any]) -> str | None:
    """The field of a timesheet line naming its ticket, from the ticket model's `timesheet_ids` (`known`: its
    fields_get, with `relation_field`): hr_timesheet's `task_id` on tasks, helpdesk_mgmt_timesheet's `ticket_id` on
    helpdesk tickets. None when the model has no timesheets in this Odoo."""
    described = known.get(TIMESHEETS)
    if isinstance(described, Mapping) and described.get("relation") == TIMESHEET_LINE:
        link = described.get("relation_field")
        return link if isinstance(link, str) and link else None
    return None


async def _names(transport: OdooTransport, model: str | None) -> dict[str, int]:
    if model is None:
        return {}
    return {r["name"]: r["id"] for r in await transport.execute_kw(model, "search_read", [[]], {"fields": ["name"]})}
