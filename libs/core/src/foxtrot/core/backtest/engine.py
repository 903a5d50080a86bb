"""The backtest loop: strategies, risk, execution and the simulated venue on one clock.

It runs the code live trading runs, in one process and without NATS: each strategy
through the same :class:`StrategyRuntime` the strategy service hosts it in; its orders
through the same :class:`RiskBook` rules the risk service judges them by; approved orders
through the same :class:`ExecutionEngine` and :class:`SimulatedVenue` (fees, slippage,
latency) the execution service trades paper with; fills into the same
:class:`CashAccount`. Only the clock differs: here it is the replayed data's ``ts_init``.

For each record, in ``ts_init`` order (a record earlier than the one before is refused):

1. timers due by its time fire, oldest first;
2. the venue sees it: orders in flight arrive, working orders may fill, and the events
   reach risk, the account and the strategies (whose answers are judged and sent at once);
3. the strategies subscribed to it see it, and what they ask for is judged and sent.

So an order sent on a bar's close trades at the earliest on the next record, as live.
The same data, strategies and settings give the same orders and fills every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final

import numpy as np

from foxtrot.core.accounts import CashAccount, Legs
from foxtrot.core.backtest.result import BacktestResult, EquityCurve, StrategyOutcome
from foxtrot.core.book import OrderBook, OrderBookDeltas
from foxtrot.core.commands import (
    ModifyOrder,
    SubmitOrder,
    SubmitOrderList,
    TradingCommand,
)
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.errors import InvalidOrder, OrderNotWorking
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.risk import Denial, RiskBook, RiskLimits
from foxtrot.core.strategy.runtime import StrategyRuntime
from foxtrot.core.strategy.state import StrategyFaulted
from foxtrot.core.strategy.strategy import Strategy
from foxtrot.core.venue import SimulatedVenue

__all__ = ["BacktestEngine", "MarketRecord", "StrategyFault"]

MarketRecord = Bar | TradeTick | QuoteTick | OrderBookDeltas
_DONE: Final = (OrderCanceled, OrderExpired, OrderRejected)
_NEVER: Final = 2**63
_KIND_NAMES: Final[dict[type, str]] = {
    Bar: "bar",
    TradeTick: "trade",
    QuoteTick: "quote",
    OrderBookDeltas: "book",
}


class StrategyFault:
    """A strategy that raised during the run: who, when and what."""

    __slots__ = ("error", "handler", "strategy_id", "ts")

    def __init__(self, fault: StrategyFaulted, ts: int) -> None:
        self.strategy_id = fault.strategy_id
        self.handler = fault.handler
        self.error = fault.error
        self.ts = ts


class BacktestEngine:
    """Replays market data through strategies, risk and a simulated venue."""

    def __init__(
        self,
        *,
        venue: SimulatedVenue,
        instruments: Iterable[Instrument],
        starting_balances: Mapping[str, Decimal],
        account_id: str = "SIM-001",
        risk_limits: RiskLimits | None = None,
    ) -> None:
        self.venue = venue
        self.execution: ExecutionEngine[SimulatedVenue] = ExecutionEngine(venue)
        self.instruments = {i.instrument_id: i for i in instruments}
        self.account_id = account_id
        self.settlement_currency = venue.settlement_currency
        self.account = CashAccount(account_id, starting_balances)
        self.risk = RiskBook(risk_limits or RiskLimits(), AccountId(account_id))
        for flag in self.risk.known:
            self.risk.known[flag] = True
        for instrument in self.instruments.values():
            self.venue.add_instrument(instrument)
            self.execution.emulator.add_instrument(instrument)
            self.risk.instruments[instrument.instrument_id] = instrument
        self._legs = {iid: Legs.of(i) for iid, i in self.instruments.items()}
        self.risk.set_balances(account_id, [(b.currency, b.free) for b in self.account.balances()])
        self.runtimes: dict[str, StrategyRuntime] = {}
        self.faults: list[StrategyFault] = []
        self.fills: list[OrderFilled] = []
        self.orders: dict[ClientOrderId, Order] = {}
        self._books: dict[InstrumentId, OrderBook] = {}
        self._last: dict[InstrumentId, Decimal] = {}
        self._priced: set[InstrumentId] = set()  # last prices risk has not been told yet
        self._routes: dict[tuple[str, InstrumentId, str | None], list[StrategyRuntime]] = {}
        self._routes_stale = True
        self._now = 0
        self._starting = dict(starting_balances)
        # The strategies have not been told any balances yet: the first events tell them.
        self._balances_changed = True
        # What the equity curve is rebuilt from after the run (cheap to record per record).
        self._rec_ts: list[int] = []
        self._rec_inst: list[int] = []
        self._rec_px: list[float] = []
        self._inst_index: dict[InstrumentId, int] = {}
        self._snapshots: list[tuple[int, dict[str, float]]] = []  # (record index, totals)

    # --- set-up ---------------------------------------------------------------------------

    def add_strategy(self, strategy: Strategy[Any]) -> StrategyRuntime:
        """Host a strategy for the run (started when the run starts)."""
        sid = strategy.config.strategy_id
        if sid in self.runtimes:
            raise ValueError(f"strategy id {sid} is already in this backtest")
        runtime = StrategyRuntime(strategy)
        runtime.on_subscribe = self._mark_routes_stale
        self.runtimes[sid] = runtime
        return runtime

    # --- the run --------------------------------------------------------------------------

    def run(
        self,
        data: Iterable[MarketRecord],
        *,
        progress: Callable[[int, int], None] | None = None,
        progress_every: int = 10_000,
    ) -> BacktestResult:
        """Replay ``data`` (ordered by ``ts_init``) and return what happened.

        ``progress(records, ts)`` is called every ``progress_every`` records.
        """
        records = 0
        start_ns: int | None = None
        next_timer = _NEVER
        bar_t, trade_t, quote_t = Bar, TradeTick, QuoteTick
        execution = self.execution
        on_bar, on_trade, on_quote = execution.on_bar, execution.on_trade, execution.on_quote
        rec_ts, rec_inst, rec_px = self._rec_ts, self._rec_inst, self._rec_px
        inst_index = self._inst_index
        last = self._last
        priced = self._priced
        faults = self.faults
        # Where the last record went (its kind, instrument object and bar spec): the next
        # record is nearly always of the same series, and the same objects skip the lookups.
        seen_kind: type | None = None
        seen_iid: InstrumentId | None = None
        seen_spec: str | None = None
        index = 0
        runtimes: list[StrategyRuntime] | tuple[()] = ()
        now = self._now
        self._snapshot()
        for record in data:
            t = record.ts_init
            if t < now:
                raise ValueError(
                    f"records must come in ts_init order: {type(record).__name__} of "
                    f"{record.instrument_id} at {t} came after {now}"
                )
            if start_ns is None:
                start_ns = t
                self._start(t)
                next_timer = self._next_timer()
            self._now = now = t
            if t >= next_timer:
                self._fire_timers(t)
                next_timer = self._next_timer()
            iid = record.instrument_id
            kind = type(record)
            spec: str | None = None
            if kind is bar_t:
                bar: Bar = record  # type: ignore[assignment]
                spec = bar.spec
                events = on_bar(bar)
                if events:
                    self._dispatch(events)
                price = bar.close
            elif kind is trade_t:
                trade: TradeTick = record  # type: ignore[assignment]
                events = on_trade(trade)
                if events:
                    self._dispatch(events)
                price = trade.price
            elif kind is quote_t:
                quote: QuoteTick = record  # type: ignore[assignment]
                events = on_quote(quote)
                if events:
                    self._dispatch(events)
                price = (quote.bid_price + quote.ask_price) / 2
            else:
                assert isinstance(record, OrderBookDeltas)
                book = self._books.get(iid)
                if book is None:
                    book = self._books[iid] = OrderBook(iid)
                book.apply(record)
                events = execution.on_book(book, t)
                if events:
                    self._dispatch(events)
                bid, ask = book.best_bid(), book.best_ask()
                if bid is not None and ask is not None:
                    price = (bid.price + ask.price) / 2
                else:
                    price = last.get(iid, Decimal(0))
            last[iid] = price
            priced.add(iid)
            if self._routes_stale:
                self._reroute()
                seen_kind = None
            if iid is not seen_iid or kind is not seen_kind or spec != seen_spec:
                seen_kind, seen_iid, seen_spec = kind, iid, spec
                runtimes = self._routes.get((_KIND_NAMES.get(kind, "book"), iid, spec), ())
                known = inst_index.get(iid)
                if known is None:
                    known = inst_index[iid] = len(inst_index)
                index = known
            for runtime in runtimes:
                try:
                    if kind is bar_t:
                        runtime.on_bar(record)  # type: ignore[arg-type]
                    elif kind is trade_t:
                        runtime.on_trade(record)  # type: ignore[arg-type]
                    elif kind is quote_t:
                        runtime.on_quote(record)  # type: ignore[arg-type]
                    else:
                        runtime.on_book(self._books[iid], t)
                except StrategyFaulted as fault:
                    faults.append(StrategyFault(fault, t))
                if runtime.commands:
                    self._execute(runtime)
                    next_timer = self._next_timer()
            rec_ts.append(t)
            rec_inst.append(index)
            rec_px.append(float(price))
            records += 1
            if progress is not None and records % progress_every == 0:
                progress(records, t)
        end_ns = self._now
        for runtime in self.runtimes.values():
            try:
                runtime.stop()
            except StrategyFaulted as fault:
                self.faults.append(StrategyFault(fault, end_ns))
        if progress is not None:
            progress(records, end_ns)
        return self._result(records, start_ns if start_ns is not None else 0, end_ns)

    # --- commands: through risk to execution ----------------------------------------------

    def _execute(self, runtime: StrategyRuntime) -> None:
        """Judge and send what a strategy asked for, and what it asks in answer, until
        it asks for nothing more."""
        while runtime.commands:
            for command in runtime.drain():
                self._dispatch(self._command(command))

    def _command(self, command: TradingCommand) -> list[OrderEvent]:
        now = self._now
        self._tell_risk_prices()
        risk = self.risk
        if isinstance(command, SubmitOrder):
            spec = command.spec
            decision = risk.check(spec, now)
            if decision.denial is not None:
                risk.denied(spec)
                return [_denied(spec, decision.denial, now)]
            risk.approved(spec, now)
            return self.execution.submit(spec, now)
        if isinstance(command, SubmitOrderList):
            return self._submit_list(command.specs, now)
        if isinstance(command, ModifyOrder):
            return self._modify(command, now)
        try:
            return self.execution.cancel(command.client_order_id, now)
        except OrderNotWorking:
            return []  # ended meanwhile (live logs the refusal; the order's events tell)

    def _submit_list(self, specs: tuple[OrderSpec, ...], now: int) -> list[OrderEvent]:
        _, refused = self.risk.judge_list(specs, now)
        if refused is None:
            return self.execution.submit_list(specs, now)
        return [_denied(spec, refused, now) for spec in specs]

    def _modify(self, command: ModifyOrder, now: int) -> list[OrderEvent]:
        risk = self.risk
        decision = risk.check_modify(
            command.client_order_id, now, command.quantity, command.price, command.trigger_price
        )
        open_order = risk.orders.get(command.client_order_id)
        if decision.denial is not None:
            return [
                OrderModifyRejected(
                    client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    ts_event=now,
                    reason_code=decision.denial.code,
                    reason=decision.denial.message,
                )
            ]
        if open_order is not None:
            changed = open_order.spec
            if command.quantity is not None:
                changed = replace(changed, quantity=command.quantity)
            risk.modified(changed, now)
        try:
            return self.execution.modify(
                command.client_order_id, now, command.quantity, command.price, command.trigger_price
            )
        except (OrderNotWorking, InvalidOrder) as exc:
            return [
                OrderModifyRejected(
                    client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    ts_event=now,
                    reason_code="ORDER_NOT_WORKING",
                    reason=str(exc),
                )
            ]

    # --- events: to risk, the account and the strategies ----------------------------------

    def _dispatch(self, events: list[OrderEvent]) -> None:
        risk = self.risk
        account = self.account
        working = self.execution.orders
        orders = self.orders
        runtimes = self.runtimes
        all_legs, last = self._legs, self._last
        waiting: list[StrategyRuntime] = []
        for event in events:
            cid = event.client_order_id
            order = working.get(cid)
            if order is not None:
                orders[cid] = order
            kind = type(event)
            if kind is OrderFilled:
                self._fill(event)  # type: ignore[arg-type]
            elif kind is OrderAccepted:
                risk.on_accepted(cid)
            elif kind is OrderUpdated:
                risk.on_updated(cid, event.quantity, event.price)  # type: ignore[union-attr]
            elif kind in _DONE:
                risk.on_done(cid)
            elif kind is OrderDenied:
                orders.setdefault(cid, _denied_order(event, runtimes))  # type: ignore[arg-type]
            if order is not None:
                iid = order.spec.instrument_id
                legs = all_legs.get(iid)
                if legs is not None and account.hold(order, legs, last.get(iid)):
                    self._balances_changed = True
            runtime = runtimes.get(event.strategy_id)
            if runtime is None:
                continue
            try:
                runtime.on_order_event(event)
            except StrategyFaulted as fault:
                self.faults.append(StrategyFault(fault, self._now))
            if runtime.commands and runtime not in waiting:
                waiting.append(runtime)
        if self._balances_changed:
            self._tell_risk_balances()
        for runtime in waiting:
            self._execute(runtime)

    def _fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)
        self.risk.on_fill(
            fill.client_order_id,
            fill.strategy_id,
            fill.instrument_id,
            fill.side,
            fill.last_qty,
            fill.last_px,
            fill.commission,
            fill.ts_event,
        )
        legs = self._legs.get(fill.instrument_id)
        if legs is None:
            legs = Legs(fill.instrument_id.symbol, self.settlement_currency)
        self.account.apply_fill(fill, legs)
        self._balances_changed = True
        self._snapshot()

    def _tell_risk_balances(self) -> None:
        # Told only after events that moved a balance: what risk and the strategies were
        # told last still holds otherwise.
        self._balances_changed = False
        balances = self.account.balances()
        self.risk.set_balances(self.account_id, [(b.currency, b.free) for b in balances])
        for runtime in self.runtimes.values():
            runtime.on_balances(balances)

    def _tell_risk_prices(self) -> None:
        # Risk only reads prices when it judges, so it is told them then, not on every record.
        for iid in self._priced:
            self.risk.prices[iid] = self._last[iid]
        self._priced.clear()

    # --- timers and routes ----------------------------------------------------------------

    def _start(self, t: int) -> None:
        for runtime in self.runtimes.values():
            runtime.clock.set_time(t)
            try:
                runtime.start()
            except StrategyFaulted as fault:
                self.faults.append(StrategyFault(fault, t))
            self._execute(runtime)
        self._routes_stale = True

    def _next_timer(self) -> int:
        due = (r.clock.next_due_ns for r in self.runtimes.values())
        return min((d for d in due if d is not None), default=_NEVER)

    def _fire_timers(self, t: int) -> None:
        # Timers of all strategies fire in time order; each strategy's answer is sent at
        # once, so a timer can trade before the data of its time is seen.
        while True:
            due = [(r.clock.next_due_ns, sid) for sid, r in self.runtimes.items()]
            pending = sorted((d, sid) for d, sid in due if d is not None and d <= t)
            if not pending:
                break
            at, sid = pending[0]
            runtime = self.runtimes[sid]
            self._now = max(self._now, at)
            try:
                runtime.on_timers(at)
            except StrategyFaulted as fault:
                self.faults.append(StrategyFault(fault, at))
            self._execute(runtime)
        for runtime in self.runtimes.values():
            runtime.clock.set_time(t)

    def _mark_routes_stale(self) -> None:
        self._routes_stale = True

    def _reroute(self) -> None:
        routes: dict[tuple[str, InstrumentId, str | None], list[StrategyRuntime]] = {}
        for runtime in self.runtimes.values():
            for kind, iid, spec in sorted(runtime.subscriptions, key=str):
                routes.setdefault((kind, iid, spec), []).append(runtime)
        self._routes = routes
        self._routes_stale = False

    # --- the result -----------------------------------------------------------------------

    def _snapshot(self) -> None:
        totals = {c: float(v) for c, v in self.account.totals.items()}
        self._snapshots.append((len(self._rec_ts), totals))

    def _equity(self) -> EquityCurve:
        n = len(self._rec_ts)
        ts = np.asarray(self._rec_ts, dtype=np.int64)
        inst = np.asarray(self._rec_inst, dtype=np.int64)
        px = np.asarray(self._rec_px, dtype=np.float64)
        # Each instrument's last price at every record, carried forward.
        prices: dict[InstrumentId, np.ndarray[Any, np.dtype[np.float64]]] = {}
        for iid, k in self._inst_index.items():
            mine = inst == k
            idx = np.where(mine, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            filled = np.where(idx >= 0, px[np.maximum(idx, 0)], np.nan)
            prices[iid] = filled
        # Each currency's total at every record: the last snapshot at or before it.
        currencies = sorted({c for _, totals in self._snapshots for c in totals})
        at = np.asarray([i for i, _ in self._snapshots], dtype=np.int64)
        which = np.searchsorted(at, np.arange(n), side="right") - 1
        equity = np.zeros(n)
        gross = np.zeros(n)
        for currency in currencies:
            column = np.asarray([t.get(currency, 0.0) for _, t in self._snapshots])
            amount = column[which]
            rate = self._rate(currency, prices, n)
            equity += amount * rate
            if currency != self.settlement_currency:
                gross += np.abs(amount - float(self._starting.get(currency, 0))) * rate
        return EquityCurve(ts, equity, gross)

    def _rate(
        self,
        currency: str,
        prices: Mapping[InstrumentId, np.ndarray[Any, np.dtype[np.float64]]],
        n: int,
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        if currency == self.settlement_currency:
            return np.ones(n)
        for iid, legs in self._legs.items():
            if legs.base == currency and legs.quote == self.settlement_currency and iid in prices:
                known = prices[iid]
                return np.where(np.isnan(known), 0.0, known)
        return np.zeros(n)  # a currency no instrument prices counts nothing

    def _result(self, records: int, start_ns: int, end_ns: int) -> BacktestResult:
        outcomes = [
            StrategyOutcome(
                strategy_id=sid,
                strategy_class=f"{type(r.strategy).__module__}:{type(r.strategy).__qualname__}",
                config=r.strategy.config.model_dump(mode="json"),
                state=r.state.value,
                fault=r.fault,
                saved_state=None if r.fault else r.save(),
            )
            for sid, r in self.runtimes.items()
        ]
        positions = [p for r in self.runtimes.values() for p in r.positions.values()]
        equity = self._equity()
        starting = self._value(self._starting)
        return BacktestResult(
            strategies=outcomes,
            orders=list(self.orders.values()),
            fills=list(self.fills),
            positions=positions,
            balances=self.account.balances(),
            equity=equity,
            settlement_currency=self.settlement_currency,
            starting_equity=starting,
            records=records,
            start_ns=start_ns,
            end_ns=end_ns,
        )

    def _value(self, totals: Mapping[str, Decimal]) -> Decimal:
        """Value of balances at the first price seen of each currency (the run's start)."""
        value = Decimal(0)
        for currency, amount in totals.items():
            if currency == self.settlement_currency:
                value += amount
                continue
            for iid, legs in self._legs.items():
                if legs.base == currency and legs.quote == self.settlement_currency:
                    k = self._inst_index.get(iid)
                    if k is not None and k in self._rec_inst:
                        first = self._rec_px[self._rec_inst.index(k)]
                        value += amount * Decimal(repr(first))
                    break
        return value


def _denied(spec: OrderSpec, denial: Denial, now: int) -> OrderDenied:
    return OrderDenied(
        client_order_id=spec.client_order_id,
        strategy_id=spec.strategy_id,
        instrument_id=spec.instrument_id,
        ts_event=now,
        reason_code=denial.code,
        reason=denial.message,
    )


def _denied_order(event: OrderDenied, runtimes: Mapping[str, StrategyRuntime]) -> Order:
    runtime = runtimes.get(event.strategy_id)
    known = runtime.orders.get(event.client_order_id) if runtime is not None else None
    if known is not None:
        return known
    raise InvalidOrder(f"denied order {event.client_order_id} is unknown to its strategy")
