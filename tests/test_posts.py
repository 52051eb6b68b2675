"""The one renderer (`cards.posts.render`): every kind of post a service hands over is drawn as a valid Adaptive
Card (Microsoft's `adaptivecards` library, as tests/test_cards.py checks the builders), in English and Vietnamese,
and what people wrote in it shows as typed."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.drafts.model import Draft, DraftKind
from bot.drafts.posts import ForManagement
from bot.escalation.model import Answer, Escalation, TicketContext
from bot.escalation.posts import EscalationAnswered, EscalationPost, NewTicketAlert, NotAcknowledged, StandbyPost
from bot.i18n import speaking
from bot.insights.model import ChatterEntry, TicketHistory
from bot.management.digest import Window, build_digest
from bot.management.model import Trigger, summarise
from bot.management.posts import DigestPost, IncidentPost
from bot.posts import Post, Problem, Queued
from bot.process import ClassOfService, Stage, load_profile
from bot.reminders.policy import Kind
from bot.reminders.posts import DIGEST_LINES, NagDigestPost, NagPost, digests
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts
from cards.posts import render
from tests.support.card_validator import validate_cards
from tests.support.teams import card_text

NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)  # 15:33 in Vietnam
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILE = load_profile("mindx")
AGENT = OdooUser(7, "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn", 31)
TITLE = "**Exam portal** down [see plan](https://evil.example) <b>now</b>"
TICKET = Ticket(id=42, number="HT00042", title=TITLE, description="Students cannot submit.\n- 3 classes",
                stage=PROFILE.stages[Stage.IN_PROGRESS], stage_key=Stage.IN_PROGRESS,
                priority=PROFILE.classes[ClassOfService.EXPEDITE].priority, cos=ClassOfService.EXPEDITE,
                created=NOW - timedelta(hours=2), updated=NOW - timedelta(hours=1),
                facts=TicketFacts(users=53, reported=NOW - timedelta(hours=2), logged_by=AGENT.name), owner=AGENT,
                customer=Customer(58, "Phòng Khảo thí"), url="https://odoo.mindx.example/web#id=42")
CONTEXT = TicketContext(ticket_id=TICKET.id, label=TICKET.label, title=TITLE, service_class="Expedite", users=53,
                        customer="Phòng Khảo thí", owner=AGENT.name, owner_id=AGENT.id, stage=TICKET.stage,
                        url=TICKET.url, deadline=None, description=TICKET.description, findings=("p95 41 s",))
ESCALATION = Escalation(id="42-1-dev", team="dev", team_label="Dev team", ticket=CONTEXT, reason="53 students",
                        escalated_by=AGENT.name, posted_at=NOW - timedelta(minutes=4),
                        ack_due=NOW + timedelta(minutes=1), conversation_id="19:dev@thread.tacv2", activity_id="msg-1")
HISTORY = TicketHistory(TICKET, None, (
    ChatterEntry(NOW - timedelta(minutes=90), AGENT.name, True, False, "Escalated to the Dev team: 53 students"),))
DRAFT = Draft(id="d1", kind=DraftKind.MANAGEMENT, language="en", ticket_id=TICKET.id, ticket_label=TICKET.label,
              ticket_title=TITLE, url=TICKET.url, recipient="", subject="Exam portal down",
              text="Call 0912 345 678.\nThe fix is being deployed.", made_by=AGENT.name, made_at=NOW)


def _posts() -> dict[str, Post]:
    summary = summarise(HISTORY, PROFILE, now=NOW, next_update=NOW + timedelta(minutes=10), trigger=Trigger.CLASS)
    digest = build_digest([HISTORY], PROFILE, Window("day", NOW - timedelta(days=1), NOW), now=NOW)
    return {
        "escalation": EscalationPost(ESCALATION),
        "escalation-notice": EscalationPost(ESCALATION, notice="Trần Thị Lan has already acknowledged it."),
        "standby": StandbyPost(CONTEXT, team="DevOps team", by=AGENT.name, note="**maybe** later", at=NOW),
        "alert": NewTicketAlert(TICKET, service_class="Expedite", by=AGENT.name),
        "answered": EscalationAnswered(ticket=TICKET.label, team="Dev team", who="Võ Minh Đức", answer=Answer.RESOLVED,
                                       said="Added an _index_"),
        "not-acknowledged": NotAcknowledged(ticket=TICKET.label, team="Dev team", passed_to="Senior engineers"),
        "nobody-left": NotAcknowledged(ticket=TICKET.label, team="Management"),
        "incident": IncidentPost(summary),
        "digest": DigestPost(digest),
        **{f"nag-{kind.value}": NagPost(TICKET, PROFILE, kind, misses=2, since=NOW - timedelta(hours=1), share=50)
           for kind in Kind},
        "nag-digest": NagDigestPost(tuple(NagPost(TICKET, PROFILE, kind, misses=2, since=NOW - timedelta(hours=1),
                                                  share=50) for kind in Kind), part=2, parts=3),
        "nag-digest-one-card": NagDigestPost((NagPost(TICKET, PROFILE, Kind.ACK),
                                              NagPost(TICKET, PROFILE, Kind.UPDATE))),
        "management-draft": ForManagement(DRAFT, by=AGENT.name),
        "problem": Problem("I could not finish `/ticket note 42`.", hint="Type it again."),
        "queued": Queued("/ticket note 42 *done*", waiting=2),
        "landed": Queued("/ticket note 42", landed=False),
    }


def _kinds(cls: type[Post]) -> set[type[Post]]:
    return {kind for sub in cls.__subclasses__() for kind in {sub, *_kinds(sub)}}


def _drawn() -> dict[str, dict[str, Any]]:
    drawn = {}
    for language in ("en", "vi"):
        with speaking(language):
            for name, post in _posts().items():
                card = render(post, tz=TZ, now=NOW).card
                assert card is not None
                drawn[f"{language}/{name}"] = card
    return drawn


DRAWN = _drawn()


def test_every_kind_of_post_is_drawn() -> None:
    assert _kinds(Post) == {type(post) for post in _posts().values()}


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_the_library_finds_no_problem(name: str) -> None:
    problems = dict(zip(DRAWN, validate_cards(list(DRAWN.values())), strict=True))
    assert problems[name] == []


def test_a_post_is_drawn_in_the_language_being_spoken() -> None:
    assert "Odoo is not answering right now" in card_text(DRAWN["en/queued"])
    assert "Odoo is not answering right now" not in card_text(DRAWN["vi/queued"])


def test_what_people_wrote_shows_as_typed() -> None:
    assert "[see plan]\u2060(https://evil.example)" in card_text(DRAWN["en/alert"])
    assert "Added an \\_index\\_" in card_text(DRAWN["en/answered"])


def test_a_post_no_card_draws_is_refused() -> None:
    with pytest.raises(TypeError, match="no card draws a Post"):
        render(Post(), tz=TZ, now=NOW)


def test_a_card_of_reminders_stays_within_teams_28_kb_and_longer_lists_are_split() -> None:
    """Twenty reminders on one card, each with a long title, in Vietnamese (longer words): under Teams' 28 KB;
    45 reminders make three cards (20, 20, 5), each saying which it is."""
    long = dataclasses.replace(TICKET, title="Hệ thống nộp bài thi cuối kỳ không hoạt động " * 6)
    nags = [NagPost(dataclasses.replace(long, id=n), PROFILE, Kind.UPDATE, misses=3) for n in range(45)]
    cards = digests(nags)
    assert [len(card.nags) for card in cards] == [DIGEST_LINES, DIGEST_LINES, 5]
    with speaking("vi"):
        drawn = [render(card, tz=TZ, now=NOW).card for card in cards]
    for card in drawn:  # as UTF-8, and as JSON escaping each accented letter (\\u1ec7), as a client may send it
        assert card is not None and len(json.dumps(card, ensure_ascii=False).encode()) < 28_000
        assert len(json.dumps(card).encode()) < 28_000
    with speaking("en"):
        first = card_text(render(cards[0], tz=TZ, now=NOW).card or {})
    assert first.startswith("20 reminders are due (card 1 of 3)") and first.count("[Snooze 15 min]") == 20
    assert validate_cards([card for card in drawn if card]) == [[], [], []]
