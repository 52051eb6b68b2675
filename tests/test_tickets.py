"""The facts block the bot keeps in the description, and the lifecycle rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.lifecycle import Move, NotAllowed, check
from bot.process import ClassOfService, Stage, load_profile
from bot.reminders.policy import Kind, next_step, not_logged_yet, reminders_for
from bot.tickets import OdooUser, Ticket, TicketFacts, description_html, split_description

NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)
MINDX = load_profile("mindx")


def test_facts_round_trip_through_odoo_html() -> None:
    facts = TicketFacts(users=15, deadline=datetime(2025, 1, 30, 2, 0, tzinfo=UTC), reported=NOW, kind="incident",
                        logged_by="Đỗ Doãn Tiến")
    html = description_html("Page load > 1 minute\n<script>alert(1)</script>", facts)
    assert "<script>" not in html
    text, read_back = split_description(html)
    assert read_back == facts
    assert text == "Page load > 1 minute\n<script>alert(1)</script>"


def test_description_without_facts() -> None:
    assert split_description("<p>Just text</p>") == ("Just text", TicketFacts())
    assert split_description(False) == ("", TicketFacts())


@given(st.text(max_size=200), st.one_of(st.none(), st.integers(0, 10**6)))
def test_any_description_keeps_its_facts(text: str, users: int | None) -> None:
    _, facts = split_description(description_html(text, TicketFacts(users=users)))
    assert facts.users == users


def _ticket(stage: Stage, *, cos: ClassOfService = ClassOfService.STANDARD, closed: bool = False,
            deadline: datetime | None = None, logged: bool = True) -> Ticket:
    """A ticket as logged from Teams (an owner and its class tag), or as the mail gateway makes it."""
    return Ticket(id=3, number="HT00003", title="Login", description="", stage=MINDX.stages[stage],
                  stage_key=stage, priority="1", cos=cos, created=NOW, updated=NOW,
                  facts=TicketFacts(deadline=deadline), closed=closed,
                  owner=OdooUser(7, "Phạm Quốc Huy") if logged else None,
                  tags=(MINDX.classes[cos].tag,) if logged else ())


@pytest.mark.parametrize(("stage", "move"), [
    (Stage.DONE, Move.ACK), (Stage.CANCELLED, Move.UPDATE), (Stage.IN_PROGRESS, Move.RESUME),
    (Stage.IN_PROGRESS, Move.CONFIRM), (Stage.ON_HOLD, Move.HOLD), (Stage.IN_PROGRESS, Move.REOPEN),
])
def test_moves_that_make_no_sense_are_refused_with_a_way_out(stage: Stage, move: Move) -> None:
    with pytest.raises(NotAllowed, match="HT00003"):
        check(_ticket(stage), move)


@pytest.mark.parametrize(("stage", "move"), [
    (Stage.NEW, Move.ACK), (Stage.ON_HOLD, Move.RESUME), (Stage.WAITING_CUSTOMER, Move.RESUME),
    (Stage.RESOLVED, Move.CONFIRM), (Stage.DONE, Move.REOPEN), (Stage.RESOLVED, Move.REOPEN),
])
def test_moves_that_fit(stage: Stage, move: Move) -> None:
    check(_ticket(stage), move)


def test_next_step_follows_the_process() -> None:
    new = next_step(_ticket(Stage.NEW), MINDX, NOW)
    assert new is not None and new.what == "Acknowledge the customer" and new.due == NOW + timedelta(minutes=30)
    priority = next_step(_ticket(Stage.IN_PROGRESS, cos=ClassOfService.PRIORITY), MINDX, NOW)
    assert priority is not None and priority.due == NOW + timedelta(minutes=15)
    standard = next_step(_ticket(Stage.IN_PROGRESS), MINDX, NOW)
    assert standard is not None and standard.due == NOW + timedelta(hours=24)
    on_hold = next_step(_ticket(Stage.ON_HOLD), MINDX, NOW)
    assert on_hold is not None and on_hold.due is None
    assert next_step(_ticket(Stage.DONE, closed=True), MINDX, NOW) is None
    deadline = next_step(_ticket(Stage.IN_PROGRESS, cos=ClassOfService.FIXED_DEADLINE,
                                 deadline=NOW + timedelta(hours=16)), MINDX, NOW)
    assert deadline is not None and deadline.due == NOW + timedelta(hours=4)  # 16h left / 4 updates
    assert deadline.overdue(NOW + timedelta(hours=5))


def test_a_fixed_deadline_ticket_without_its_deadline_asks_for_it() -> None:
    step = next_step(_ticket(Stage.IN_PROGRESS, cos=ClassOfService.FIXED_DEADLINE), MINDX, NOW)
    assert step is not None and step.due is None and "/ticket class 3 deadline deadline:" in step.what


def test_a_ticket_that_came_in_by_mail_is_logged_once_it_has_an_owner_and_a_class() -> None:
    raw = _ticket(Stage.NEW, logged=False)
    assert not_logged_yet(raw, MINDX) == ["an owner", "a class of service"]
    step = next_step(raw, MINDX, NOW)
    assert step is not None and step.what == "Finish logging it: give it an owner and a class of service"
    assert step.due == NOW + timedelta(minutes=15)
    assert {due.kind: due.at for due in reminders_for(raw, MINDX, now=NOW, last_update=None)} == {
        Kind.RECEPTION: NOW + timedelta(minutes=15), Kind.ACK: NOW + timedelta(minutes=30)}
    owned = raw.with_changes(owner=OdooUser(7, "Phạm Quốc Huy"))
    assert not_logged_yet(owned, MINDX) == ["a class of service"]
    logged = owned.with_changes(tags=("hardware", MINDX.classes[ClassOfService.STANDARD].tag))
    assert not_logged_yet(logged, MINDX) == []
    assert [due.kind for due in reminders_for(logged, MINDX, now=NOW, last_update=None)] == [Kind.ACK]
