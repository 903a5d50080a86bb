"""Pre-trade risk in process: what the full rule set costs per order, beside a plain Python
function call and the building of the OrderSpec itself, measured in the same run.

    .venv/bin/python tests/bench/bench_risk.py [N]      # N checks, 100,000 by default

Every rule is on, with limits set so that none denies (a pass runs every rule: the worst
case), on a RiskBook holding a realistic state: six instruments priced from the real data
in ../shared/data (the price of one of them moves before every order, as market data
would), positions for eight strategies, a few hundred open orders (some approved and not
yet accepted, so their funds are reserved) and per-instrument limits. Orders are a mix of
limit, market, stop, GTD and reduce-only orders across the instruments and strategies.

Each ``check`` is timed alone with time.perf_counter_ns; ``approved`` (the bookkeeping the
service does for an approved order: open order, reservation, rate and duplicate stamps) is
timed apart and then with it. After each order the bench cancels it (untimed), so the open
orders stay at a few hundred. Then each rule is timed alone on the same order in the same
state, for whoever optimises. Exits 1 if an order is denied (the figure would not be the
full rule set), else 0: it is a report, not a test.

Target: check p99 <= 20 us.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from foxtrot.core.enums import OrderSide, OrderType, TimeInForce
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.risk import SUBMIT_RULES, SWITCHABLE, OrderCheck, RiskBook, RiskLimits
from foxtrot.core.risk.rules import fingerprint

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ACCOUNT = AccountId("BENCH-001")
STRATEGIES = tuple(StrategyId(f"strategy-{i}") for i in range(8))
OPEN_ORDERS = 300
TARGET_P99_US = 20.0
WINDOW_NS = 10_000_000
D = Decimal


@dataclass(frozen=True)
class Market:
    """One instrument and the prices its real data file gives, in file order."""

    instrument: Instrument
    prices: list[Decimal]
    quantity: Decimal  # a typical order size
    jitter: int = 999  # up to so many lots more, so that orders differ


def _rows(path: Path, skip_header: bool = True) -> Iterator[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = csv.reader(handle)
        if skip_header:
            next(rows)
        yield from rows


def _mids(bids: Iterator[list[str]], bid: int, ask: int) -> list[Decimal]:
    return [(D(r[bid]) + D(r[ask])) / 2 for r in bids]


def markets() -> list[Market]:
    """Six instruments, priced from the real files described in ../shared/data/SOURCES.md."""

    def make(symbol: str, venue: str, base: str, quote: str, tick: str, lot: str) -> Instrument:
        iid = InstrumentId(symbol, venue)
        return Instrument(iid, base, quote, D(tick), D(lot), D(lot), None, D("5"))

    return [
        Market(
            make("BTCUSDT", "BINANCE_FUTURES", "BTC", "USDT", "0.01", "0.001"),
            [
                D(r[6])
                for r in _rows(DATA / "trades/tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv")
            ],
            D("0.05"),
        ),
        Market(
            make("BTC-PERP", "FTX", "BTC", "USD", "1", "0.0001"),
            [
                D(r[4])
                for r in _rows(DATA / "bars/intraday/ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv")
            ],
            D("0.02"),
        ),
        Market(
            make("EUR/USD", "HISTDATA", "EUR", "USD", "0.00001", "1"),
            _mids(_rows(DATA / "quotes/histdata_EURUSD_ticks_2020-01.csv", False), 1, 2),
            D("10000"),
        ),
        Market(
            make("USD/JPY", "TRUEFX", "USD", "JPY", "0.001", "1"),
            _mids(_rows(DATA / "quotes/truefx_USDJPY_ticks_2013-01.csv"), 1, 2),
            D("10000"),
        ),
        Market(
            make("GBP/USD", "FXCM", "GBP", "USD", "0.00001", "1"),
            [D(r[4]) for r in _rows(DATA / "bars/intraday/fxcm_GBPUSD_1m_bid_2012.csv")],
            D("10000"),
        ),
        Market(
            make("6EH4", "CME", "EUR", "USD", "0.00005", "1"),
            [D(r[4]) for r in _rows(DATA / "bars/intraday/cme_6EH4_1m_2024-01.csv.gz")],
            D("10"),
            20,
        ),
    ]


LIMITS = {  # every limit on, none of them reached by the orders below
    "max_order_quantity": "1000000",
    "max_order_notional": "50000000",
    "max_position": "1000000000",
    "max_gross_exposure": "1000000000000",
    "max_net_exposure": "1000000000000",
    "max_open_orders": "10000",
    "max_open_orders_per_strategy": "2000",
    "max_submits_per_second_strategy": "100000",
    "max_submits_per_second_account": "1000000",
    "max_modifies_per_second_strategy": "100000",
    "max_modifies_per_second_account": "1000000",
    "duplicate_window_ms": "10",  # WINDOW_NS
    "price_collar_bps": "500",
    "daily_loss_limit": "1000000",
    "max_drawdown": "1000000",
    "instrument:BTCUSDT.BINANCE_FUTURES:max_position": "500",
    "instrument:BTC-PERP.FTX:max_order_quantity": "50",
    "instrument:EUR/USD.HISTDATA:max_order_notional": "20000000",
}


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


class Flow:
    """Orders as strategies send them, each priced off the market of its moment."""

    def __init__(self, book: RiskBook, market_list: list[Market], seed: int = 7) -> None:
        self.book = book
        self.markets = market_list
        self.rng = random.Random(seed)
        self.ids = itertools.count()
        self.step = 0

    def move_prices(self) -> None:
        """One instrument's price moves to its next value in the data, as market data would."""
        market = self.markets[self.step % len(self.markets)]
        prices = market.prices
        self.book.prices[market.instrument.instrument_id] = prices[
            (self.step // len(self.markets)) % len(prices)
        ]
        self.step += 1

    def next(self, now: int) -> OrderSpec:
        """The next order a strategy sends: not the same as one sent within the duplicate
        window, and reduce-only only while its strategy has enough position left."""
        while True:
            order = self.order(now)
            if order.reduce_only and not self.book.reduces_strategy(order, None):
                order = replace(order, reduce_only=False)
            seen = self.book.fingerprints.get(fingerprint(order))
            if seen is None or seen[1] <= now - WINDOW_NS:
                return order

    def order(self, now: int) -> OrderSpec:
        """A random order that passes every rule."""
        rng, market = self.rng, self.rng.choice(self.markets)
        instrument = market.instrument
        iid = instrument.instrument_id
        strategy = rng.choice(STRATEGIES)
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        quantity = market.quantity * rng.randint(1, 20)
        quantity += instrument.lot_size * rng.randint(0, market.jitter)
        last = self.book.prices[iid]
        away = last * D(rng.randint(-100, 100)) / 10_000  # within 1% of the market
        fields: dict[str, object] = {}
        kind = rng.random()
        position = self.book.strategy_position(strategy, iid)
        if kind < 0.08 and position:  # reduce-only: a slice of the strategy's position
            side = OrderSide.SELL if position > 0 else OrderSide.BUY
            order_type = OrderType.MARKET
            lots = abs(position) / 20 // instrument.lot_size - rng.randint(0, 99)
            quantity = max(lots, D(rng.randint(10, 99))) * instrument.lot_size  # min notional
            fields["reduce_only"] = True
        elif kind < 0.25:
            order_type = OrderType.MARKET
        elif kind < 0.35:
            order_type = OrderType.STOP_MARKET
            fields["trigger_price"] = on_tick(last + abs(away) * side.sign, instrument.tick_size)
        else:
            order_type = OrderType.LIMIT
            fields["price"] = on_tick(last - away * side.sign, instrument.tick_size)
            if kind > 0.9:
                fields["time_in_force"] = TimeInForce.GTD
                fields["expire_time_ns"] = now + 3_600_000_000_000
        return OrderSpec(
            ClientOrderId(f"bench-{next(self.ids)}"),
            strategy,
            ACCOUNT,
            InstrumentId(iid.symbol, iid.venue),  # a fresh one, as decoded from a message
            side,
            order_type,
            quantity,
            **fields,  # type: ignore[arg-type]
        )


def make_book(market_list: list[Market], now: int) -> tuple[RiskBook, Flow]:
    """A book as risk holds it during a trading day."""
    book = RiskBook(RiskLimits.from_values(LIMITS, SWITCHABLE), ACCOUNT)
    for market in market_list:
        book.instruments[market.instrument.instrument_id] = market.instrument
        book.prices[market.instrument.instrument_id] = market.prices[0]
    currencies = {
        c for m in market_list for c in (m.instrument.base_currency, m.instrument.quote_currency)
    }
    book.set_balances(ACCOUNT, [(c, D(10) ** 12) for c in sorted(currencies)])
    rng = random.Random(11)
    for strategy in STRATEGIES:
        for market in rng.sample(market_list, 3):
            iid = market.instrument.instrument_id
            qty = market.quantity * rng.randint(10, 40) * rng.choice((1, -1))
            cost = abs(qty) * book.prices[iid]
            # Positions come from execution's messages, not the objects prices are keyed by.
            fresh = InstrumentId(iid.symbol, iid.venue)
            book.set_position(Position(strategy, fresh, qty, cost, D(0), D(0)))
    flow = Flow(book, market_list, seed=3)
    for i in range(OPEN_ORDERS):
        spec = flow.order(now)
        if i % 10:
            book.learn_open(spec, spec.quantity)  # resting at the venue since before
        else:
            book.approved(spec, now - 1_000_000_000)  # approved, execution not there yet
    book.known.update(dict.fromkeys(book.known, True))
    return book, flow


def check_of(book: RiskBook, order: OrderSpec, now: int) -> OrderCheck:
    """The OrderCheck the book builds for a new order, built the same way."""
    iid = order.instrument_id
    return OrderCheck(
        order,
        now,
        book,
        book.instruments.get(iid),
        book.limits.for_instrument(iid),
        order.price or order.trigger_price or book.prices.get(iid),
        None,
        book.state_of(order),
    )


def pct(values: list[int], q: float) -> float:
    """The q-th percentile of nanosecond durations, in microseconds."""
    data = sorted(values)
    return data[min(len(data) - 1, int(q / 100 * len(data)))] / 1000


def figures(values: list[int]) -> tuple[float, float, float]:
    return pct(values, 50), pct(values, 99), max(values) / 1000


def row(label: str, values: list[int], beside: str = "") -> str:
    p50, p99, top = figures(values)
    return f"  {label:<46} {p50:8.2f} {p99:8.2f} {top:9.1f}   {beside}".rstrip()


def baseline_call(count: int) -> list[int]:
    """A call of a trivial Python function, timed the same way: the timer's own cost."""

    def nothing(order: object, now: int) -> None:
        return None

    out = []
    clock = time.perf_counter_ns
    for i in range(count):
        start = clock()
        nothing(None, i)
        out.append(clock() - start)
    return out


def baseline_spec(flow: Flow, count: int, now: int) -> list[int]:
    """Building the OrderSpec (its own validation), timed the same way."""
    fields = [
        (
            s.client_order_id, s.strategy_id, s.account_id, s.instrument_id, s.side,
            s.order_type, s.quantity, s.time_in_force, s.price, s.trigger_price,
            s.expire_time_ns, s.reduce_only,
        )
        for s in (flow.order(now) for _ in range(count))
    ]  # fmt: skip
    out = []
    clock = time.perf_counter_ns
    for f in fields:
        start = clock()
        OrderSpec(*f)
        out.append(clock() - start)
    return out


def main(count: int) -> int:
    missing = [p for p in (DATA / "trades", DATA / "quotes", DATA / "bars") if not p.exists()]
    if missing:
        print(f"needs the market data in {DATA}")
        return 1
    now = 1_700_000_000_000_000_000
    market_list = markets()
    book, flow = make_book(market_list, now)
    rules = [(name, rule) for name, rule in SUBMIT_RULES if name not in book.limits.disabled]
    print(
        f"pre-trade risk, in process: {count:,} orders through the full rule set "
        f"({len(rules)} rules, every one on, none denies)"
    )
    print(
        f"  book: {len(book.instruments)} instruments priced from {DATA}, "
        f"{sum(1 for p in book.positions.values() if p.quantity)} positions of "
        f"{len(STRATEGIES)} strategies, {len(book.orders)} open orders "
        f"({sum(1 for o in book.orders.values() if not o.acknowledged)} not yet accepted)"
    )
    call = baseline_call(count)
    spec = baseline_spec(Flow(book, market_list, seed=5), count, now)

    checks: list[int] = []
    approvals: list[int] = []
    per_rule: dict[str, list[int]] = {name: [] for name, _ in rules}
    clock = time.perf_counter_ns
    denied: list[str] = []
    for _ in range(count):
        now += 100_000  # 10,000 orders a second
        flow.move_prices()
        order = flow.next(now)
        start = clock()
        decision = book.check(order, now)
        checked = clock()
        if decision.denial is not None:
            denied.append(f"{order.client_order_id}: {decision.denial}")
            book.denied(order)
            continue
        check = check_of(book, order, now)
        for name, rule in rules:
            rule_start = clock()
            rule(check)
            per_rule[name].append(clock() - rule_start)
        approve_start = clock()
        book.approved(order, now)
        approved = clock()
        checks.append(checked - start)
        approvals.append(approved - approve_start)
        book.on_accepted(order.client_order_id)
        book.on_done(order.client_order_id)  # canceled: the open orders stay as they were
    if denied:
        print(f"  FAILED: {len(denied):,} orders denied, e.g. {denied[:3]}")
        return 1
    both = [c + a for c, a in zip(checks, approvals, strict=True)]
    met = pct(checks, 99) <= TARGET_P99_US
    print(f"  {'':<46} {'p50 us':>8} {'p99 us':>8} {'max us':>9}")
    print(row("trivial function call (baseline)", call, "the timer's own cost"))
    print(row("OrderSpec built and validated (baseline)", spec))
    print(
        row(
            "check(): every rule, a pass",
            checks,
            f"{pct(checks, 50) / pct(spec, 50):.1f}x an OrderSpec at p50; "
            f"target p99 <= {TARGET_P99_US:.0f} us: [{'met' if met else 'NOT met'}]",
        )
    )
    print(row("approved(): bookkeeping of the approval", approvals))
    print(
        row(
            "check() + approved()",
            both,
            f"{1e6 / (sum(both) / len(both) * 1e-3):,.0f} orders/s in a row",
        )
    )
    print("  each rule alone, on the same order in the same state (timer included):")
    print(f"  {'':<46} {'p50 us':>8} {'p99 us':>8}   share of the rules' p50s")
    medians = {name: pct(values, 50) for name, values in per_rule.items()}
    for name, values in per_rule.items():
        share = medians[name] / sum(medians.values())
        print(f"    {name:<44} {medians[name]:8.2f} {pct(values, 99):8.2f}   {share:5.1%}")
    rest = pct(checks, 50) - sum(medians.values())
    print(f"    {'the rest: check p50 less the rules p50s':<44} {rest:8.2f}   OrderCheck, the loop")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
