from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.process import (
    ClassOfService,
    ProcessProfile,
    classify,
    deadline_checkpoints,
    load_profile,
    priority_for,
    update_interval,
)

NOW = datetime(2025, 1, 29, 18, 2, tzinfo=UTC)
TOMORROW_9 = datetime(2025, 1, 30, 9, 0, tzinfo=UTC)

STANDARD = ClassOfService.STANDARD
PRIORITY = ClassOfService.PRIORITY
EXPEDITE = ClassOfService.EXPEDITE
DEADLINE = ClassOfService.FIXED_DEADLINE


@pytest.fixture(scope="module")
def mindx() -> ProcessProfile:
    return load_profile("mindx")


@pytest.fixture(scope="module")
def odoo_ps() -> ProcessProfile:
    return load_profile("odoo-ps")


# --- classify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "without_deadline", "with_deadline"),
    [
        (None, STANDARD, DEADLINE),
        (0, STANDARD, DEADLINE),
        (1, STANDARD, DEADLINE),
        (4, STANDARD, DEADLINE),
        (5, PRIORITY, DEADLINE),
        (25, PRIORITY, DEADLINE),
        (26, EXPEDITE, EXPEDITE),
        (500, EXPEDITE, EXPEDITE),
    ],
)
def test_classify_boundaries_are_exact(
    mindx: ProcessProfile,
    users: int | None,
    without_deadline: ClassOfService,
    with_deadline: ClassOfService,
) -> None:
    assert classify(users, None, mindx) is without_deadline
    assert classify(users, TOMORROW_9, mindx) is with_deadline


def test_classify_follows_the_profile_thresholds(mindx: ProcessProfile) -> None:
    strict = replace(mindx, priority_min_users=2, expedite_min_users=10)
    assert classify(1, None, strict) is STANDARD
    assert classify(2, None, strict) is PRIORITY
    assert classify(9, None, strict) is PRIORITY
    assert classify(10, None, strict) is EXPEDITE


def test_classify_refuses_a_negative_count(mindx: ProcessProfile) -> None:
    with pytest.raises(ValueError, match="negative"):
        classify(-1, None, mindx)


def test_the_six_scenarios_classify_as_documented(mindx: ProcessProfile) -> None:
    assert classify(1, None, mindx) is STANDARD  # 1 login issue
    assert classify(16, None, mindx) is PRIORITY  # 2 performance: 15 students + 1 CXO
    assert classify(53, None, mindx) is EXPEDITE  # 3 critical bug: 50+ students
    assert classify(None, None, mindx) is STANDARD  # 4 feature request
    assert classify(12, None, mindx) is PRIORITY  # 5 video: 12 users
    assert classify(1, TOMORROW_9, mindx) is DEADLINE  # 6 report for 09:00 tomorrow


# --- priority_for --------------------------------------------------------------------------------


def test_fixed_priorities_come_from_the_class(mindx: ProcessProfile) -> None:
    assert priority_for(STANDARD, mindx) == "1"
    assert priority_for(PRIORITY, mindx) == "2"
    assert priority_for(EXPEDITE, mindx, now=NOW, deadline=NOW + timedelta(minutes=1)) == "3"
    assert priority_for(DEADLINE, mindx) == "2"


def test_deadline_priority_rises_near_the_deadline(mindx: ProcessProfile) -> None:
    urgent = mindx.deadline_urgent_within
    deadline = NOW + timedelta(days=1)
    assert priority_for(DEADLINE, mindx, now=NOW, deadline=deadline) == "2"
    assert priority_for(DEADLINE, mindx, now=deadline - urgent, deadline=deadline) == "2"
    assert (
        priority_for(DEADLINE, mindx, now=deadline - urgent + timedelta(seconds=1), deadline=deadline) == "3"
    )
    assert priority_for(DEADLINE, mindx, now=deadline, deadline=deadline) == "3"
    assert priority_for(DEADLINE, mindx, now=deadline + timedelta(hours=2), deadline=deadline) == "3"


def test_deadline_priority_stays_within_the_model(odoo_ps: ProcessProfile) -> None:
    deadline = NOW + timedelta(days=10)
    assert priority_for(DEADLINE, odoo_ps, now=NOW, deadline=deadline) == "0"
    assert priority_for(DEADLINE, odoo_ps, now=deadline - timedelta(hours=1), deadline=deadline) == "1"


def test_deadline_priority_without_both_times_is_the_class_priority(mindx: ProcessProfile) -> None:
    assert priority_for(DEADLINE, mindx, now=NOW) == "2"
    assert priority_for(DEADLINE, mindx, deadline=NOW) == "2"


def test_mixing_aware_and_naive_times_is_refused(mindx: ProcessProfile) -> None:
    with pytest.raises(ValueError, match="timezone"):
        priority_for(DEADLINE, mindx, now=NOW, deadline=datetime(2025, 1, 30, 9, 0))


# --- update_interval -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cos", "expected"),
    [(STANDARD, timedelta(hours=24)), (PRIORITY, timedelta(minutes=15)), (EXPEDITE, timedelta(minutes=15))],
)
def test_fixed_cadences(mindx: ProcessProfile, cos: ClassOfService, expected: timedelta) -> None:
    assert update_interval(cos, mindx, now=NOW) == expected
    assert update_interval(cos, mindx, now=NOW, deadline=NOW + timedelta(days=3)) == expected


def test_deadline_cadence_is_proportional_to_the_time_left(mindx: ProcessProfile) -> None:
    # scenario 6: logged 18:02, due 09:00 next day: 14h58m left, at least 4 updates
    interval = update_interval(DEADLINE, mindx, now=NOW, deadline=TOMORROW_9)
    assert interval == timedelta(hours=3, minutes=44, seconds=30)
    assert interval * mindx.deadline_min_updates <= TOMORROW_9 - NOW


def test_deadline_cadence_is_cut_to_whole_seconds(mindx: ProcessProfile) -> None:
    interval = update_interval(DEADLINE, mindx, now=NOW, deadline=NOW + timedelta(hours=1, seconds=1))
    assert interval == timedelta(minutes=15)
    assert interval.microseconds == 0


def test_deadline_cadence_has_a_floor(mindx: ProcessProfile) -> None:
    near = NOW + timedelta(minutes=20)
    assert update_interval(DEADLINE, mindx, now=NOW, deadline=near) == mindx.min_update_interval


def test_deadline_cadence_after_the_deadline_is_the_floor(mindx: ProcessProfile) -> None:
    passed = NOW - timedelta(hours=3)
    assert update_interval(DEADLINE, mindx, now=NOW, deadline=passed) == mindx.min_update_interval
    assert update_interval(DEADLINE, mindx, now=NOW, deadline=NOW) == mindx.min_update_interval


def test_deadline_cadence_needs_a_deadline(mindx: ProcessProfile) -> None:
    with pytest.raises(ValueError, match="needs a deadline"):
        update_interval(DEADLINE, mindx, now=NOW)


@given(st.integers(min_value=0, max_value=60 * 86_400))
def test_deadline_cadence_never_below_the_floor_nor_above_a_share(seconds_left: int) -> None:
    profile = load_profile("mindx")
    deadline = NOW + timedelta(seconds=seconds_left)
    interval = update_interval(DEADLINE, profile, now=NOW, deadline=deadline)
    assert interval >= profile.min_update_interval
    assert interval <= max(
        timedelta(seconds=seconds_left) / profile.deadline_min_updates, profile.min_update_interval
    )


# --- deadline_checkpoints ------------------------------------------------------------------------


def test_checkpoints_at_50_75_90_100_percent(mindx: ProcessProfile) -> None:
    start = datetime(2025, 1, 29, 9, 0, tzinfo=UTC)
    deadline = start + timedelta(hours=8)
    assert deadline_checkpoints(start, deadline, mindx) == [
        start + timedelta(hours=4),
        start + timedelta(hours=6),
        start + timedelta(hours=7, minutes=12),
        deadline,
    ]


def test_checkpoints_follow_the_profile(mindx: ProcessProfile) -> None:
    halves = replace(mindx, deadline_checkpoints=(0.5,))
    assert deadline_checkpoints(NOW, NOW + timedelta(hours=2), halves) == [NOW + timedelta(hours=1)]


def test_checkpoints_need_a_deadline_after_the_start(mindx: ProcessProfile) -> None:
    with pytest.raises(ValueError, match="must come after the start"):
        deadline_checkpoints(NOW, NOW, mindx)
    with pytest.raises(ValueError, match="must come after the start"):
        deadline_checkpoints(NOW, NOW - timedelta(hours=1), mindx)


@given(st.integers(min_value=1, max_value=90 * 86_400))
def test_checkpoints_increase_and_end_on_the_deadline(seconds: int) -> None:
    profile = load_profile("mindx")
    deadline = NOW + timedelta(seconds=seconds)
    points = deadline_checkpoints(NOW, deadline, profile)
    assert len(points) == len(profile.deadline_checkpoints)
    assert all(NOW < point <= deadline for point in points)
    assert points == sorted(points)
    assert points[-1] == deadline
