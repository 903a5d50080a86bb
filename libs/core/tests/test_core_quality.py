"""Market-data quality rules (see foxtrot.core.quality), one behaviour per test."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.quality import (
    FeedKind,
    FeedMonitor,
    QualityConfig,
    QualityIssue,
    QualityIssueKind,
    QualityMonitor,
    QualitySeverity,
)

BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
S = 1_000_000_000
T0 = 1_600_000_000 * S
K = QualityIssueKind


def trade(
    trade_id: int | str,
    ts: int = T0,
    price: str = "100",
    *,
    ts_init: int | None = None,
    instrument: InstrumentId = BTC,
) -> TradeTick:
    return TradeTick(
        instrument,
        Decimal(price),
        Decimal("0.5"),
        AggressorSide.BUYER,
        TradeId(str(trade_id)),
        ts,
        ts if ts_init is None else ts_init,
    )


def quote(
    bid: str = "99", ask: str = "101", ts: int = T0, *, instrument: InstrumentId = BTC
) -> QuoteTick:
    return QuoteTick(instrument, Decimal(bid), Decimal(ask), Decimal(1), Decimal(1), ts, ts)


def kinds(issues: list[QualityIssue]) -> list[QualityIssueKind]:
    return [issue.kind for issue in issues]


def monitor(**config: int | Decimal) -> FeedMonitor:
    return FeedMonitor(BTC, QualityConfig(**config))  # type: ignore[arg-type]


# --- config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["max_gap_ns", "stale_after_ns", "spike_window", "dedup_capacity"]
)
def test_config_refuses_a_non_positive_integer_threshold(field: str) -> None:
    with pytest.raises(ValueError, match=rf"{field} must be a positive integer, was 0"):
        QualityConfig(**{field: 0})  # type: ignore[arg-type]


def test_config_refuses_a_non_positive_spike_threshold() -> None:
    with pytest.raises(ValueError, match="spike_threshold_bps must be a positive Decimal"):
        QualityConfig(spike_threshold_bps=Decimal(0))


def test_every_kind_has_a_severity_and_crossed_outranks_locked() -> None:
    assert {kind.severity for kind in QualityIssueKind} <= set(QualitySeverity)
    assert K.CROSSED_QUOTE.severity is QualitySeverity.ERROR
    assert K.LOCKED_QUOTE.severity is QualitySeverity.WARNING
    assert K.FEED_RECOVERED.severity is QualitySeverity.INFO


def test_issues_are_immutable() -> None:
    m = monitor()
    m.on_trade(trade(1))
    (issue,) = m.on_trade(trade(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.detail = "changed"  # type: ignore[misc]


def test_a_clean_feed_raises_no_issue() -> None:
    m = monitor()
    issues = [i for n in range(200) for i in m.on_trade(trade(n, T0 + n * S), sequence=n)]
    issues += [i for n in range(200) for i in m.on_quote(quote(ts=T0 + n * S), sequence=n)]
    assert issues == []


def test_a_tick_of_another_instrument_is_refused() -> None:
    with pytest.raises(ValueError, match=r"expected ticks of BTCUSDT\.BINANCE, found one of ETH"):
        monitor().on_trade(trade(1, instrument=ETH))


# --- sequence -----------------------------------------------------------------------------


def test_a_skipped_sequence_number_is_a_gap_saying_expected_and_found() -> None:
    m = monitor()
    m.on_trade(trade(1), sequence=10)
    (issue,) = m.on_trade(trade(2), sequence=14)
    assert (issue.kind, issue.severity, issue.feed) == (
        K.SEQUENCE_GAP,
        QualitySeverity.ERROR,
        FeedKind.TRADES,
    )
    assert (issue.expected_seq, issue.found_seq) == (11, 14)
    assert "expected 11, found 14 (3 missing)" in issue.detail


def test_the_sequence_continues_from_the_number_after_a_gap() -> None:
    m = monitor()
    m.on_trade(trade(1), sequence=10)
    m.on_trade(trade(2), sequence=14)
    assert m.on_trade(trade(3), sequence=15) == []


def test_a_backwards_sequence_number_is_a_regression_and_keeps_the_high_water_mark() -> None:
    m = monitor()
    for n, seq in enumerate((10, 11, 12)):
        m.on_trade(trade(n), sequence=seq)
    (issue,) = m.on_trade(trade(3), sequence=7)
    assert (issue.kind, issue.expected_seq, issue.found_seq) == (K.SEQUENCE_REGRESSION, 13, 7)
    assert m.on_trade(trade(4), sequence=13) == []


def test_a_repeated_quote_sequence_number_is_a_regression() -> None:
    m = monitor()
    m.on_quote(quote(), sequence=5)
    assert kinds(m.on_quote(quote(), sequence=5)) == [K.SEQUENCE_REGRESSION]


def test_inputs_without_a_sequence_number_skip_the_sequence_rules() -> None:
    m = monitor()
    m.on_quote(quote(), sequence=5)
    assert m.on_quote(quote()) == []
    assert m.on_quote(quote(), sequence=6) == []


def test_reset_sequences_accepts_a_venue_that_restarts_its_numbering() -> None:
    m = monitor()
    m.on_quote(quote(), sequence=500)
    m.reset_sequences()
    assert m.on_quote(quote(), sequence=1) == []
    assert m.on_quote(quote(), sequence=2) == []


def test_trades_and_quotes_are_numbered_separately() -> None:
    m = monitor()
    m.on_trade(trade(1), sequence=1000)
    assert m.on_quote(quote(), sequence=1) == []
    assert m.on_trade(trade(2), sequence=1001) == []
    assert m.on_quote(quote(), sequence=2) == []


# --- time gaps and order ------------------------------------------------------------------


def test_a_step_longer_than_max_gap_is_a_time_gap() -> None:
    m = monitor(max_gap_ns=60 * S)
    m.on_trade(trade(1, T0))
    (issue,) = m.on_trade(trade(2, T0 + 61 * S))
    assert (issue.kind, issue.gap_ns, issue.ts_event) == (K.TIME_GAP, 61 * S, T0 + 61 * S)
    assert "expected at most 60.000s between inputs, found 61.000s" in issue.detail


def test_a_step_of_exactly_max_gap_is_not_a_time_gap() -> None:
    m = monitor(max_gap_ns=60 * S)
    m.on_trade(trade(1, T0))
    assert m.on_trade(trade(2, T0 + 60 * S)) == []


def test_max_gap_comes_from_the_config() -> None:
    m = monitor(max_gap_ns=5 * S)
    m.on_trade(trade(1, T0))
    assert kinds(m.on_trade(trade(2, T0 + 6 * S))) == [K.TIME_GAP]


def test_time_gaps_are_measured_per_feed() -> None:
    m = monitor(max_gap_ns=60 * S)
    m.on_trade(trade(1, T0))
    for n in range(1, 10):  # quotes keep coming every 10s while trades pause for 90s
        assert m.on_quote(quote(ts=T0 + n * 10 * S)) == []
    (issue,) = m.on_trade(trade(2, T0 + 90 * S))
    assert (issue.kind, issue.feed) == (K.TIME_GAP, FeedKind.TRADES)


def test_an_earlier_ts_event_than_the_previous_input_is_out_of_order() -> None:
    m = monitor()
    m.on_trade(trade(1, T0 + 5 * S))
    (issue,) = m.on_trade(trade(2, T0 + 2 * S))
    assert (issue.kind, issue.gap_ns) == (K.OUT_OF_ORDER, -3 * S)
    assert f"expected ts_event >= {T0 + 5 * S}, found {T0 + 2 * S}" in issue.detail


def test_an_equal_ts_event_is_not_out_of_order() -> None:
    m = monitor()
    m.on_trade(trade(1, T0))
    assert m.on_trade(trade(2, T0)) == []


def test_one_wrongly_stamped_input_is_one_out_of_order_issue() -> None:
    m = monitor(max_gap_ns=3600 * S)
    m.on_trade(trade(1, T0))
    m.on_trade(trade(2, T0 + 600 * S))  # stamped ten minutes ahead
    issues = [i for n in range(3, 8) for i in m.on_trade(trade(n, T0 + n * S))]
    assert kinds(issues) == [K.OUT_OF_ORDER]


def test_quotes_and_trades_are_ordered_separately() -> None:
    m = monitor()
    m.on_trade(trade(1, T0 + 5 * S))
    assert m.on_quote(quote(ts=T0 + 1 * S)) == []


# --- staleness ----------------------------------------------------------------------------


def test_no_input_for_longer_than_the_stale_threshold_is_a_stale_feed() -> None:
    m = monitor(stale_after_ns=30 * S)
    m.on_trade(trade(1, T0))
    (issue,) = m.on_time(T0 + 31 * S)
    assert (issue.kind, issue.severity, issue.ts_event, issue.gap_ns, issue.feed) == (
        K.STALE_FEED,
        QualitySeverity.ERROR,
        T0 + 31 * S,
        31 * S,
        None,
    )
    assert "expected input at least every 30.000s, found none for 31.000s" in issue.detail


def test_silence_of_exactly_the_stale_threshold_is_not_stale() -> None:
    m = monitor(stale_after_ns=30 * S)
    m.on_trade(trade(1, T0))
    assert m.on_time(T0 + 30 * S) == []


def test_a_stale_feed_is_reported_once_per_episode() -> None:
    m = monitor(stale_after_ns=30 * S)
    m.on_trade(trade(1, T0))
    issues = [i for n in range(31, 300) for i in m.on_time(T0 + n * S)]
    assert kinds(issues) == [K.STALE_FEED]
    assert m.status().is_stale


def test_input_after_a_stale_feed_reports_recovery_once_and_a_new_episode_can_follow() -> None:
    m = monitor(stale_after_ns=30 * S, max_gap_ns=3600 * S)
    m.on_trade(trade(1, T0))
    m.on_time(T0 + 40 * S)
    (recovered,) = m.on_trade(trade(2, T0 + 50 * S))
    assert (recovered.kind, recovered.severity, recovered.gap_ns) == (
        K.FEED_RECOVERED,
        QualitySeverity.INFO,
        50 * S,
    )
    assert not m.status().is_stale
    assert m.on_trade(trade(3, T0 + 51 * S)) == []
    assert kinds(m.on_time(T0 + 100 * S)) == [K.STALE_FEED]
    assert kinds(m.on_quote(quote(ts=T0 + 101 * S))) == [K.FEED_RECOVERED]


def test_an_instrument_without_input_is_never_stale() -> None:
    assert monitor().on_time(T0 + 3600 * S) == []


def test_staleness_is_measured_on_ts_init_not_ts_event() -> None:
    m = monitor(stale_after_ns=30 * S)
    m.on_trade(trade(1, T0, ts_init=T0 + 100 * S))  # venue time lags our clock by 100s
    assert m.on_time(T0 + 120 * S) == []


def test_any_feed_keeps_the_instrument_alive() -> None:
    m = monitor(stale_after_ns=30 * S)
    m.on_trade(trade(1, T0))
    m.on_quote(quote(ts=T0 + 25 * S))
    assert m.on_time(T0 + 50 * S) == []


# --- duplicates ---------------------------------------------------------------------------


def test_a_repeated_trade_id_is_a_duplicate() -> None:
    m = monitor()
    m.on_trade(trade(7))
    (issue,) = m.on_trade(trade(7))
    assert (issue.kind, issue.trade_id, issue.feed) == (K.DUPLICATE, "7", FeedKind.TRADES)
    assert "trade id 7 seen again" in issue.detail


def test_a_duplicate_is_not_checked_further() -> None:
    m = monitor()
    m.on_trade(trade(1, T0), sequence=1)
    m.on_trade(trade(2, T0 + S), sequence=2)
    # The first trade again: older sequence and older timestamp, yet only one issue.
    assert kinds(m.on_trade(trade(1, T0), sequence=1)) == [K.DUPLICATE]
    assert m.on_trade(trade(3, T0 + 2 * S), sequence=3) == []


def test_same_price_size_and_time_under_a_new_trade_id_is_not_a_duplicate() -> None:
    m = monitor()
    m.on_trade(trade(1))
    assert m.on_trade(trade(2)) == []


def test_identical_consecutive_quotes_are_not_an_issue() -> None:
    m = monitor()
    assert [i for _ in range(100) for i in m.on_quote(quote())] == []


def test_dedup_memory_is_bounded_and_forgets_the_oldest_id_first() -> None:
    m = monitor(dedup_capacity=3)
    for n in (1, 2, 3, 4):  # remembering 4 forgets 1
        m.on_trade(trade(n))
    assert m.on_trade(trade(1)) == []  # forgotten, so new again (and now 2 is forgotten)
    assert m.on_trade(trade(2)) == []
    assert kinds(m.on_trade(trade(4))) == [K.DUPLICATE]


def test_dedup_memory_holds_only_the_latest_capacity_ids() -> None:
    m = monitor(dedup_capacity=100)
    for n in range(10_000):
        m.on_trade(trade(n))
    assert [kinds(m.on_trade(trade(n))) for n in range(9_900, 10_000)] == [[K.DUPLICATE]] * 100
    assert m.on_trade(trade(9_899)) == []


# --- quote shape --------------------------------------------------------------------------


def test_a_bid_above_the_ask_is_a_crossed_quote() -> None:
    (issue,) = monitor().on_quote(quote("101", "100"))
    assert (issue.kind, issue.severity, issue.price, issue.reference_price) == (
        K.CROSSED_QUOTE,
        QualitySeverity.ERROR,
        Decimal(101),
        Decimal(100),
    )
    assert "expected bid < ask, found bid 101 > ask 100" in issue.detail


def test_a_bid_equal_to_the_ask_is_a_locked_quote() -> None:
    (issue,) = monitor().on_quote(quote("86.836", "86.836"))
    assert (issue.kind, issue.severity) == (K.LOCKED_QUOTE, QualitySeverity.WARNING)
    assert "found bid 86.836 = ask 86.836" in issue.detail


def test_a_one_tick_spread_is_not_an_issue() -> None:
    assert monitor().on_quote(quote("86.835", "86.836")) == []


# --- status and the keyed monitor ---------------------------------------------------------


def test_status_counts_every_kind_and_keeps_the_last_issue() -> None:
    m = monitor()
    m.on_trade(trade(1, T0 + 2 * S, ts_init=T0 + 3 * S))
    m.on_trade(trade(1, T0 + 2 * S, ts_init=T0 + 3 * S))
    m.on_quote(quote("2", "1", ts=T0 + 4 * S))
    status = m.status()
    assert status.counts[K.DUPLICATE] == 1
    assert status.counts[K.CROSSED_QUOTE] == 1
    assert set(status.counts) == set(QualityIssueKind)
    assert status.issue_count == 2
    assert status.last_issue is not None
    assert status.last_issue.kind is K.CROSSED_QUOTE
    assert (status.trades, status.quotes) == (2, 1)
    assert (status.last_ts_event, status.last_ts_init, status.is_stale) == (
        T0 + 4 * S,
        T0 + 4 * S,
        False,
    )


def test_status_before_any_input_is_empty() -> None:
    status = monitor().status()
    assert (status.issue_count, status.last_issue, status.last_ts_event) == (0, None, None)


def test_quality_monitor_keeps_one_monitor_per_instrument() -> None:
    monitors = QualityMonitor()
    monitors.on_trade(trade(1, instrument=BTC))
    assert monitors.on_trade(trade(1, instrument=ETH)) == []  # same id, other instrument
    assert kinds(monitors.on_trade(trade(1, instrument=BTC))) == [K.DUPLICATE]
    assert [s.instrument_id for s in monitors.statuses()] == [BTC, ETH]


def test_quality_monitor_uses_each_instruments_own_config() -> None:
    monitors = QualityMonitor(
        QualityConfig(max_gap_ns=60 * S), {ETH: QualityConfig(max_gap_ns=5 * S)}
    )
    for instrument in (BTC, ETH):
        monitors.on_trade(trade(1, T0, instrument=instrument))
    assert monitors.on_trade(trade(2, T0 + 10 * S, instrument=BTC)) == []
    assert kinds(monitors.on_trade(trade(2, T0 + 10 * S, instrument=ETH))) == [K.TIME_GAP]


def test_quality_monitor_reports_each_stale_instrument() -> None:
    monitors = QualityMonitor(QualityConfig(stale_after_ns=30 * S))
    monitors.on_trade(trade(1, T0, instrument=BTC))
    monitors.on_quote(quote(ts=T0 + 20 * S, instrument=ETH))
    assert [i.instrument_id for i in monitors.on_time(T0 + 40 * S)] == [BTC]
    assert [i.instrument_id for i in monitors.on_time(T0 + 60 * S)] == [ETH]
