"""The draft cards (`cards/drafts.py`) built from the real templates of the three shipped profiles, every kind in
both languages, open and posted, with and without a customer: checked by Microsoft's `adaptivecards` library
for Teams (schema 1.5) and by structure (the buttons carry only the draft id; Edit is prefilled with the draft).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.drafts.model import SUBJECT_INPUT, TEXT_INPUT, Draft, DraftAction, DraftKind, DraftState, fill_ins
from bot.drafts.store import DraftStore
from bot.drafts.templates import languages, render
from bot.drafts.values import template_values
from bot.i18n import speaking
from bot.insights.model import ChatterEntry, TicketHistory
from bot.process import ClassOfService, Stage, load_profile
from bot.tickets import Customer, Ticket, TicketFacts
from cards.drafts import draft_card, management_post_card
from tests.support.card_validator import validate_cards
from tests.support.teams import card_elements, card_text

NOW = datetime(2025, 1, 29, 9, 40, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES = ("mindx", "tmf", "odoo-ps")
AGENT = "Phạm Quốc Huy"


def _history(profile_name: str, *, customer: bool) -> TicketHistory:
    profile = load_profile(profile_name)
    ticket = Ticket(id=8, number="HT00008", title="Lớp WEB101-HN-2024 chậm nghiêm trọng <b>&</b> **urgent**",
                    description="15 students + 1 CXO blocked; page load > 1 minute.", stage=profile.stages[Stage.NEW],
                    stage_key=Stage.NEW, priority="2", cos=ClassOfService.FIXED_DEADLINE, created=NOW, updated=NOW,
                    facts=TicketFacts(users=16, deadline=NOW + timedelta(hours=17), reported=NOW),
                    customer=Customer(12, "Coordinator Hà") if customer else None,
                    url="https://odoo.example/web#id=8&model=helpdesk.ticket&view_type=form")
    chatter = (ChatterEntry(NOW, AGENT, True, False, "Diagnosis:\nSlowQueryWarning 28-32s. Root cause: missing index."),
               ChatterEntry(NOW, AGENT, True, False, "Escalated to the Dev team, DevOps team: pool at 85/100"))
    return TicketHistory(ticket, None, chatter)


def _draft(profile_name: str, kind: DraftKind, language: str, *, customer: bool = True) -> Draft:
    profile = load_profile(profile_name)
    history = _history(profile_name, customer=customer)
    values = template_values(history, profile, kind, language=language, agent=AGENT, tz=TZ, now=NOW,
                             message="Có thể dùng trình duyệt khác trong lúc chờ.")
    rendered = render(profile, kind, language, values)
    ticket = history.ticket
    return Draft(id=DraftStore.new_id(), kind=kind, language=language, ticket_id=ticket.id, ticket_label=ticket.label,
                 ticket_title=ticket.title, url=ticket.url, recipient=ticket.customer.name if ticket.customer else "",
                 subject=rendered.subject, text=rendered.text, made_by=AGENT, made_at=NOW)


def _cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for profile_name in PROFILES:
        for kind in DraftKind:
            for language in languages(load_profile(profile_name), kind):
                draft = _draft(profile_name, kind, language)
                name = f"{profile_name}/{kind.value}.{language}"
                cases[f"{name}/open"] = draft_card(draft, tz=TZ, now=NOW)
                cases[f"{name}/posted"] = draft_card(replace(draft, state=DraftState.POSTED, posted_by=AGENT,
                                                             posted_at=NOW), tz=TZ, now=NOW + timedelta(minutes=2))
                cases[f"{name}/notice"] = draft_card(draft, tz=TZ, now=NOW, notice="Trần Thị Lan is posting it.")
                cases[f"{name}/no-customer"] = draft_card(_draft(profile_name, kind, language, customer=False),
                                                          tz=TZ, now=NOW)
                with speaking("vi-VN"):
                    cases[f"{name}/vietnamese-reader"] = draft_card(draft, tz=TZ, now=NOW)
                if kind is DraftKind.MANAGEMENT:
                    cases[f"{name}/in-the-channel"] = management_post_card(draft, by=AGENT)
    return cases


@cache
def _cards() -> dict[str, dict[str, Any]]:
    return _cases()


@cache
def _problems() -> dict[str, list[str]]:
    cards = _cards()
    return dict(zip(cards, validate_cards(list(cards.values())), strict=True))


def test_every_kind_has_both_languages_in_every_profile() -> None:
    for profile_name in PROFILES:
        for kind in DraftKind:
            assert languages(load_profile(profile_name), kind) == ("en", "vi")
    assert len(_cards()) == 3 * 5 * 2 * 5 + 3 * 2


@pytest.mark.parametrize("name", sorted(_cards()))
def test_library_finds_no_problem(name: str) -> None:
    assert _problems()[name] == []


@pytest.mark.parametrize("name", sorted(_cards()))
def test_card_is_1_5_and_every_text_block_wraps(name: str) -> None:
    card = _cards()[name]
    assert card["version"] == "1.5"
    assert all(e.get("wrap") is True for e in card_elements(card) if e["type"] == "TextBlock")


@pytest.mark.parametrize("kind", list(DraftKind))
def test_post_and_edit_carry_only_the_draft_id(kind: DraftKind) -> None:
    draft = _draft("mindx", kind, "vi")
    card = draft_card(draft, tz=TZ, now=NOW)
    executes = [e for e in card_elements(card) if e["type"] == "Action.Execute"]
    blanks = bool(fill_ins(draft.text))  # the management summary's: it cannot be posted as it stands
    assert {e["verb"] for e in executes} == ({DraftAction.POST_EDITED} if blanks else
                                            {DraftAction.POST, DraftAction.POST_EDITED})
    for action in executes:  # Action.Submit where Universal Actions are missing, with the verb in its data
        assert action["data"] == {"draft": draft.id}
        assert action["fallback"] == {"type": "Action.Submit", "title": action["title"],
                                      "data": {"draft": draft.id, "verb": action["verb"]}}
    [edit] = [e for e in card_elements(card) if e["type"] == "Action.ShowCard"]
    inputs = {e["id"]: e for e in card_elements(edit["card"]) if e["type"] == "Input.Text"}
    assert inputs[TEXT_INPUT]["value"] == draft.text and inputs[TEXT_INPUT]["isMultiline"] is True
    assert inputs[SUBJECT_INPUT]["value"] == draft.subject
    sends = [e["verb"] for e in card_elements(edit["card"]) if e["type"] == "Action.Execute"]
    assert sends == [DraftAction.POST_EDITED]


def test_a_posted_draft_offers_nothing_to_post_and_says_who_posted_it() -> None:
    card = _cards()["mindx/ack.vi/posted"]
    assert not [e for e in card_elements(card) if e["type"] in ("Action.Execute", "Action.ShowCard")]
    assert f"Posted to Coordinator Hà by {AGENT}, 16:40 (2 min ago)." in card_text(card)


def test_the_card_speaks_the_readers_language_and_the_draft_its_own() -> None:
    english_reader = card_text(_cards()["mindx/ack.vi/open"])
    assert "Draft acknowledgment for Coordinator Hà" in english_reader and "[Post to customer]" in english_reader
    assert "Kính gửi anh/chị Coordinator Hà," in english_reader
    vietnamese_reader = card_text(_cards()["mindx/ack.en/vietnamese-reader"])
    assert "Bản nháp xác nhận tiếp nhận gửi Coordinator Hà" in vietnamese_reader
    assert "Ngôn ngữ: Tiếng Anh" in vietnamese_reader and "[Gửi khách hàng]" in vietnamese_reader
    assert "Dear Coordinator Hà," in vietnamese_reader


def test_without_a_customer_the_draft_says_who_gets_it() -> None:
    text = card_text(_cards()["mindx/update.vi/no-customer"])
    assert "for the ticket's followers (the ticket has no customer)" in text
    assert "Kính gửi Quý khách," in text and "Quý khách" in text and "anh/chị" not in text


def test_the_management_summary_asks_for_what_only_a_person_can_write() -> None:
    for language in ("en", "vi"):
        card = _cards()[f"mindx/management.{language}/open"]
        assert "Before posting, write [" in card_text(card) and "[Fill in and post]" in card_text(card)
        assert "[Post to management channel]" not in card_text(card)
        assert "SlowQueryWarning" not in card_text(card)  # no technical detail for managers
    assert "Fill in" not in card_text(_cards()["mindx/ack.en/open"])
    assert "[Post to customer]" in card_text(_cards()["mindx/ack.en/open"])


def test_words_the_bot_adds_follow_the_drafts_language() -> None:
    english = _draft("mindx", DraftKind.ACK, "en").text
    vietnamese = _draft("mindx", DraftKind.ACK, "vi").text
    # Fixed Deadline, 17 h left, at least 4 updates: every 4 h 15 min, said as people say it
    assert "at least every 4 hours 15 minutes" in english and "ít nhất 4 giờ 15 phút một lần" in vietnamese
    assert "We have noted your deadline: 09:40 on 30/01/2025." in english
    assert "thời hạn anh/chị cần: 09:40 ngày 30/01/2025." in vietnamese
