"""The quality rules on real venue data, clean and with one injected fault at a time.

The files' known facts (shared/data/SOURCES.md) are the expectations: Tardis BTCUSDT trade
ids run without gaps and their timestamps never decrease; TrueFX USD/JPY has exactly one
locked quote, at data row 942; HistData EUR/USD has no crossed or locked quote. Each fault
put into a copy of a real sequence must then be found exactly once, and nothing else.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import pytest

from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.quality import FeedMonitor, QualityConfig, QualityIssue, QualityIssueKind

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TARDIS = DATA / "trades" / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
TRUEFX = DATA / "quotes" / "truefx_USDJPY_ticks_2013-01.csv"
HISTDATA = DATA / "quotes" / "histdata_EURUSD_ticks_2020-01.csv"

BTC = InstrumentId("BTCUSDT", "BINANCE-FUTURES")
USDJPY = InstrumentId("USDJPY", "TRUEFX")
EURUSD = InstrumentId("EURUSD", "HISTDATA")
K = QualityIssueKind
S = 1_000_000_000
TEN_MINUTES = 600 * S
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HISTDATA_ZONE = timezone(timedelta(hours=-5))  # HistData's fixed EST, no daylight saving
FAULT_AT = 5_000  # well past the spike warm-up, away from both ends

Tick = TypeVar("Tick", TradeTick, QuoteTick)
Trade = tuple[TradeTick, int]  # a trade and its venue sequence number (the trade id)
Quote = tuple[QuoteTick, int | None]


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")


def _ns(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1_000


def _tardis_trades() -> list[Trade]:
    _need(TARDIS)
    with TARDIS.open(newline="") as handle:
        return [
            (
                TradeTick(
                    BTC,
                    Decimal(row["price"]),
                    Decimal(row["amount"]),
                    AggressorSide.BUYER if row["side"] == "buy" else AggressorSide.SELLER,
                    TradeId(row["id"]),
                    int(row["timestamp"]) * 1_000,
                    int(row["local_timestamp"]) * 1_000,
                ),
                int(row["id"]),
            )
            for row in csv.DictReader(handle)
        ]


def _quote(instrument: InstrumentId, bid: str, ask: str, ts: int) -> QuoteTick:
    return QuoteTick(instrument, Decimal(bid), Decimal(ask), Decimal(0), Decimal(0), ts, ts)


def _truefx_quotes() -> list[Quote]:
    _need(TRUEFX)
    with TRUEFX.open(newline="") as handle:
        return [
            (
                _quote(
                    USDJPY, row["bid"], row["ask"], _ns(datetime.fromisoformat(row["timestamp"]))
                ),
                None,
            )
            for row in csv.DictReader(handle)
        ]


def _histdata_ns(stamp: str) -> int:
    day, clock = stamp.split(" ")  # "20200101 170000065": date, then HHMMSS and milliseconds
    moment = datetime.strptime(day + clock[:6], "%Y%m%d%H%M%S").replace(tzinfo=HISTDATA_ZONE)
    return _ns(moment) + int(clock[6:]) * 1_000_000


def _histdata_quotes() -> list[Quote]:
    """HistData quotes numbered by their row, as a venue would number its messages."""
    _need(HISTDATA)
    with HISTDATA.open(newline="") as handle:
        return [
            (_quote(EURUSD, bid, ask, _histdata_ns(stamp)), row)
            for row, (stamp, bid, ask, _volume) in enumerate(csv.reader(handle), start=1)
        ]


def _replay(
    monitor: FeedMonitor, ticks: Sequence[Trade | Quote], *, with_clock: bool = False
) -> list[QualityIssue]:
    """Feed every tick; with a clock, tell the monitor the time (ts_init) before each."""
    issues: list[QualityIssue] = []
    for tick, sequence in ticks:
        if with_clock:
            issues += monitor.on_time(tick.ts_init)
        if isinstance(tick, TradeTick):
            issues += monitor.on_trade(tick, sequence)
        else:
            issues += monitor.on_quote(tick, sequence)
    return issues


def _gaps_longer_than(ticks: Sequence[Trade | Quote], limit: int) -> list[int]:
    """The ts_event of every tick that comes more than ``limit`` after the one before."""
    stamps = [tick.ts_event for tick, _ in ticks]
    return [later for earlier, later in pairwise(stamps) if later - earlier > limit]


def _shifted(tick: Tick, by: int) -> Tick:
    return dataclasses.replace(tick, ts_event=tick.ts_event + by, ts_init=tick.ts_init + by)


# --- the real files as they are -----------------------------------------------------------


def test_tardis_trades_with_trade_ids_as_sequence_have_no_issue() -> None:
    trades = _tardis_trades()
    assert len(trades) == 9_999
    assert _replay(FeedMonitor(BTC), trades, with_clock=True) == []


def test_truefx_quotes_have_one_locked_quote_at_row_942_and_none_crossed() -> None:
    quotes = _truefx_quotes()
    issues = _replay(FeedMonitor(USDJPY), quotes)
    locked = [i for i in issues if i.kind is K.LOCKED_QUOTE]
    assert [i.ts_event for i in locked] == [quotes[942 - 1][0].ts_event]
    assert locked[0].price == locked[0].reference_price == Decimal("86.836")
    # Only the locked quote and the quiet spells of a New Year's evening are reported.
    assert {i.kind for i in issues} == {K.LOCKED_QUOTE, K.TIME_GAP}
    gaps = [i.ts_event for i in issues if i.kind is K.TIME_GAP]
    assert gaps == _gaps_longer_than(quotes, QualityConfig().max_gap_ns)
    assert len(gaps) == 2  # 155.6s after the reopen quote and 76.8s later on


def test_histdata_quotes_have_no_crossed_or_locked_quote_or_spike() -> None:
    quotes = _histdata_quotes()
    assert len(quotes) == 9_500
    issues = _replay(FeedMonitor(EURUSD), quotes)
    assert {i.kind for i in issues} == {K.TIME_GAP}
    gaps = [i.ts_event for i in issues]
    assert gaps == _gaps_longer_than(quotes, QualityConfig().max_gap_ns)
    assert len(gaps) == 7  # pauses of 60.002s to 85.7s in the first hours after the reopen


def test_histdata_times_are_read_as_fixed_utc_minus_five() -> None:
    first = _histdata_quotes()[0][0]
    assert first.ts_event == _ns(datetime(2020, 1, 1, 22, 0, 0, 65_000, tzinfo=UTC))


# --- one fault in a copy of the real trades -----------------------------------------------


def test_a_dropped_trade_is_one_sequence_gap() -> None:
    trades = _tardis_trades()
    dropped = trades.pop(FAULT_AT)
    (issue,) = _replay(FeedMonitor(BTC), trades)
    assert (issue.kind, issue.expected_seq, issue.found_seq) == (
        K.SEQUENCE_GAP,
        dropped[1],
        dropped[1] + 1,
    )


def test_two_swapped_timestamps_are_one_out_of_order() -> None:
    trades = _tardis_trades()
    i = next(
        n for n in range(FAULT_AT, len(trades)) if trades[n][0].ts_event < trades[n + 1][0].ts_event
    )
    (a, seq_a), (b, seq_b) = trades[i], trades[i + 1]
    trades[i] = (dataclasses.replace(a, ts_event=b.ts_event), seq_a)
    trades[i + 1] = (dataclasses.replace(b, ts_event=a.ts_event), seq_b)
    (issue,) = _replay(FeedMonitor(BTC), trades)
    assert (issue.kind, issue.ts_event, issue.gap_ns) == (
        K.OUT_OF_ORDER,
        a.ts_event,
        a.ts_event - b.ts_event,
    )


def test_a_repeated_trade_is_one_duplicate() -> None:
    trades = _tardis_trades()
    trades.insert(FAULT_AT + 10, trades[FAULT_AT])  # arrives again ten trades later
    (issue,) = _replay(FeedMonitor(BTC), trades)
    assert (issue.kind, issue.trade_id) == (K.DUPLICATE, trades[FAULT_AT][0].trade_id)


def test_one_price_times_1_05_is_one_price_spike() -> None:
    trades = _tardis_trades()
    tick, sequence = trades[FAULT_AT]
    trades[FAULT_AT] = (dataclasses.replace(tick, price=tick.price * Decimal("1.05")), sequence)
    (issue,) = _replay(FeedMonitor(BTC), trades)
    assert (issue.kind, issue.price, issue.ts_event) == (
        K.PRICE_SPIKE,
        tick.price * Decimal("1.05"),
        tick.ts_event,
    )
    assert issue.reference_price is not None
    # The median of the 50 trades before is within 20 bps of the price before the fault.
    assert abs(issue.reference_price - tick.price) * 10_000 < 20 * tick.price


def test_a_ten_minute_silence_is_one_time_gap() -> None:
    trades = _tardis_trades()
    step = trades[FAULT_AT][0].ts_event - trades[FAULT_AT - 1][0].ts_event
    trades[FAULT_AT:] = [(_shifted(t, TEN_MINUTES), s) for t, s in trades[FAULT_AT:]]
    (issue,) = _replay(FeedMonitor(BTC), trades)
    assert (issue.kind, issue.gap_ns) == (K.TIME_GAP, step + TEN_MINUTES)


def test_a_ten_minute_silence_replayed_with_a_clock_is_stale_then_recovered_once() -> None:
    trades = _tardis_trades()
    trades[FAULT_AT:] = [(_shifted(t, TEN_MINUTES), s) for t, s in trades[FAULT_AT:]]
    issues = _replay(FeedMonitor(BTC), trades, with_clock=True)
    assert [i.kind for i in issues] == [K.STALE_FEED, K.FEED_RECOVERED, K.TIME_GAP]
    stale, recovered, _ = issues
    silence = trades[FAULT_AT][0].ts_init - trades[FAULT_AT - 1][0].ts_init
    assert stale.gap_ns == recovered.gap_ns == silence


# --- one fault in a copy of the real quotes -----------------------------------------------


def _cross(q: QuoteTick) -> QuoteTick:
    return dataclasses.replace(q, bid_price=q.ask_price, ask_price=q.bid_price)


def _lock(q: QuoteTick) -> QuoteTick:
    return dataclasses.replace(q, ask_price=q.bid_price)


def _spike(q: QuoteTick) -> QuoteTick:
    factor = Decimal("1.05")
    return dataclasses.replace(q, bid_price=q.bid_price * factor, ask_price=q.ask_price * factor)


def _drop(quotes: list[Quote]) -> int:
    del quotes[FAULT_AT]
    return FAULT_AT


def _swap_times(quotes: list[Quote]) -> int:
    (a, seq_a), (b, seq_b) = quotes[FAULT_AT], quotes[FAULT_AT + 1]
    quotes[FAULT_AT] = (dataclasses.replace(a, ts_event=b.ts_event, ts_init=b.ts_init), seq_a)
    quotes[FAULT_AT + 1] = (dataclasses.replace(b, ts_event=a.ts_event, ts_init=a.ts_init), seq_b)
    return FAULT_AT + 1


def _silence(quotes: list[Quote]) -> int:
    quotes[FAULT_AT:] = [(_shifted(q, TEN_MINUTES), s) for q, s in quotes[FAULT_AT:]]
    return FAULT_AT


def _change(change: Callable[[QuoteTick], QuoteTick]) -> Callable[[list[Quote]], int]:
    def apply(quotes: list[Quote]) -> int:
        tick, sequence = quotes[FAULT_AT]
        quotes[FAULT_AT] = (change(tick), sequence)
        return FAULT_AT

    return apply


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (_drop, K.SEQUENCE_GAP),
        (_swap_times, K.OUT_OF_ORDER),
        (_silence, K.TIME_GAP),
        (_change(_cross), K.CROSSED_QUOTE),
        (_change(_lock), K.LOCKED_QUOTE),
        (_change(_spike), K.PRICE_SPIKE),
    ],
    ids=["dropped", "swapped-times", "silence", "crossed", "locked", "spike"],
)
def test_one_fault_in_real_quotes_is_found_exactly_once(
    fault: Callable[[list[Quote]], int], kind: QualityIssueKind
) -> None:
    # EUR/USD pauses up to 86s, so allow two minutes: the clean file then has no issue.
    config = QualityConfig(max_gap_ns=120 * S, stale_after_ns=120 * S)
    quotes = _histdata_quotes()
    assert _replay(FeedMonitor(EURUSD, config), quotes, with_clock=True) == []
    at = fault(quotes)
    issues = _replay(FeedMonitor(EURUSD, config), quotes)
    assert [(i.kind, i.ts_event) for i in issues] == [(kind, quotes[at][0].ts_event)]
