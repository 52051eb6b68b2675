"""Four weeks of past tickets for the demo desk, so `/ticket trend` and the digest have something to show.

Each ticket is written the way the agents of the seeds would have handled it in Odoo's own UI:
logged, acknowledged to the customer, a diagnosis note, the resolution asking the customer to
confirm, the confirmation, then Done; each step at its own moment (the sandbox clock is moved for
every call), every one before the sandbox clock's "now": a record written in the future would move
the bot's Odoo poller past whatever is done in the demo's Odoo until then. A few were acknowledged
late (breaches) and the same failures come back (recurring patterns, knowledge-base candidates).
Deterministic: the same history every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.chatter_words import CONFIRMED, DIAGNOSIS, resolution
from bot.demo.seed import facts_block, ids_by_name
from odoo_double import OdooSandbox


@dataclass(frozen=True)
class PastIncident:
    """A kind of ticket that came back several times: what the customer wrote and what fixed it."""

    title: str
    category: str
    tag: str
    error: str  # the diagnosis note's text: the same error text in each ticket makes a pattern
    resolution: str
    times: int
    users: int
    kind: str = "incident"


PAST = (
    PastIncident("Không thể đăng nhập vào LMS", "Login", "standard",
                 "\"Invalid username or password\" right after a password reset. "
                 "Root cause: the LMS caches the old password hash for 30 minutes.",
                 "Cleared the cached credentials and sent a temporary password.", 6, users=1),
    PastIncident("Video bài học không load được", "Video", "priority",
                 "Players show \"Cannot load media\" for the whole playlist. "
                 "Root cause: expired CDN token on the course's playlist.",
                 "Renewed the CDN token for the playlist; the videos load again.", 4, users=15),
    PastIncident("LMS chậm vào giờ học tối", "Performance", "priority",
                 "Pages take 20 s between 19:00 and 21:00, the database logs SlowQueryWarning on sessions. "
                 "Root cause: the reports query locks the sessions table.",
                 "Moved the reports query to the read replica.", 3, users=200),
    PastIncident("Báo cáo điểm danh thiếu học viên", "Reporting", "standard",
                 "The attendance export skips students added after the class started. "
                 "Root cause: the export filters on the enrolment date.",
                 "Re-ran the export with the late enrolments included.", 2, users=1,
                 kind="request"),
    PastIncident("Nộp bài kiểm tra cuối khoá bị lỗi", "Bug", "expedite",
                 "Quiz submission returns 500 when an answer holds an emoji. "
                 "Root cause: the answers table is utf8, not utf8mb4.",
                 "Hotfix deployed: answers are stored as utf8mb4.", 1, users=40, kind="bug"),
)
# How long each step took, in minutes: (low, high) for most tickets; a few are late to acknowledge.
ACK_MINUTES = {"standard": (5, 28), "priority": (3, 12), "expedite": (2, 8)}
LATE_ACK_MINUTES = (45, 240)  # one ticket in five, never an Expedite one
LATE = 0.2
DIAGNOSE_MINUTES = (15, 90)
RESOLVE_HOURS = {"standard": (4, 40), "priority": (1, 3), "expedite": (1, 2)}
# The customer hears from us this often while we work (the profiles' update_every for these classes).
UPDATE_MINUTES = {"priority": (8, 14), "expedite": (8, 14)}
UPDATE = "Cập nhật: chúng tôi vẫn đang xử lý sự cố, sẽ báo lại bạn trong 15 phút tới."
CONFIRM_HOURS = (1, 20)
WEEKS = 4
SETTLED = timedelta(hours=1)  # the latest past ticket was closed at least this long before the demo starts


def seed_history(sb: OdooSandbox, *, seed: int = 7) -> int:
    """Adds the past tickets, all closed; returns how many. Call after `seed_scenarios` (it reads its data)."""
    dice = random.Random(seed)
    admin = sb.admin_uid
    now = sb.now()
    named = {model: ids_by_name(sb, model) for model in ("helpdesk.ticket.tag", "helpdesk.ticket.category",
                                                         "helpdesk.ticket.stage", "helpdesk.ticket.team")}
    agents = [u["id"] for u in sb.call(admin, "res.users", "search_read",
                                       [[["login", "in", ["tien.dd@mindx.edu.vn", "huy.pq@mindx.edu.vn",
                                                          "duc.vm@mindx.edu.vn"]]]], {"fields": ["id"]})]
    staff = [u["partner_id"][0] for u in sb.call(admin, "res.users", "search_read", [[]], {"fields": ["partner_id"]})]
    # the past tickets' customers are MindX's teachers and coordinators, not the desk's own people
    customers = sb.call(admin, "res.partner", "search",
                        [[["email", "like", "@mindx.edu.vn"], ["id", "not in", staff]]])
    count = 0
    for incident in PAST:
        for _ in range(incident.times):
            logged = now - timedelta(days=dice.uniform(1, WEEKS * 7 - 1))
            agent = dice.choice(agents)
            _handle(sb, incident, logged, agent, dice.choice(customers), named, dice, now=now)
            count += 1
    return count


def _handle(sb: OdooSandbox, incident: PastIncident, logged: datetime, agent: int, customer: int,
            named: dict[str, dict[str, int]], dice: random.Random, *, now: datetime) -> None:
    """One past ticket, logged at `logged` or, when its handling would end after `now`, early enough to end before."""
    late = dice.random() < LATE and incident.tag != "expedite"
    ack = timedelta(minutes=dice.uniform(*(LATE_ACK_MINUTES if late else ACK_MINUTES[incident.tag])))
    diagnosed = ack + timedelta(minutes=dice.uniform(*DIAGNOSE_MINUTES))
    resolved = diagnosed + timedelta(hours=dice.uniform(*RESOLVE_HOURS[incident.tag]))
    confirmed = resolved + timedelta(hours=dice.uniform(*CONFIRM_HOURS))
    logged = min(logged, now - confirmed - SETTLED)  # Done (the last step) in the past, never after the clock
    with sb.at(logged):
        ticket = sb.call(sb.admin_uid, "helpdesk.ticket", "create", [{
            "name": incident.title, "partner_id": customer,
            "description": f"<p>{incident.title}</p>" + facts_block(users=incident.users, kind=incident.kind,
                                                                    reported=logged),
            "tag_ids": [[6, 0, [named["helpdesk.ticket.tag"][incident.tag]]]],
            "category_id": named["helpdesk.ticket.category"][incident.category],
            "team_id": named["helpdesk.ticket.team"]["Support L1"], "user_id": agent, "channel_id": 2}])
    steps = [
        (ack, "mail.mt_comment", "Chúng tôi đã nhận được yêu cầu và đang kiểm tra. Sẽ cập nhật cho bạn sớm."),
        (diagnosed, "mail.mt_note", f"{DIAGNOSIS} {incident.error}"),
        *((at, "mail.mt_comment", UPDATE) for at in _updates(incident, ack, resolved, dice)),
        (resolved, "mail.mt_comment", resolution(incident.resolution)),
        (confirmed, "mail.mt_note", f"{CONFIRMED}."),
    ]
    for after, subtype, text in sorted(steps, key=lambda step: step[0]):
        with sb.at(logged + after):
            body = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
            sb.call(agent, "helpdesk.ticket", "message_post", [[ticket]],
                    {"body": body, "body_is_html": True, "message_type": "comment", "subtype_xmlid": subtype})
    with sb.at(logged + confirmed):
        sb.call(agent, "helpdesk.ticket", "write", [[ticket], {"stage_id": named["helpdesk.ticket.stage"]["Done"]}])


def _updates(incident: PastIncident, start: timedelta, end: timedelta, dice: random.Random) -> list[timedelta]:
    """When the customer was updated between the acknowledgment and the resolution."""
    if incident.tag not in UPDATE_MINUTES:
        return []
    moments, at = [], start
    while (at := at + timedelta(minutes=dice.uniform(*UPDATE_MINUTES[incident.tag]))) < end:
        moments.append(at)
    return moments
