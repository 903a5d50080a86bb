"""Backtest statistics, checked against small hand-computed cases."""

from __future__ import annotations

import json
import math
import statistics as stdlib_statistics
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest

from foxtrot.core.backtest.result import BacktestResult, EquityCurve
from foxtrot.core.backtest.statistics import (
    DAY_NS,
    RoundTrip,
    Statistics,
    compute_statistics,
    drawdown,
    round_trips,
)
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderType, PositionSide
from foxtrot.core.events import OrderFilled
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
)
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order

D = Decimal
HOUR_NS = 3_600 * 1_000_000_000
BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def fill(
    side: OrderSide,
    qty: str,
    px: str,
    *,
    commission: str = "0",
    ts: int = 0,
    instrument: InstrumentId = BTC,
    strategy: str = "s1",
) -> OrderFilled:
    return OrderFilled(
        client_order_id=ClientOrderId(f"O-{ts}-{side}"),
        strategy_id=StrategyId(strategy),
        instrument_id=instrument,
        ts_event=ts,
        venue_order_id=None,
        trade_id=TradeId(f"T-{ts}"),
        side=side,
        last_qty=D(qty),
        last_px=D(px),
        commission=D(commission),
        commission_currency="USDT",
        liquidity_side=LiquiditySide.TAKER,
    )


def order(cid: str) -> Order:
    return Order(
        OrderSpec(
            client_order_id=ClientOrderId(cid),
            strategy_id=StrategyId("s1"),
            account_id=AccountId("SIM-001"),
            instrument_id=BTC,
            side=BUY,
            order_type=OrderType.MARKET,
            quantity=D(1),
        )
    )


def result(
    ts: Sequence[int],
    equity: Sequence[float],
    *,
    gross: Sequence[float] | None = None,
    fills: Sequence[OrderFilled] = (),
    orders: Sequence[Order] = (),
    starting: str = "100",
) -> BacktestResult:
    curve = EquityCurve(
        np.asarray(ts, dtype=np.int64),
        np.asarray(equity, dtype=np.float64),
        np.asarray(gross if gross is not None else [0.0] * len(ts), dtype=np.float64),
    )
    return BacktestResult(
        strategies=[],
        orders=list(orders),
        fills=list(fills),
        positions=[],
        balances=[],
        equity=curve,
        settlement_currency="USDT",
        starting_equity=D(starting),
        records=len(ts),
        start_ns=int(ts[0]) if len(ts) else 0,
        end_ns=int(ts[-1]) if len(ts) else 0,
    )


# --- the equity curve -----------------------------------------------------------------------

DAILY_TS = [d * DAY_NS + 12 * HOUR_NS for d in range(6)]
DAILY_EQUITY = [100.0, 120.0, 90.0, 108.0, 120.0, 130.0]


def test_known_equity_path_has_hand_computed_drawdown_and_its_duration() -> None:
    stats = compute_statistics(result(DAILY_TS, DAILY_EQUITY))

    # Peak 120 on day 1, trough 90 on day 2: 1 - 90/120 = 25%; 120 regained on day 4.
    assert stats.max_drawdown == pytest.approx(0.25)
    assert stats.max_drawdown_start_ns == DAILY_TS[1]
    assert stats.max_drawdown_end_ns == DAILY_TS[4]
    assert stats.max_drawdown_duration_ns == 3 * DAY_NS
    assert drawdown(result(DAILY_TS, DAILY_EQUITY).equity, 100.0) == pytest.approx(
        [0.0, 0.0, 0.25, 0.1, 0.0, 0.0]
    )


def test_known_equity_path_has_hand_computed_returns_and_ratios() -> None:
    stats = compute_statistics(result(DAILY_TS, DAILY_EQUITY))

    # Daily returns from the starting 100: 0, +20%, -25%, +20%, +1/9, +1/12.
    returns = [0.0, 0.2, -0.25, 0.2, 1 / 9, 1 / 12]
    std = stdlib_statistics.stdev(returns)
    mean = stdlib_statistics.fmean(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    cagr = 1.3 ** (365 / 5) - 1
    assert stats.returns_basis == "daily"
    assert stats.return_periods == 6
    assert stats.total_return == pytest.approx(0.3)
    assert stats.net_pnl == pytest.approx(30.0)
    assert stats.ending_equity == 130.0
    assert stats.volatility == pytest.approx(std * math.sqrt(365))
    assert stats.sharpe == pytest.approx(mean / std * math.sqrt(365))
    assert stats.sortino == pytest.approx(mean / downside * math.sqrt(365))
    assert stats.annualised_return == pytest.approx(cagr)
    assert stats.calmar == pytest.approx(cagr / 0.25)


def test_risk_free_rate_is_taken_per_period_from_sharpe_and_sortino() -> None:
    stats = compute_statistics(
        result(DAILY_TS, DAILY_EQUITY), periods_per_year=252, risk_free_rate=0.0504
    )

    returns = [0.0, 0.2, -0.25, 0.2, 1 / 9, 1 / 12]
    excess = stdlib_statistics.fmean(returns) - 0.0504 / 252
    assert stats.sharpe == pytest.approx(excess / stdlib_statistics.stdev(returns) * math.sqrt(252))


def test_drawdown_not_regained_by_the_end_lasts_until_the_last_record() -> None:
    ts = [0, DAY_NS, 2 * DAY_NS, 3 * DAY_NS]
    stats = compute_statistics(result(ts, [100.0, 110.0, 99.0, 105.0]))

    assert stats.max_drawdown == pytest.approx(0.1)
    assert (stats.max_drawdown_start_ns, stats.max_drawdown_end_ns) == (DAY_NS, 3 * DAY_NS)
    assert stats.max_drawdown_duration_ns == 2 * DAY_NS


def test_falling_below_the_starting_equity_at_once_is_a_drawdown_from_the_start() -> None:
    stats = compute_statistics(result([0, DAY_NS, 2 * DAY_NS], [80.0, 90.0, 100.0]))

    assert stats.max_drawdown == pytest.approx(0.2)
    assert (stats.max_drawdown_start_ns, stats.max_drawdown_end_ns) == (0, 2 * DAY_NS)


def test_daily_returns_use_the_last_value_of_each_utc_day() -> None:
    ts = [6 * HOUR_NS, 18 * HOUR_NS, DAY_NS + 12 * HOUR_NS, 2 * DAY_NS + 12 * HOUR_NS]
    stats = compute_statistics(result(ts, [100.0, 150.0, 120.0, 132.0]))

    # Day closes 150, 120, 132 after the starting 100: +50%, -20%, +10%.
    assert stats.return_periods == 3
    assert stats.volatility == pytest.approx(
        stdlib_statistics.stdev([0.5, -0.2, 0.1]) * math.sqrt(365)
    )


def test_days_without_records_are_skipped_rather_than_counted_as_flat() -> None:
    ts = [0, DAY_NS, 4 * DAY_NS]  # days 2 and 3 (a weekend, say) have no records
    stats = compute_statistics(result(ts, [100.0, 110.0, 99.0]))

    assert stats.return_periods == 3
    assert stats.volatility == pytest.approx(
        stdlib_statistics.stdev([0.0, 0.1, -0.1]) * math.sqrt(365)
    )


def test_run_shorter_than_two_days_uses_per_record_returns_scaled_by_their_spacing() -> None:
    ts = [h * HOUR_NS for h in range(5)]
    stats = compute_statistics(result(ts, [100.0, 101.0, 100.0, 102.0, 101.0]))

    returns = [0.0, 0.01, -1 / 101, 0.02, -1 / 102]
    assert stats.returns_basis == "per_record"
    assert stats.return_periods == 5
    assert stats.volatility == pytest.approx(stdlib_statistics.stdev(returns) * math.sqrt(365 * 24))


def test_flat_equity_has_no_sharpe_or_sortino_and_no_drawdown() -> None:
    stats = compute_statistics(result(DAILY_TS, [100.0] * 6))

    assert stats.volatility == 0.0
    assert stats.sharpe is None
    assert stats.sortino is None
    assert stats.calmar is None
    assert (stats.max_drawdown, stats.max_drawdown_duration_ns) == (0.0, 0)
    assert stats.max_drawdown_start_ns is None
    assert stats.total_return == 0.0
    assert stats.annualised_return == 0.0


def test_one_record_leaves_the_time_based_statistics_undefined() -> None:
    stats = compute_statistics(result([5 * DAY_NS], [101.0]))

    assert stats.total_return == pytest.approx(0.01)
    assert stats.annualised_return is None
    assert stats.volatility is None
    assert stats.sharpe is None
    assert stats.exposure is None
    assert stats.return_periods == 1


def test_no_records_at_all_gives_the_starting_equity_and_nothing_undefined_crashes() -> None:
    stats = compute_statistics(result([], []))

    assert (stats.ending_equity, stats.net_pnl, stats.total_return) == (100.0, 0.0, 0.0)
    assert stats.volatility is None
    assert stats.max_drawdown == 0.0
    assert stats.turnover is None
    json.dumps(stats.to_dict(), allow_nan=False)


def test_exposure_is_the_time_weighted_share_of_the_run_with_an_open_position() -> None:
    ts = [0, HOUR_NS, 3 * HOUR_NS, 4 * HOUR_NS]
    stats = compute_statistics(result(ts, [100.0] * 4, gross=[0.0, 50.0, 0.0, 0.0]))

    assert stats.exposure == pytest.approx(0.5)  # held from 1h to 3h of 4h


# --- trades from the fills ------------------------------------------------------------------

TWO_TRADES = [
    fill(BUY, "2", "100", commission="0.2", ts=1),
    fill(SELL, "2", "110", commission="0.22", ts=2),
    fill(BUY, "1", "100", commission="0.1", ts=3),
    fill(SELL, "1", "95", commission="0.095", ts=4),
]


def test_two_trade_sequence_has_hand_computed_win_rate_and_profit_factor() -> None:
    stats = compute_statistics(
        result(DAILY_TS, DAILY_EQUITY, fills=TWO_TRADES, orders=[order("a"), order("b")])
    )

    # Trade 1: (110 - 100) x 2 - 0.2 - 0.22 = 19.58. Trade 2: (95 - 100) x 1 - 0.195 = -5.195.
    assert stats.trades == 2
    assert stats.win_rate == 0.5
    assert stats.gross_profit == D("19.58")
    assert stats.gross_loss == D("5.195")
    assert stats.profit_factor == pytest.approx(19.58 / 5.195)
    assert (stats.average_win, stats.average_loss) == (D("19.58"), D("-5.195"))
    assert stats.total_commissions == D("0.615")
    assert stats.traded_notional == D(615)
    assert stats.turnover == pytest.approx(615 / stdlib_statistics.fmean(DAILY_EQUITY))
    assert (stats.fills, stats.orders) == (4, 2)


def test_round_trips_are_exact_decimals_with_their_times_and_side() -> None:
    trips = round_trips(TWO_TRADES)

    assert trips == [
        RoundTrip(StrategyId("s1"), BTC, PositionSide.LONG, 1, 2, D("19.58"), D("0.42")),
        RoundTrip(StrategyId("s1"), BTC, PositionSide.LONG, 3, 4, D("-5.195"), D("0.195")),
    ]


def test_fill_through_flat_closes_one_trade_and_opens_the_other_sharing_its_commission() -> None:
    trips = round_trips(
        [
            fill(BUY, "1", "100", ts=1),
            fill(SELL, "3", "104", commission="0.3", ts=2),  # 1 closes the long, 2 go short
            fill(BUY, "2", "100", ts=3),
        ]
    )

    # Long: +4 less a third of 0.3. Short 2 from 104 bought back at 100: +8 less 0.2.
    assert [(t.side, t.pnl, t.commissions) for t in trips] == [
        (PositionSide.LONG, D("3.9"), D("0.1")),
        (PositionSide.SHORT, D("7.8"), D("0.2")),
    ]
    assert (trips[1].ts_opened, trips[1].ts_closed) == (2, 3)


def test_trades_are_kept_apart_per_strategy_and_instrument_and_open_ones_are_not_counted() -> None:
    trips = round_trips(
        [
            fill(BUY, "1", "100", ts=1),
            fill(BUY, "1", "10", ts=2, instrument=ETH),
            fill(SELL, "1", "50", ts=3, strategy="s2"),
            fill(BUY, "1", "102", ts=4),  # adds to the BTC long: same trade
            fill(SELL, "1", "12", ts=5, instrument=ETH),
            fill(SELL, "2", "103", ts=6),
        ]
    )

    assert [(t.instrument_id, t.pnl) for t in trips] == [(ETH, D(2)), (BTC, D(4))]


def test_only_winning_trades_leave_profit_factor_undefined() -> None:
    stats = compute_statistics(result(DAILY_TS, DAILY_EQUITY, fills=TWO_TRADES[:2]))

    assert (stats.trades, stats.win_rate) == (1, 1.0)
    assert stats.profit_factor is None
    assert stats.average_loss is None


def test_no_fills_means_no_trades_and_undefined_trade_ratios() -> None:
    stats = compute_statistics(result(DAILY_TS, DAILY_EQUITY))

    assert (stats.trades, stats.fills, stats.orders) == (0, 0, 0)
    assert stats.win_rate is None
    assert stats.profit_factor is None
    assert (stats.average_win, stats.average_loss) == (None, None)
    assert stats.total_commissions == 0
    assert stats.turnover == 0.0


# --- as JSON --------------------------------------------------------------------------------


def test_to_dict_gives_only_json_values_with_none_for_undefined() -> None:
    stats = compute_statistics(result(DAILY_TS, [100.0] * 6, fills=TWO_TRADES))
    values = stats.to_dict()

    assert json.loads(json.dumps(values, allow_nan=False)) == values
    assert values["sharpe"] is None
    assert values["gross_profit"] == pytest.approx(19.58)
    assert all(type(v) in (float, int, str, type(None)) for v in values.values())
    assert set(values) == set(Statistics.__dataclass_fields__)
