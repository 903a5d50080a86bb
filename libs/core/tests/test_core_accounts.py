"""Cash accounts per currency, checked by hand together with the position they fund."""

from __future__ import annotations

from decimal import Decimal

from foxtrot.core.accounts import Balance, CashAccount, Legs
from foxtrot.core.data import QuoteTick
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from foxtrot.core.events import OrderFilled
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
)
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.venue import SimulatedVenue

D = Decimal
BTCUSDT = InstrumentId("BTCUSDT", "BINANCE")
LEGS = Legs("BTC", "USDT")
STRATEGY = StrategyId("s1")


def fill(
    n: int, side: OrderSide, qty: str, px: str, fee: str, fee_currency: str = "USDT"
) -> OrderFilled:
    return OrderFilled(
        client_order_id=ClientOrderId(f"o-{n}"),
        strategy_id=STRATEGY,
        instrument_id=BTCUSDT,
        ts_event=n,
        venue_order_id=None,
        trade_id=TradeId(f"t-{n}"),
        side=side,
        last_qty=D(qty),
        last_px=D(px),
        commission=D(fee),
        commission_currency=fee_currency,
        liquidity_side=LiquiditySide.TAKER,
    )


def book(account: CashAccount, position: Position, event: OrderFilled) -> dict[str, Decimal]:
    position.apply_fill(event.side, event.last_qty, event.last_px, event.commission, event.ts_event)
    return account.apply_fill(event, LEGS)


def test_hand_worked_pnl_balances_and_commissions_of_a_spot_round_trip() -> None:
    account = CashAccount("acc", {"USDT": D(10_000), "BNB": D(1)})
    position = Position(STRATEGY, BTCUSDT)

    # 1. Buy 2 @ 100, fee 0.2 USDT: BTC 0 + 2 = 2; USDT 10,000 - 200 - 0.2 = 9,799.8.
    assert book(account, position, fill(1, OrderSide.BUY, "2", "100", "0.2")) == {
        "BTC": D(2),
        "USDT": D("-200.2"),
    }
    assert account.totals == {"USDT": D("9799.8"), "BNB": D(1), "BTC": D(2)}

    # 2. Buy 1 @ 106, fee 0.106: BTC 3; USDT 9,799.8 - 106 - 0.106 = 9,693.694.
    #    Average entry (2 x 100 + 1 x 106) / 3 = 306 / 3 = 102.
    book(account, position, fill(2, OrderSide.BUY, "1", "106", "0.106"))
    assert account.totals["USDT"] == D("9693.694")
    assert (position.quantity, position.avg_px_open) == (D(3), D(102))

    # 3. Marked at 104 the open 3 are worth (104 - 102) x 3 = +6, nothing realised yet.
    assert position.unrealized_pnl(D(104)) == D(6)
    assert position.realized_pnl == 0

    # 4. Sell 2 @ 110, fee 0.22: realised (110 - 102) x 2 = +16; BTC 1;
    #    USDT 9,693.694 + 220 - 0.22 = 9,913.474. The last 1 is still at 102.
    book(account, position, fill(3, OrderSide.SELL, "2", "110", "0.22"))
    assert (position.quantity, position.avg_px_open, position.realized_pnl) == (D(1), D(102), D(16))
    assert account.totals["USDT"] == D("9913.474")
    assert position.unrealized_pnl(D(99)) == D(-3)

    # 5. Sell 1 @ 100 with the fee paid in BNB (0.001): realised (100 - 102) x 1 = -2, total
    #    +14; BTC 0; USDT 9,913.474 + 100 = 10,013.474; BNB 1 - 0.001 = 0.999.
    book(account, position, fill(4, OrderSide.SELL, "1", "100", "0.001", "BNB"))
    assert (position.quantity, position.realized_pnl) == (D(0), D(14))
    assert account.totals == {"USDT": D("10013.474"), "BNB": D("0.999"), "BTC": D(0)}

    # The cash made in the quote currency is the realised PnL less the quote commissions:
    # 14 - (0.2 + 0.106 + 0.22) = 13.474 = 10,013.474 - 10,000.
    assert account.totals["USDT"] - D(10_000) == position.realized_pnl - D("0.526")
    assert position.commissions == D("0.2") + D("0.106") + D("0.22") + D("0.001")


def spec(cid: str, side: OrderSide, qty: str, price: str | None) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(cid),
        strategy_id=STRATEGY,
        account_id=AccountId("acc"),
        instrument_id=BTCUSDT,
        side=side,
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        quantity=D(qty),
        price=D(price) if price else None,
    )


def test_open_orders_lock_what_they_could_spend_and_release_it_as_they_fill_or_cancel() -> None:
    instrument = Instrument(BTCUSDT, "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"))
    engine = ExecutionEngine(SimulatedVenue("BINANCE", "USDT", instruments=[instrument]))
    account = CashAccount("acc", {"USDT": D(10_000), "BTC": D(3)})

    def hold_all() -> bool:
        changed = False
        for order in engine.orders.values():
            changed |= account.hold(order, LEGS, engine.venue.last_price(BTCUSDT))
        return changed

    engine.submit(spec("buy", OrderSide.BUY, "0.5", "95"), ts=1)
    engine.submit(spec("sell", OrderSide.SELL, "1", "120"), ts=1)
    assert hold_all()
    # A buy holds back its quote at its limit (0.5 x 95), a sell its base quantity.
    assert account.balances() == [Balance("BTC", D(3), D(1)), Balance("USDT", D(10_000), D("47.5"))]
    assert account.balances()[1].free == D("9952.5")
    assert not hold_all()  # nothing moved, nothing to report

    # Asks come down to 95 for 0.2: the buy fills 0.2 and now holds 0.3 x 95 = 28.5.
    for event in engine.on_quote(QuoteTick(BTCUSDT, D(94), D(95), D(1), D("0.2"), 2, 2)):
        if isinstance(event, OrderFilled):
            account.apply_fill(event, LEGS)
    assert hold_all()
    assert engine.orders[ClientOrderId("buy")].status is OrderStatus.PARTIALLY_FILLED
    assert account.locked == {"BTC": D(1), "USDT": D("28.5")}
    # 0.2 x 95 = 19 spent, plus the maker fee 19 x 0.0002 = 0.0038.
    assert account.totals == {"USDT": D("9980.9962"), "BTC": D("3.2")}

    # Canceling the sell frees its bitcoin.
    engine.cancel(ClientOrderId("sell"), ts=3)
    assert hold_all()
    assert account.locked == {"USDT": D("28.5")}
