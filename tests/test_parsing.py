"""The command parser: what people type, including what they get wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.numbers import whole_number
from bot.parsing import (
    TicketRef,
    UsageError,
    command_line,
    split_arguments,
    ticket_ref,
    time_spent,
    user_count,
    when,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)  # 15:33 in Ho Chi Minh City


@pytest.mark.parametrize("text", ["/ticket new x", "ticket new x", "  /TICKET new x", "Ticket new x"])
def test_command_prefix_forms(text: str) -> None:
    line = command_line(text)
    assert line is not None and line.name == "new" and line.args == "x"


@pytest.mark.parametrize("text", ["hello", "/tickets new", "please /ticket new", ""])
def test_not_a_command(text: str) -> None:
    assert command_line(text) is None


def test_description_is_the_lines_after_the_first() -> None:
    line = command_line("/ticket new Cannot log in users:1\nInvalid username or password\nsince 3pm")
    assert line is not None
    assert line.args == "Cannot log in users:1"
    assert line.body == "Invalid username or password\nsince 3pm"


def test_options_only_for_known_keys() -> None:
    args = split_arguments('Error: 403 on video users:12 deadline:"2025-01-30 09:00"', {"users", "deadline"})
    assert args.words == ("Error:", "403", "on", "video")
    assert args.options == {"users": "12", "deadline": "2025-01-30 09:00"}


def test_option_given_twice_is_refused() -> None:
    with pytest.raises(UsageError, match="given twice"):
        split_arguments("x users:1 users:2", {"users"})


def test_unbalanced_quote_does_not_crash() -> None:
    assert split_arguments('it "breaks', set()).words == ("it", '"breaks')


@pytest.mark.parametrize(("word", "ref"), [("42", TicketRef(id=42)), ("#42", TicketRef(id=42)),
                                           ("HT00042", TicketRef(number="HT00042")),
                                           ("ht00042", TicketRef(number="HT00042"))])
def test_ticket_ids(word: str, ref: TicketRef) -> None:
    assert ticket_ref(word) == ref


@pytest.mark.parametrize("word", [None, "", "forty-two", "#", "42a!", "1234567890123", "#١", "４２", "²", "HT٣"])
def test_bad_ticket_ids_explain_the_forms(word: str | None) -> None:
    with pytest.raises(UsageError, match="42"):
        ticket_ref(word)


def test_user_counts() -> None:
    assert user_count("15") == 15
    assert user_count("50+") == 50
    assert user_count("1,200") == 1200
    for bad in ("-3", "many", "1.5", ""):
        with pytest.raises(UsageError, match="users:15"):
            user_count(bad)
    assert user_count("1,000,000") == 1_000_000


@pytest.mark.parametrize("bad", ["²", "①", "³", "١٢", "４２", "1²", "9" * 4_301, "1000001", " 1 2", "1_000", "+5"],
                         ids=lambda bad: bad if len(bad) < 20 else f"{len(bad)} digits")
def test_user_counts_are_ascii_digits_and_bounded(bad: str) -> None:
    with pytest.raises(UsageError, match="users:15"):
        user_count(bad)


def test_whole_numbers_are_ascii_digits_bounded_and_never_raise() -> None:
    assert whole_number("0", maximum=5) == 0 and whole_number("005", maximum=5) == 5
    assert whole_number("0" * 5_000 + "7", maximum=10) == 7  # leading zeros count for nothing
    for bad in ("", " 1", "1 ", "1\n", "-1", "+1", "1.0", "²", "①", "١", "４", "6", "9" * 10_000, None, 5, b"5"):
        assert whole_number(bad, maximum=5) is None, bad


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=20))
def test_a_whole_number_is_what_ascii_digits_say_or_none(text: str) -> None:
    value = whole_number(text, maximum=1_000)
    if text and all(c in "0123456789" for c in text) and int(text) <= 1_000:
        assert value == int(text)
    else:
        assert value is None


@pytest.mark.parametrize(("text", "expected_local"), [
    ("tomorrow@09:00", datetime(2025, 1, 30, 9, 0)),
    ("tomorrow 09:00", datetime(2025, 1, 30, 9, 0)),
    ("tomorrow", datetime(2025, 1, 30, 9, 0)),
    ("today@17:00", datetime(2025, 1, 29, 17, 0)),
    ("17:00", datetime(2025, 1, 29, 17, 0)),
    ("09:00", datetime(2025, 1, 30, 9, 0)),  # already past today: the next one
    ("2025-01-30 09:00", datetime(2025, 1, 30, 9, 0)),
    ("2025-01-30T09:00", datetime(2025, 1, 30, 9, 0)),
    ("2025-02-03", datetime(2025, 2, 3, 17, 0)),
    ("4h", datetime(2025, 1, 29, 19, 33)),
    ("+90m", datetime(2025, 1, 29, 17, 3)),
    ("in 2d", datetime(2025, 1, 31, 15, 33)),
])
def test_times_in_the_users_zone(text: str, expected_local: datetime) -> None:
    assert when(text, NOW, HCM) == expected_local.replace(tzinfo=HCM).astimezone(UTC)


@pytest.mark.parametrize("text", ["yesterday", "2025-01-28 09:00", "25:00", "next week", "soonish"])
def test_unreadable_or_past_times_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        when(text, NOW, HCM)


@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_crashes(text: str) -> None:
    """Any text: either not a command, or a command whose arguments split or fail with UsageError."""
    line = command_line(text)
    if line is None:
        return
    try:
        split_arguments(line.args, {"users", "customer", "deadline"})
        if line.args:
            ticket_ref(line.args.split()[0])
    except UsageError:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=60))
def test_time_parser_never_crashes(text: str) -> None:
    try:
        moment = when(text, NOW, HCM)
    except UsageError:
        return
    assert moment > NOW and moment.tzinfo is not None


@pytest.mark.parametrize(("text", "minutes"), [
    ("1h30m", 90), ("90m", 90), ("2h", 120), ("1h30", 90), ("2h05", 125), ("1.5h", 90), ("1,5h", 90), ("0.25h", 15),
    ("1.05h", 63), ("24h", 1440), ("1d", 1440), ("1m", 1), (" 45m ", 45)])
def test_time_spent_as_people_log_it(text: str, minutes: int) -> None:
    assert time_spent(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(("text", "said"), [
    ("research", "is not a time spent"), ("1h5", "is not a time spent"), ("1h60", "is not a time spent"),
    ("-1h", "is not a time spent"), ("1.h", "is not a time spent"), (".5h", "is not a time spent"),
    ("1.5", "is not a time spent"), ("1H30M", "is not a time spent"), ("1 h", "is not a time spent"),
    ("25h", "is more than 24 hours"), ("1d1m", "is more than 24 hours"), ("9" * 30 + "h", "is not a time spent"),
    ("0m", "is no time at all"), ("0.0h", "is no time at all"), ("30s", "is not a whole number of minutes"),
    ("1h30m15s", "is not a whole number of minutes"), ("1.33h", "is not a whole number of minutes")])
def test_time_spent_that_cannot_be_logged_says_how_to_write_it(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        time_spent(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=30))
def test_time_spent_is_whole_minutes_within_a_day_or_refused(text: str) -> None:
    try:
        spent = time_spent(text)
    except UsageError:
        return
    assert timedelta(0) < spent <= timedelta(hours=24) and spent % timedelta(minutes=1) == timedelta(0)
