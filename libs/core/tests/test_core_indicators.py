"""SimpleMovingAverage against a naive mean, on real BTC-PERP closes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from foxtrot.core.data import Bar
from foxtrot.core.indicators import SimpleMovingAverage


@pytest.mark.parametrize("period", [1, 7, 30])
def test_sma_equals_the_naive_mean_of_the_last_period_closes_on_real_bars(
    ftx_btc_perp_1m_bars: list[Bar], period: int
) -> None:
    closes = [bar.close for bar in ftx_btc_perp_1m_bars]
    assert len(closes) > 40_000
    sma = SimpleMovingAverage(period)
    for i, close in enumerate(closes):
        sma.update(close)
        if i + 1 < period:
            assert sma.value is None, f"bar {i}"
            assert not sma.initialized
            continue
        window = closes[i + 1 - period : i + 1]
        assert sma.initialized
        assert sma.value == sum(window, Decimal(0)) / period, f"bar {i}"


def test_sma_is_none_until_period_inputs_then_slides() -> None:
    sma = SimpleMovingAverage(3)
    sma.update(Decimal(1))
    sma.update(Decimal(2))
    assert sma.value is None
    sma.update(Decimal(6))
    assert sma.value == Decimal(3)
    sma.update(Decimal(10))  # window is now 2, 6, 10
    assert sma.value == Decimal(6)


def test_reset_forgets_every_input() -> None:
    sma = SimpleMovingAverage(2)
    for value in (Decimal(100), Decimal(200), Decimal(300)):
        sma.update(value)
    sma.reset()
    assert not sma.initialized
    assert sma.value is None
    sma.update(Decimal(1))
    sma.update(Decimal(3))
    assert sma.value == Decimal(2)  # nothing of 100..300 left in the sum


@pytest.mark.parametrize("period", [0, -3])
def test_period_below_one_is_refused(period: int) -> None:
    with pytest.raises(ValueError, match=f"period must be at least 1, was {period}"):
        SimpleMovingAverage(period)
