"""Clock: timers and alerts fire in time order, repeat, stop and can be replaced."""

from __future__ import annotations

import pytest

from foxtrot.core.clock import Clock, TimeEvent


def test_a_repeating_timer_fires_every_interval_from_one_interval_after_its_start() -> None:
    clock = Clock(1_000)
    clock.set_timer("t", 100)
    assert list(clock.due(1_350)) == [
        TimeEvent("t", 1_100),
        TimeEvent("t", 1_200),
        TimeEvent("t", 1_300),
    ]
    assert clock.now_ns == 1_350
    assert clock.next_due_ns == 1_400


def test_timers_and_alerts_fire_oldest_first_and_move_the_clock_to_each() -> None:
    clock = Clock(0)
    clock.set_timer("every-30", 30)
    clock.set_time_alert("at-45", 45)
    seen = []
    for event in clock.due(90):
        seen.append((event.name, event.ts_event, clock.now_ns))
    assert seen == [
        ("every-30", 30, 30),
        ("at-45", 45, 45),
        ("every-30", 60, 60),
        ("every-30", 90, 90),
    ]
    assert "at-45" not in clock.timer_names


def test_a_timer_stops_at_its_stop_time() -> None:
    clock = Clock(0)
    clock.set_timer("t", 10, stop_ns=30)
    assert [e.ts_event for e in clock.due(100)] == [10, 20, 30]
    assert clock.timer_names == []


def test_cancelled_and_replaced_timers_do_not_fire_their_old_schedule() -> None:
    clock = Clock(0)
    clock.set_timer("a", 10)
    clock.set_timer("b", 10)
    clock.cancel_timer("a")
    clock.set_timer("b", 25)  # replaces the 10 ns one
    assert [(e.name, e.ts_event) for e in clock.due(50)] == [("b", 25), ("b", 50)]


def test_an_alert_in_the_past_fires_at_the_next_call() -> None:
    clock = Clock(100)
    clock.set_time_alert("late", 50)
    assert list(clock.due(100)) == [TimeEvent("late", 50)]
    assert clock.now_ns == 100  # the clock never goes back


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="timer interval must be positive, was 0 ns"):
        Clock().set_timer("t", 0)
