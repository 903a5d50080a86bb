"""The backtest report: result.json's content and the self-contained HTML page."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from foxtrot.backtest.report import render_html, result_to_json, write_result
from foxtrot.backtest.report_html import MAX_ROWS
from foxtrot.backtest.report_plots import thin
from foxtrot.core.accounts import Balance
from foxtrot.core.backtest.result import BacktestResult, EquityCurve, StrategyOutcome
from foxtrot.core.backtest.statistics import DAY_NS, compute_statistics
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderType
from foxtrot.core.events import (
    OrderAccepted,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
)
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
SID = StrategyId("sma-1")
HOSTILE = '<script>alert("x")</script> & co'


def spec(cid: str, side: OrderSide = OrderSide.BUY, price: str | None = None) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(cid),
        strategy_id=SID,
        account_id=AccountId("SIM-001"),
        instrument_id=BTC,
        side=side,
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        quantity=D("0.5"),
        price=D(price) if price else None,
    )


def filled_order(cid: str, side: OrderSide, px: str, ts: int) -> tuple[Order, OrderFilled]:
    order = Order(spec(cid, side))
    order.apply(OrderSubmitted(**order.spec.event_fields(ts)))
    order.apply(
        OrderAccepted(**order.spec.event_fields(ts), venue_order_id=VenueOrderId(f"V{cid}"))
    )
    fill = OrderFilled(
        **order.spec.event_fields(ts + 5),
        venue_order_id=VenueOrderId(f"V{cid}"),
        trade_id=TradeId(f"T{cid}"),
        side=side,
        last_qty=D("0.5"),
        last_px=D(px),
        commission=D("0.05"),
        commission_currency="USDT",
        liquidity_side=LiquiditySide.TAKER,
    )
    order.apply(fill)
    return order, fill


def denied_order(cid: str, reason: str, ts: int) -> Order:
    order = Order(spec(cid, price="99.5"))
    order.apply(
        OrderDenied(
            client_order_id=ClientOrderId(cid),
            strategy_id=SID,
            instrument_id=BTC,
            ts_event=ts,
            reason_code="MAX_NOTIONAL",
            reason=reason,
        )
    )
    return order


def make_result(
    points: int = 10, *, extra_orders: int = 0, fault: str | None = None
) -> BacktestResult:
    ts = np.arange(points, dtype=np.int64) * (DAY_NS // 4)
    equity = 1_000.0 + 50.0 * np.sin(np.arange(points) / 3.0)
    gross = np.where(np.arange(points) % 2 == 0, 100.0, 0.0)
    buy, buy_fill = filled_order("O-1", OrderSide.BUY, "100.5", int(ts[1]))
    sell, sell_fill = filled_order("O-2", OrderSide.SELL, "104", int(ts[3]))
    orders = [buy, sell, denied_order("O-3", "notional 5000 > limit <1000>", int(ts[4]))]
    orders += [denied_order(f"X-{i}", "too many", int(ts[5])) for i in range(extra_orders)]
    position = Position(SID, BTC)
    position.apply_fill(OrderSide.BUY, D("0.5"), D("100.5"), D("0.05"), int(ts[1]))
    position.apply_fill(OrderSide.SELL, D("0.5"), D("104"), D("0.05"), int(ts[3]))
    return BacktestResult(
        strategies=[
            StrategyOutcome(
                strategy_id=str(SID),
                strategy_class="foxtrot.core.strategies.sma_cross:SmaCross",
                config={"fast": 10, "slow": 30, "size": "0.5", "note": HOSTILE},
                state="FAULTED" if fault else "STOPPED",
                fault=fault,
                saved_state=None if fault else {"bars": 10},
            )
        ],
        orders=orders,
        fills=[buy_fill, sell_fill],
        positions=[position],
        balances=[Balance("USDT", D("1001.65")), Balance("BTC", D(0))],
        equity=EquityCurve(ts, equity, gross),
        settlement_currency="USDT",
        starting_equity=D(1000),
        records=points,
        start_ns=int(ts[0]),
        end_ns=int(ts[-1]),
        settings={"venue": {"taker_fee": D("0.001")}, "label": HOSTILE},
    )


# --- result.json ----------------------------------------------------------------------------


def test_result_json_round_trips_through_json_dumps() -> None:
    result = make_result()
    document = result_to_json(result, compute_statistics(result))

    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["settings"] == {"venue": {"taker_fee": "0.001"}, "label": HOSTILE}
    assert document["statistics"]["fills"] == 2
    assert document["run"]["starting_equity"] == "1000"


def test_every_order_is_listed_with_its_outcome_and_a_denied_one_with_its_reason() -> None:
    result = make_result()
    orders = result_to_json(result, compute_statistics(result))["orders"]

    assert [o["client_order_id"] for o in orders] == ["O-1", "O-2", "O-3"]
    expected = {
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.5",
        "price": None,
        "status": "FILLED",
        "filled_qty": "0.5",
        "avg_px": "100.5",
        "reason": None,
        "ts_first_event": int(result.equity.ts[1]),
        "ts_last_event": int(result.equity.ts[1]) + 5,
    }
    assert {key: orders[0][key] for key in expected} == expected
    assert orders[2]["status"] == "DENIED"
    assert (orders[2]["reason_code"], orders[2]["reason"]) == (
        "MAX_NOTIONAL",
        "notional 5000 > limit <1000>",
    )
    assert orders[2]["price"] == "99.5"
    assert orders[2]["first_event"] == "1970-01-02T00:00:00Z"  # ts[4] is one day in


def test_fills_trades_and_positions_keep_decimals_exact_as_strings() -> None:
    result = make_result()
    document = result_to_json(result, compute_statistics(result))

    assert [(f["side"], f["last_px"], f["commission"]) for f in document["fills"]] == [
        ("BUY", "100.5", "0.05"),
        ("SELL", "104", "0.05"),
    ]
    # (104 - 100.5) x 0.5 = 1.75, less 0.1 commission.
    assert [t["pnl"] for t in document["trades"]] == ["1.65"]
    assert document["positions"][0]["realized_pnl"] == "1.75"
    assert document["balances"][0] == {
        "currency": "USDT",
        "total": "1001.65",
        "locked": "0",
        "free": "1001.65",
    }


def test_long_equity_curve_is_thinned_for_json_but_keeps_its_deepest_drawdown() -> None:
    result = make_result(points=20_000)
    statistics = compute_statistics(result)
    thinned = result_to_json(result, statistics)["equity"]
    full = result_to_json(result, statistics, full=True)["equity"]

    assert thinned["points"] == full["points"] == 20_000
    assert thinned["thinned"] is True
    assert len(thinned["ts"]) <= 5_000
    assert len(full["ts"]) == 20_000
    assert max(thinned["drawdown"]) == pytest.approx(statistics.max_drawdown)
    assert max(thinned["equity"]) == max(full["equity"])
    assert (thinned["ts"][0], thinned["ts"][-1]) == (full["ts"][0], full["ts"][-1])


def test_thin_keeps_everything_when_short_and_the_extremes_when_long() -> None:
    values = np.zeros(1_000)
    values[537], values[538] = 9.0, -9.0

    assert len(thin(10, 100, np.arange(10.0))) == 10
    kept = thin(1_000, 50, values)
    assert len(kept) <= 50
    assert {0, 537, 538, 999} <= set(kept.tolist())


# --- report.html ----------------------------------------------------------------------------


def test_page_has_three_inline_svg_charts_and_the_statistics() -> None:
    result = make_result()
    statistics = compute_statistics(result)
    prices = (result.equity.ts, np.linspace(100.0, 105.0, len(result.equity)))
    page = render_html(result, statistics, prices)

    assert page.count("<svg") == 3
    assert "<?xml" not in page
    assert "Sharpe ratio" in page
    assert "Max drawdown" in page
    assert f"{statistics.max_drawdown * 100:,.2f}%" in page
    assert "Trades on price" in page
    assert "buy (1)" in page


def test_page_needs_nothing_from_the_network() -> None:
    result = make_result()
    page = render_html(result, compute_statistics(result))

    assert "<script" not in page
    assert "<link" not in page
    assert 'src="http' not in page
    assert "@import" not in page


def test_text_from_the_run_is_escaped() -> None:
    result = make_result(fault=f"ValueError: {HOSTILE}")
    page = render_html(result, compute_statistics(result))

    assert "Strategy faults" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page
    assert "notional 5000 &gt; limit &lt;1000&gt;" in page


def test_long_order_table_is_capped_and_says_how_many_more() -> None:
    result = make_result(extra_orders=MAX_ROWS)
    page = render_html(result, compute_statistics(result))

    assert "3 more orders (all are in result.json)" in page


def test_run_without_records_or_fills_still_draws_three_charts() -> None:
    empty = BacktestResult(
        strategies=[],
        orders=[],
        fills=[],
        positions=[],
        balances=[],
        equity=EquityCurve(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), np.empty(0)),
        settlement_currency="USDT",
        starting_equity=D(1000),
        records=0,
        start_ns=0,
        end_ns=0,
    )
    statistics = compute_statistics(empty)
    page = render_html(empty, statistics)

    assert page.count("<svg") == 3
    assert "Fills (no price series)" in page
    json.dumps(result_to_json(empty, statistics), allow_nan=False)


def test_write_result_writes_the_json_and_the_page_into_a_new_directory(tmp_path: Path) -> None:
    result = make_result()
    json_path, html_path = write_result(result, compute_statistics(result), tmp_path / "run-1")

    assert (json_path.name, html_path.name) == ("result.json", "report.html")
    assert json.loads(json_path.read_text(encoding="utf-8"))["fills"][0]["trade_id"] == "TO-1"
    assert html_path.read_text(encoding="utf-8").count("<svg") == 3
