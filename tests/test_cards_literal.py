"""Every card builder shows what people and Odoo wrote literally, and keeps its own formatting.

Each builder gets a hostile text (tests/support/markdown.py: links, emphasis, lists, headings, HTML,
backticks...) in every field that comes from a person or from Odoo, and the same text with its punctuation
made letters. Rendered as Teams renders them, both cards have the same constructs: whatever the card shows
in bold or as a list is the bot's own, none of it came from the text. Where the card shows the text whole,
each of its lines reads as typed; the management cards' texts go through `bot.privacy` first, so only their
constructs are compared. Every hostile card also passes Microsoft's `adaptivecards` library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.drafts.model import Draft, DraftKind, DraftState
from bot.escalation.model import Escalation, Status, TicketContext
from bot.insights.model import ChatterEntry, TicketHistory
from bot.insights.postmortem import build_postmortem, postmortem_markdown
from bot.insights.service_levels import Measure
from bot.insights.timeline import Waiting
from bot.insights.trends import Breach, Pattern, analyse, trend_period
from bot.management.digest import Listed, build_digest, window_for
from bot.management.model import Asked, Decision, DecisionKind, IncidentSummary, Phase, Step, StepKind, Trigger
from bot.process import ClassOfService, Stage, load_profile
from bot.reminders.policy import NextStep
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts
from cards.drafts import draft_card, management_post_card
from cards.escalation import escalation_card
from cards.insights import postmortem_card, trend_card
from cards.management import digest_card, incident_card
from cards.nag import nag_card
from cards.notices import queued_card
from cards.ticket import ticket_card, ticket_list_card
from tests.support.card_validator import validate_cards
from tests.support.markdown import HOSTILE, card_constructs, card_visible, folded, plain

NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILE = load_profile("mindx")
Card = dict[str, Any]


def _ticket(said: str) -> Ticket:
    """A ticket whose every free text (title, description, stage, names, type, team, category, tags) is `said`."""
    return Ticket(id=42, number="HT00042", title=said, description=said, stage=said, stage_key=Stage.IN_PROGRESS,
                  priority="2", cos=ClassOfService.PRIORITY, created=NOW - timedelta(hours=3), updated=NOW,
                  facts=TicketFacts(users=12, deadline=NOW + timedelta(days=1), reported=NOW - timedelta(hours=3),
                                    kind=said, logged_by=said),
                  owner=OdooUser(7, said, "owner@mindx.example"), customer=Customer(58, said, "c@mindx.example"),
                  tags=(said, "LMS"), team=said, category=said, url="https://odoo.mindx.example/web#id=42")


def _escalation(said: str, status: Status) -> Escalation:
    context = TicketContext(ticket_id=42, label="HT00042", title=said, service_class="Priority", users=12,
                            customer=said, owner=said, owner_id=7, stage=said, url="https://odoo.mindx.example/x",
                            deadline=NOW + timedelta(hours=5), description=said, findings=(said, said))
    answered = status is not Status.OPEN
    return Escalation(id="42-1", team="dev", team_label="Dev team", ticket=context, reason=said, escalated_by=said,
                      posted_at=NOW - timedelta(minutes=9), ack_due=NOW + timedelta(minutes=6),
                      conversation_id="19:dev@thread.tacv2", activity_id="msg-1", status=status,
                      acknowledged_by=said if answered else "", acknowledged_at=NOW if answered else None,
                      answered_by=said if answered else "", answered_at=NOW if answered else None,
                      answer=said if answered else "")


def _draft(said: str, *, posted: bool = False) -> Draft:
    return Draft(id="d-1", kind=DraftKind.UPDATE, language="en", ticket_id=42, ticket_label="HT00042",
                 ticket_title=said, url="https://odoo.mindx.example/x", recipient=said, subject=said,
                 text=f"Dear customer,\n\n{said}\n\n[fill in the next step]", made_by="Lan", made_at=NOW,
                 state=DraftState.POSTED if posted else DraftState.OPEN, posted_by=said if posted else "",
                 posted_at=NOW if posted else None)


def _incident(said: str) -> IncidentSummary:
    steps = (Step(NOW - timedelta(minutes=30), StepKind.REPORTED),
             Step(NOW - timedelta(minutes=20), StepKind.TEAM_TOOK, team="Dev team", who=said))
    return IncidentSummary(ticket_id=42, label="HT00042", title=said, service_class="Expedite",
                           trigger=Trigger.USERS, impact=said, users=53, customer=said, owner=said,
                           since=NOW - timedelta(minutes=30), phase=Phase.TEAM_WORKING, teams="Dev team", steps=steps,
                           next_update=NOW + timedelta(minutes=15), decision=Decision(DecisionKind.ASKED, said),
                           closing=None, asked=Asked("42-a1b2-management", NOW + timedelta(minutes=5)))


def _digest(said: str) -> Card:
    digest = build_digest([], PROFILE, window_for("today", NOW, TZ), now=NOW)
    listed = Listed(label="HT00042", title=said, service_class="Expedite", since=NOW - timedelta(hours=2),
                    stage=said, missed=(Measure.UPDATES,),
                    waiting_for=(Waiting("Senior engineers", NOW - timedelta(hours=1), passed_on_by="Dev team"),))
    digest = replace(digest, breaches=(listed,), breaches_total=1, waiting=(listed,), waiting_total=1,
                     oldest=(listed,))
    return digest_card(digest, tz=TZ, now=NOW)


def _trend(said: str) -> Card:
    history = TicketHistory(_ticket("Printer jams"), None, ())
    trend = analyse([history], PROFILE, trend_period("week", NOW), now=NOW, tz=TZ)
    assert trend.logged == 1
    patterns = tuple(Pattern(kind, said, ("HT00041", "HT00042", "HT00043")) for kind in ("error", "root cause"))
    return trend_card(replace(trend, by_category=((said, 3),), by_type=((said, 1),), by_tag=((said, 2),),
                              by_root_cause=((said, 1),), breaches=(Breach("HT00042", Measure.UPDATES, said),),
                              patterns=patterns), tz=TZ)


def _postmortem(said: str) -> Card:
    chatter = (ChatterEntry(NOW - timedelta(hours=2), said, True, True, said),
               ChatterEntry(NOW - timedelta(hours=1), said, True, False, f"Diagnosis:\nRoot cause: {said}"))
    history = TicketHistory(replace(_ticket(said), stage=said, stage_key=Stage.DONE, closed=True), NOW, chatter)
    review = build_postmortem(history, PROFILE, now=NOW)
    return postmortem_card(review, postmortem_markdown(review, tz=TZ), tz=TZ)


@dataclass(frozen=True)
class Builder:
    build: Callable[[str], Card]
    whole: bool = True  # the card shows the text whole (not masked for management, not one line of it)


STEP = NextStep("Send the customer an update", NOW + timedelta(minutes=20))
BUILDERS = {
    "ticket": Builder(lambda s: ticket_card(_ticket(s), PROFILE, tz=TZ, now=NOW, step=STEP)),
    "ticket list": Builder(lambda s: ticket_list_card("Open tickets (2)", [(_ticket(s), STEP), (_ticket(s), None)],
                                                      PROFILE, tz=TZ, now=NOW)),
    "nag": Builder(lambda s: nag_card(_ticket(s), PROFILE, reason="HT00042 is due an update.", tz=TZ, now=NOW,
                                      step=STEP)),
    "escalation open": Builder(lambda s: escalation_card(_escalation(s, Status.OPEN), tz=TZ, now=NOW)),
    "escalation resolved": Builder(lambda s: escalation_card(_escalation(s, Status.RESOLVED), tz=TZ, now=NOW)),
    "escalation needs info": Builder(lambda s: escalation_card(_escalation(s, Status.NEED_INFO), tz=TZ, now=NOW)),
    "escalation declined": Builder(lambda s: escalation_card(_escalation(s, Status.DECLINED), tz=TZ, now=NOW)),
    "draft": Builder(lambda s: draft_card(_draft(s), tz=TZ, now=NOW)),
    "draft posted": Builder(lambda s: draft_card(_draft(s, posted=True), tz=TZ, now=NOW)),
    "management post": Builder(lambda s: management_post_card(_draft(s), by=s), whole=False),
    "incident": Builder(lambda s: incident_card(_incident(s), tz=TZ, now=NOW)),
    "digest": Builder(_digest),
    "trend": Builder(_trend),
    "post-mortem": Builder(_postmortem, whole=False),  # the timeline shows each text on one line, cut
    "queued": Builder(lambda s: queued_card(s, waiting=2)),
    "queued, landed": Builder(lambda s: queued_card(s, landed=False)),
}


@pytest.mark.parametrize("hostile", list(HOSTILE))
@pytest.mark.parametrize("builder", list(BUILDERS))
def test_people_s_text_renders_nothing_on_the_card(builder: str, hostile: str) -> None:
    said = HOSTILE[hostile]
    shown, ordinary = BUILDERS[builder].build(said), BUILDERS[builder].build(plain(said))
    assert card_constructs(shown) == card_constructs(ordinary)
    if BUILDERS[builder].whole:
        seen = card_visible(shown)
        for line in said.splitlines():
            assert folded(line) in seen, (line, seen)


def test_the_cards_own_formatting_is_still_rendered() -> None:
    """Bold ticket numbers in lists, the bot's bullet lists: the plain cards have them, as before."""
    assert card_constructs(BUILDERS["ticket list"].build("Printer jams"))["strong_open"] == 2
    assert card_constructs(BUILDERS["digest"].build("Printer jams"))["strong_open"] == 3
    assert card_constructs(BUILDERS["trend"].build("Printer jams"))["bullet_list_open"] == 2
    assert card_constructs(BUILDERS["post-mortem"].build("Printer jams"))["bullet_list_open"] == 3


def test_the_text_boxes_keep_the_draft_as_typed() -> None:
    """An Input.Text value is not rendered: Edit holds the draft exactly as it will be sent."""
    draft = _draft(HOSTILE["mixed"])
    [edit] = [a for a in draft_card(draft, tz=TZ, now=NOW)["actions"] if a["type"] == "Action.ShowCard"]
    assert [e["value"] for e in edit["card"]["body"]] == [draft.subject, draft.text]


def test_the_library_finds_no_problem_in_the_hostile_cards() -> None:
    cards = {f"{builder}/{hostile}": BUILDERS[builder].build(said) for builder in BUILDERS
             for hostile, said in HOSTILE.items()}
    problems = validate_cards(list(cards.values()))
    assert {name: found for name, found in zip(cards, problems, strict=True) if found} == {}


def test_the_data_reaches_the_cards() -> None:
    """The hostile text is really on each card (a builder that dropped it would pass the checks above)."""
    for name, builder in BUILDERS.items():
        assert "zqxj" in card_visible(builder.build("zqxj")), name
