from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import speaking, spoken_duration
from bot.process import DURATION_FORMS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("90m", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_parse_accepts_the_documented_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15",
        "15 minutes",
        "15 m",
        "15M",
        "1.5h",
        "-5m",
        "+5m",
        "m",
        "30m1h",  # units out of order
        "1h1h",  # a unit twice
        "1w",
        "PT15M",
        "1h 30m",
        "١٥m",  # non-ASCII digits
        "15m.",
    ],
)
def test_parse_rejects_everything_else_naming_text_and_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    if text.strip() == text:
        assert repr(text) in str(caught.value)
    assert DURATION_FORMS in str(caught.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(15)  # type: ignore[arg-type]


def test_parse_rejects_a_duration_too_long_for_timedelta() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999d")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2), "2d"),
        (timedelta(hours=48), "2d"),
        (timedelta(hours=24), "1d"),
        (timedelta(seconds=30), "30s"),
        (timedelta(days=1, seconds=1), "1d1s"),
        (timedelta(0), "0s"),
        (timedelta(minutes=15, microseconds=999_999), "15m"),
    ],
)
def test_format(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


def test_format_refuses_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@given(st.integers(min_value=0, max_value=10**7 * 86_400))
def test_parse_inverts_format_for_whole_seconds(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@given(
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
)
def test_format_inverts_parse_for_canonical_text(days: int, hours: int, minutes: int, seconds: int) -> None:
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    text = "".join(parts) or "0s"
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(("span", "english", "vietnamese"), [
    (timedelta(seconds=20), "1 minute", "1 phút"),
    (timedelta(minutes=15), "15 minutes", "15 phút"),
    (timedelta(minutes=165), "2 hours 45 minutes", "2 giờ 45 phút"),  # a deadline's cadence once read "165 minutes"
    (timedelta(hours=1), "1 hour", "1 giờ"),
    (timedelta(days=1), "24 hours", "24 giờ"),  # service levels are said in hours up to two days
    (timedelta(days=3, hours=4, minutes=20), "3 days 4 hours", "3 ngày 4 giờ"),
    (timedelta(days=7), "7 days", "7 ngày"),
])
def test_a_duration_is_said_as_people_say_it(span: timedelta, english: str, vietnamese: str) -> None:
    assert spoken_duration(span) == english
    with speaking("vi-VN"):
        assert spoken_duration(span) == vietnamese
