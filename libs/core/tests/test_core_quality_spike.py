"""PRICE_SPIKE against the rolling median, and the rolling median itself."""

from __future__ import annotations

import statistics
from collections import deque
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.quality import (
    FeedKind,
    FeedMonitor,
    QualityConfig,
    QualityIssue,
    QualityIssueKind,
    RollingMedian,
)

BTC = InstrumentId("BTCUSDT", "BINANCE")
T0 = 1_600_000_000_000_000_000
_ids = iter(range(10**9))


def trade(price: str | Decimal) -> TradeTick:
    n = next(_ids)
    return TradeTick(
        BTC, Decimal(price), Decimal(1), AggressorSide.SELLER, TradeId(str(n)), T0 + n, T0 + n
    )


def quote(bid: str, ask: str) -> QuoteTick:
    return QuoteTick(BTC, Decimal(bid), Decimal(ask), Decimal(1), Decimal(1), T0, T0)


def monitor(window: int = 5, bps: int = 100) -> FeedMonitor:
    return FeedMonitor(BTC, QualityConfig(spike_window=window, spike_threshold_bps=Decimal(bps)))


def spikes(m: FeedMonitor, prices: list[str]) -> list[QualityIssue]:
    return [
        issue
        for price in prices
        for issue in m.on_trade(trade(price))
        if issue.kind is QualityIssueKind.PRICE_SPIKE
    ]


def test_the_first_window_of_prices_only_warms_up() -> None:
    # Wild prices, but nothing to measure them against until five have been seen.
    assert spikes(monitor(window=5), ["100", "200", "50", "400", "10"]) == []


def test_a_price_beyond_the_threshold_from_the_median_is_a_spike() -> None:
    m = monitor(window=5, bps=100)
    (issue,) = spikes(m, ["100"] * 5 + ["101.01"])
    assert (issue.kind, issue.feed, issue.price, issue.reference_price) == (
        QualityIssueKind.PRICE_SPIKE,
        FeedKind.TRADES,
        Decimal("101.01"),
        Decimal(100),
    )
    assert "expected within 100 bps of the median 100 of the last 5, found 101.01" in issue.detail
    assert "(101.0 bps away)" in issue.detail


def test_a_price_exactly_at_the_threshold_is_not_a_spike() -> None:
    assert spikes(monitor(window=5, bps=100), ["100"] * 5 + ["101", "99"]) == []


def test_a_downward_spike_is_found_too() -> None:
    assert len(spikes(monitor(window=5, bps=100), ["100"] * 5 + ["98.9"])) == 1


def test_the_threshold_comes_from_the_config() -> None:
    prices = ["100"] * 5 + ["100.2"]
    assert spikes(monitor(bps=25), prices) == []
    assert len(spikes(monitor(bps=15), prices)) == 1


def test_the_reference_is_the_median_not_the_mean() -> None:
    # Mean of 100, 100, 100, 130, 130 is 112; the median is 100, so 105 is 500 bps away.
    (issue,) = spikes(monitor(window=5, bps=100), ["100", "100", "130", "100", "130", "105"])
    assert issue.reference_price == Decimal(100)


def test_a_lone_bad_print_does_not_move_the_reference() -> None:
    m = monitor(window=5, bps=100)
    assert len(spikes(m, ["100"] * 5 + ["105"])) == 1
    assert spikes(m, ["100", "100.1", "99.9", "100"] * 10) == []


def test_a_genuine_jump_becomes_the_reference_after_half_the_window() -> None:
    m = monitor(window=9, bps=100)
    flagged = spikes(m, ["100"] * 9 + ["103"] * 20)
    assert len(flagged) == 5  # until five of the nine prices in the window are at 103
    assert spikes(m, ["103"] * 20) == []


def test_a_quote_is_measured_by_its_mid() -> None:
    m = monitor(window=3, bps=100)
    for _ in range(3):
        assert m.on_quote(quote("99", "101")) == []
    assert m.on_quote(quote("99.5", "102.5")) == []  # mid 101: exactly 100 bps
    (issue,) = m.on_quote(quote("100", "102.1"))
    assert (issue.feed, issue.price) == (FeedKind.QUOTES, Decimal("101.05"))


def test_trades_and_quotes_have_separate_references() -> None:
    m = monitor(window=3, bps=100)
    for _ in range(3):
        m.on_trade(trade("100"))
        m.on_quote(quote("199", "201"))
    assert m.on_trade(trade("100")) == []
    assert m.on_quote(quote("199", "201")) == []


def test_the_rolling_median_is_none_until_its_window_is_full() -> None:
    median = RollingMedian(3)
    median.update(Decimal(1))
    median.update(Decimal(5))
    assert (median.value, median.initialized) == (None, False)
    median.update(Decimal(2))
    assert (median.value, median.initialized) == (Decimal(2), True)


@given(
    st.integers(min_value=1, max_value=12),
    st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=80),
)
def test_the_rolling_median_equals_the_median_of_the_last_window_inputs(
    window: int, values: list[int]
) -> None:
    median = RollingMedian(window)
    last: deque[Decimal] = deque(maxlen=window)
    for value in values:
        price = Decimal(value) / 8
        median.update(price)
        last.append(price)
        expected = statistics.median(last) if len(last) == window else None
        assert median.value == expected
