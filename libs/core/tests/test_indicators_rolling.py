"""The window primitives under the indicators: block-anchored sums, monotonic-deque extremes,
and the order-statistics multiset behind CCI."""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foxtrot.core.indicators.order_statistics import OrderedMultiset
from foxtrot.core.indicators.rolling import (
    RollingExtreme,
    RollingSums,
    rolling_age_of_max,
    rolling_age_of_min,
    rolling_max,
    rolling_min,
    rolling_sums,
)

Columns = dict[str, npt.NDArray[Any]]
EPS = sys.float_info.epsilon

floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
prices = st.floats(min_value=1.0, max_value=1e5, allow_nan=False, allow_infinity=False)


def _stream_sums(values: list[float], period: int, **flags: bool) -> list[tuple[float, ...]]:
    sums = RollingSums(period, **flags)
    out: list[tuple[float, ...]] = []
    for x in values:
        if sums.update(x):
            out.append((sums.anchor, sums.total, sums.weighted_total, sums.squares_total))
        else:
            out.append((math.nan,) * 4)
    return out


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(floats, max_size=90),
    period=st.integers(1, 13),
    anchored=st.booleans(),
    weighted=st.booleans(),
    squares=st.booleans(),
)
def test_streaming_window_sums_equal_the_batch_sums_bit_for_bit(
    values: list[float], period: int, anchored: bool, weighted: bool, squares: bool
) -> None:
    flags = {"anchored": anchored, "weighted": weighted, "squares": squares}
    streamed = np.array(_stream_sums(values, period, **flags)).reshape(-1, 4)
    batch = rolling_sums(np.array(values, dtype=np.float64), period, **flags)
    wanted = [0, 1] + ([2] if weighted else []) + ([3] if squares else [])
    for column in wanted:
        np.testing.assert_array_equal(streamed[:, column], batch[column])


@settings(max_examples=200, deadline=None)
@given(values=st.lists(prices, min_size=1, max_size=80), period=st.integers(1, 11))
def test_window_sums_are_within_a_few_ulps_of_the_exact_sums(
    values: list[float], period: int
) -> None:
    sums = RollingSums(period, anchored=True, weighted=True, squares=True)
    for end, x in enumerate(values, start=1):
        if not sums.update(x):
            continue
        window = [Fraction(v) for v in values[end - period : end]]
        deviations = [v - Fraction(sums.anchor) for v in window]
        weights = range(1, period + 1)
        exact = (
            sum(deviations, Fraction(0)),
            sum((w * d for w, d in zip(weights, deviations, strict=True)), Fraction(0)),
            sum((d * d for d in deviations), Fraction(0)),
        )
        magnitude = (
            sum(abs(d) for d in deviations),
            sum(w * abs(d) for w, d in zip(weights, deviations, strict=True)),
            sum(d * d for d in deviations),
        )
        found = (sums.total, sums.weighted_total, sums.squares_total)
        for got, want, size in zip(found, exact, magnitude, strict=True):
            # Each is a sum of at most 2 * period rounded terms (4x for the weighted one).
            bound = 8 * period * EPS * float(size) + 1e-300
            assert abs(Fraction(got) - want) <= Fraction(bound)


def test_a_huge_input_leaving_the_window_leaves_no_trace() -> None:
    # A running sum (add the newest, subtract the oldest) returns 1.0 here, not 2.0.
    sums = RollingSums(2)
    for x in (1e16, 1.0, 1.0):
        sums.update(x)
    assert sums.total == 2.0


def test_window_sums_do_not_drift_over_the_whole_real_file(
    ftx_btc_perp_1m_columns: Columns,
) -> None:
    volume = ftx_btc_perp_1m_columns["volume"]
    period = 50
    totals = rolling_sums(volume, period).total
    exact = np.array(
        [math.fsum(volume[i - period + 1 : i + 1]) for i in range(period - 1, len(volume))]
    )
    error = np.abs(totals[period - 1 :] - exact) / exact
    assert error.max() <= 2 * period * EPS
    # The error at the end of the file is no larger than at the start: nothing accumulates.
    assert error[-1000:].max() <= 2 * period * EPS


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-3, 3).map(float), max_size=60), period=st.integers(1, 9))
def test_rolling_extremes_are_the_window_max_and_min_and_ties_go_to_the_latest(
    values: list[float], period: int
) -> None:
    highest = RollingExtreme(period, highest=True)
    lowest = RollingExtreme(period, highest=False)
    for end, x in enumerate(values, start=1):
        highest.update(x)
        lowest.update(x)
        window = values[max(0, end - period) : end]
        assert highest.value == max(window)
        assert lowest.value == min(window)
        newest_first = window[::-1]
        assert highest.age == newest_first.index(max(window))
        assert lowest.age == newest_first.index(min(window))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-3, 3).map(float), max_size=60), period=st.integers(1, 9))
def test_batch_extremes_and_ages_equal_the_streaming_ones(values: list[float], period: int) -> None:
    array = np.array(values, dtype=np.float64)
    highest = RollingExtreme(period, highest=True)
    lowest = RollingExtreme(period, highest=False)
    expected: list[tuple[float, float, float, float]] = []
    for end, x in enumerate(values, start=1):
        highest.update(x)
        lowest.update(x)
        if end >= period:
            expected.append((highest.value, lowest.value, highest.age, lowest.age))
        else:
            expected.append((math.nan,) * 4)
    table = np.array(expected).reshape(-1, 4)
    np.testing.assert_array_equal(rolling_max(array, period), table[:, 0])
    np.testing.assert_array_equal(rolling_min(array, period), table[:, 1])
    np.testing.assert_array_equal(rolling_age_of_max(array, period), table[:, 2])
    np.testing.assert_array_equal(rolling_age_of_min(array, period), table[:, 3])


operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "below"]), st.integers(-5, 5).map(float)),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(operations=operations)
def test_ordered_multiset_counts_and_sums_what_lies_below_like_a_sorted_list(
    operations: list[tuple[str, float]],
) -> None:
    multiset, reference = OrderedMultiset(), []
    for operation, key in operations:
        if operation == "add":
            multiset.add(key)
            reference.append(key)
        elif operation == "remove" and key in reference:
            multiset.remove(key)
            reference.remove(key)
        elif operation == "remove":
            with pytest.raises(KeyError):
                multiset.remove(key)
        else:
            below = [v for v in reference if v < key]
            assert multiset.below(key) == (len(below), math.fsum(below))
        assert len(multiset) == len(reference)
        assert multiset.total == math.fsum(reference)


def test_ordered_multiset_clear_forgets_every_value() -> None:
    multiset = OrderedMultiset()
    for key in (3.0, 1.0, 2.0):
        multiset.add(key)
    multiset.clear()
    assert len(multiset) == 0
    assert multiset.below(10.0) == (0, 0.0)
