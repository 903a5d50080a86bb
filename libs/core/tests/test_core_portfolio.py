"""Netting positions: average entry price, realised and unrealised PnL, commissions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from foxtrot.core.enums import OrderSide, PositionSide
from foxtrot.core.identifiers import InstrumentId, StrategyId
from foxtrot.core.portfolio import Position, PositionChange

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


def new_position() -> Position:
    return Position(StrategyId("s1"), InstrumentId("BTCUSDT", "BINANCE"))


def test_hand_worked_round_trip_through_long_short_and_flat() -> None:
    pos = new_position()

    # 1. Buy 2 @ 100 from flat: long 2, average 100.
    assert pos.apply_fill(BUY, D(2), D(100), D(0), ts=1) is PositionChange.OPENED
    assert (pos.quantity, pos.avg_px_open, pos.realized_pnl) == (D(2), D(100), D(0))
    assert pos.ts_opened == 1

    # 2. Buy 1 @ 103: long 3, average (2 x 100 + 1 x 103) / 3 = 303 / 3 = 101.
    assert pos.apply_fill(BUY, D(1), D(103), D(0), ts=2) is PositionChange.CHANGED
    assert (pos.quantity, pos.avg_px_open, pos.realized_pnl) == (D(3), D(101), D(0))

    # 3. Sell 2 @ 105: closes 2 of 3 at (105 - 101) x 2 = +8; 1 left, average still 101.
    assert pos.apply_fill(SELL, D(2), D(105), D(0), ts=3) is PositionChange.CHANGED
    assert (pos.quantity, pos.avg_px_open, pos.realized_pnl) == (D(1), D(101), D(8))

    # 4. Sell 3 @ 99: closes the last 1 at (99 - 101) x 1 = -2, realised now 8 - 2 = 6,
    #    and the other 2 open a short at 99. One fill through zero reports CHANGED.
    assert pos.apply_fill(SELL, D(3), D(99), D(0), ts=4) is PositionChange.CHANGED
    assert (pos.quantity, pos.avg_px_open, pos.realized_pnl) == (D(-2), D(99), D(6))
    assert pos.side is PositionSide.SHORT
    assert pos.ts_opened == 4  # the short was opened by this fill

    # Marked at 98 the short 2 @ 99 is up (98 - 99) x -2 = +2; at 101 down (101 - 99) x -2 = -4.
    assert pos.unrealized_pnl(D(98)) == D(2)
    assert pos.unrealized_pnl(D(101)) == D(-4)

    # 5. Buy 2 @ 97: closes the short at (97 - 99) x 2 x -1 = +4, realised 6 + 4 = 10, flat.
    assert pos.apply_fill(BUY, D(2), D(97), D(0), ts=5) is PositionChange.CLOSED
    assert (pos.quantity, pos.avg_px_open, pos.realized_pnl, pos.side) == (
        D(0),
        D(0),
        D(10),
        PositionSide.FLAT,
    )
    assert pos.unrealized_pnl(D(12345)) == D(0)
    assert pos.ts_last == 5


def test_unrealized_pnl_of_a_long_is_mark_minus_entry_times_quantity() -> None:
    pos = new_position()
    pos.apply_fill(BUY, D(3), D(101), D(0), ts=1)
    assert pos.unrealized_pnl(D("104.5")) == D("10.5")
    assert pos.unrealized_pnl(D(100)) == D(-3)


def test_short_opened_from_flat_books_its_entry_and_profits_when_price_falls() -> None:
    pos = new_position()
    assert pos.apply_fill(SELL, D("0.5"), D(200), D(0), ts=7) is PositionChange.OPENED
    assert (pos.quantity, pos.avg_px_open, pos.side) == (D("-0.5"), D(200), PositionSide.SHORT)
    assert pos.apply_fill(BUY, D("0.5"), D(180), D(0), ts=8) is PositionChange.CLOSED
    assert pos.realized_pnl == D(10)


def test_commissions_accumulate_apart_from_realized_pnl() -> None:
    pos = new_position()
    pos.apply_fill(BUY, D(1), D(100), D("0.04"), ts=1)
    pos.apply_fill(SELL, D(1), D(110), D("0.044"), ts=2)
    assert pos.commissions == D("0.084")
    assert pos.realized_pnl == D(10)  # not 10 - 0.084


def test_reopening_after_flat_is_opened_again_with_a_fresh_entry_price() -> None:
    pos = new_position()
    pos.apply_fill(BUY, D(1), D(100), D(0), ts=1)
    pos.apply_fill(SELL, D(1), D(100), D(0), ts=2)
    assert pos.apply_fill(BUY, D(2), D(50), D(0), ts=3) is PositionChange.OPENED
    assert (pos.avg_px_open, pos.ts_opened) == (D(50), 3)


def test_partial_reduction_keeps_the_entry_price_and_open_time() -> None:
    pos = new_position()
    pos.apply_fill(SELL, D(4), D(100), D(0), ts=1)
    assert pos.apply_fill(BUY, D(1), D(90), D(0), ts=2) is PositionChange.CHANGED
    assert (pos.quantity, pos.avg_px_open, pos.ts_opened) == (D(-3), D(100), 1)
    assert pos.realized_pnl == D(10)


@pytest.mark.parametrize(
    ("quantity", "side"),
    [(D("0.001"), PositionSide.LONG), (D("-0.001"), PositionSide.SHORT), (D(0), PositionSide.FLAT)],
)
def test_side_follows_the_sign_of_the_quantity(quantity: Decimal, side: PositionSide) -> None:
    pos = new_position()
    pos.quantity = quantity
    assert pos.side is side


def test_position_change_values_are_the_wire_names() -> None:
    assert [c.value for c in PositionChange] == ["OPENED", "CHANGED", "CLOSED"]


def test_average_entry_and_realized_pnl_stay_exact_over_many_fills() -> None:
    # Entry notional 26.62 + 58 + 3.43 + 7.4825 = 95.5325 over 3.5 = 27.295 exactly;
    # closing all 3.5 at 30 realises (30 - 27.295) x 3.5 = 9.4675 exactly.
    pos = new_position()
    for qty, px in [("0.5", "53.24"), ("2.5", "23.2"), ("0.25", "13.72"), ("0.25", "29.93")]:
        pos.apply_fill(BUY, D(qty), D(px), D(0), ts=1)
    pos.apply_fill(SELL, D("3.5"), D(30), D(0), ts=2)
    assert pos.realized_pnl == D("9.4675")
