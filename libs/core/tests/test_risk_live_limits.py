"""Live limits worked by hand: PnL per scope from fills and marks, today's PnL from the
value at midnight, drawdown from the peak, and each limit breached once a day."""

from __future__ import annotations

from decimal import Decimal

from foxtrot.core.enums import OrderSide, RiskScope, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.risk import SWITCHABLE, Breach, LiveLimits, RiskBook, RiskLimits, ScopePnl

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
ACCOUNT = AccountId("BINANCE-001")
S1, S2 = StrategyId("s1"), StrategyId("s2")
DAY = 86_400 * 1_000_000_000
MIDNIGHT = 19_675 * DAY  # 2023-11-15 00:00 UTC
MINUTE = 60 * 1_000_000_000
SCOPES = [
    (RiskScope.ACCOUNT, "BINANCE-001"),
    (RiskScope.STRATEGY, "s1"),
    (RiskScope.INSTRUMENT, "BTCUSDT.BINANCE"),
]


def make_live(**limits: str) -> LiveLimits:
    book = RiskBook(RiskLimits.from_values(limits, SWITCHABLE), ACCOUNT)
    return LiveLimits(book)


def fill(live: LiveLimits, side: str, qty: str, price: str, fee: str, ts: int) -> list[Breach]:
    live.book.prices[BTC] = D(price)
    live.book.on_fill(ClientOrderId("o-1"), S1, BTC, OrderSide(side), D(qty), D(price), D(fee), ts)
    return live.update(live.scopes_of_fill(S1, BTC), ts)


def mark(live: LiveLimits, price: str, ts: int) -> list[Breach]:
    live.book.prices[BTC] = D(price)
    return live.update(live.scopes_of_price(BTC), ts)


def figures(pnl: ScopePnl) -> tuple[Decimal, ...]:
    return pnl.realized, pnl.unrealized, pnl.total, pnl.day_pnl, pnl.drawdown


def ds(*values: int) -> tuple[Decimal, ...]:
    return tuple(D(v) for v in values)


def test_pnl_of_fills_and_marks_worked_by_hand() -> None:
    live = make_live()
    assert live.update(SCOPES, MIDNIGHT + MINUTE) == []  # risk starts: nothing held, 0
    fill(live, "BUY", "2", "40000", "8", MIDNIGHT + 2 * MINUTE)
    # realized: -8 of fees; unrealized: 2 x (40000 - 40000) = 0
    for scope in SCOPES:
        assert figures(live.scopes[scope]) == ds(-8, 0, -8, -8, 8)
    mark(live, "41000", MIDNIGHT + 3 * MINUTE)
    # unrealized: 2 x (41000 - 40000) = 2000; total 1992, a new peak
    assert figures(live.scopes[SCOPES[1]]) == ds(-8, 2000, 1992, 1992, 0)
    fill(live, "SELL", "1", "42000", "4", MIDNIGHT + 4 * MINUTE)
    # realized: 1 x (42000 - 40000) - 12 of fees = 1988; unrealized: 1 x 2000; peak 3988
    assert figures(live.scopes[SCOPES[1]]) == ds(1988, 2000, 3988, 3988, 0)
    mark(live, "39000", MIDNIGHT + 5 * MINUTE)
    # unrealized: 1 x (39000 - 40000) = -1000; total 988; down 3000 from the peak
    pnl = live.scopes[SCOPES[0]]
    assert figures(pnl) == ds(1988, -1000, 988, 988, 3000)
    assert (pnl.peak, pnl.gross, pnl.net) == ds(3988, 39000, 39000)


def test_scopes_of_a_price_are_those_holding_the_instrument() -> None:
    live = make_live()
    assert live.scopes_of_price(BTC) == []
    fill(live, "BUY", "1", "40000", "0", MIDNIGHT)
    assert sorted(live.scopes_of_price(BTC)) == sorted(SCOPES)
    fill(live, "SELL", "1", "40000", "0", MIDNIGHT)
    assert live.scopes_of_price(BTC) == []


def test_strategy_scope_counts_only_its_own_positions() -> None:
    live = make_live()
    fill(live, "BUY", "1", "40000", "0", MIDNIGHT)
    live.book.on_fill(ClientOrderId("o-2"), S2, BTC, OrderSide.SELL, D(3), D(40000), D(0), 0)
    live.book.prices[BTC] = D(41000)
    live.update([*SCOPES, (RiskScope.STRATEGY, "s2")], MIDNIGHT)
    assert live.scopes[(RiskScope.STRATEGY, "s1")].total == 1000
    assert live.scopes[(RiskScope.STRATEGY, "s2")].total == -3000
    assert live.scopes[(RiskScope.INSTRUMENT, str(BTC))].total == -2000
    assert live.scopes[(RiskScope.ACCOUNT, ACCOUNT)].net == -2 * 41000


def test_drawdown_breach_fires_once_with_its_value_and_action() -> None:
    live = make_live(max_drawdown="2500", breach_action="REDUCING")
    live.update(SCOPES, MIDNIGHT)
    fill(live, "BUY", "1", "40000", "0", MIDNIGHT + MINUTE)
    assert mark(live, "42000", MIDNIGHT + 2 * MINUTE) == []  # peak 2000
    assert mark(live, "39600", MIDNIGHT + 3 * MINUTE) == []  # down 2400
    breaches = mark(live, "39500", MIDNIGHT + 4 * MINUTE)  # down 2500
    assert sorted(breaches, key=lambda b: b.scope) == [
        Breach(scope, key, "max_drawdown", D(2500), D(2500), TradingState.REDUCING)
        for scope, key in sorted(SCOPES)
    ]
    assert mark(live, "39000", MIDNIGHT + 5 * MINUTE) == []  # breached already today


def test_daily_loss_breach_fires_once_with_its_value_and_action() -> None:
    live = make_live(daily_loss_limit="1500")
    live.update(SCOPES, MIDNIGHT)
    fill(live, "BUY", "1", "40000", "10", MIDNIGHT + MINUTE)  # -10
    assert mark(live, "38511", MIDNIGHT + 2 * MINUTE) == []  # -1489 - 10 of fees
    breaches = mark(live, "38500", MIDNIGHT + 3 * MINUTE)  # -1510
    assert {(b.limit, b.value, b.threshold, b.action) for b in breaches} == {
        ("daily_loss_limit", D(1510), D(1500), TradingState.HALTED)
    }
    assert len(breaches) == 3  # account, strategy and instrument
    assert mark(live, "38000", MIDNIGHT + 4 * MINUTE) == []


def test_a_new_utc_day_counts_from_the_value_at_midnight() -> None:
    live = make_live(daily_loss_limit="1500", max_drawdown="2500")
    live.update(SCOPES, MIDNIGHT)
    fill(live, "BUY", "1", "40000", "0", MIDNIGHT + MINUTE)
    mark(live, "43000", MIDNIGHT + 2 * MINUTE)  # peak 3000
    breaches = mark(live, "40000", MIDNIGHT + 3 * MINUTE)  # today +0, down 3000
    assert {b.limit for b in breaches} == {"max_drawdown"}
    # After midnight: down 500 on the day, 3500 from the peak, and the drawdown limit
    # (breached yesterday) may breach again today.
    breaches = mark(live, "39500", MIDNIGHT + DAY + MINUTE)
    pnl = live.scopes[SCOPES[1]]
    assert (pnl.day_start, pnl.day_pnl, pnl.drawdown) == ds(0, -500, 3500)
    assert {(b.limit, b.value) for b in breaches} == {("max_drawdown", D(3500))}
    breaches = mark(live, "38500", MIDNIGHT + DAY + 2 * MINUTE)  # down 1500 today
    assert {(b.limit, b.value) for b in breaches} == {("daily_loss_limit", D(1500))}


def test_a_scope_first_seen_today_counts_from_then() -> None:
    live = make_live(daily_loss_limit="1500")
    live.book.on_fill(ClientOrderId("o-1"), S1, BTC, OrderSide.BUY, D(1), D(40000), D(0), 0)
    live.book.prices[BTC] = D(38000)  # risk starts with a loss of 2000 from before today
    assert live.update(SCOPES, MIDNIGHT + MINUTE) == []
    pnl = live.scopes[SCOPES[0]]
    assert (pnl.total, pnl.day_pnl) == ds(-2000, 0)
