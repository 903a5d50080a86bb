"""Hosting one strategy: what it sees, what it asks for, and its faults.

A :class:`StrategyRuntime` stands between a strategy and its host. The host shows it data,
the strategy's order events, account balances and the time; the runtime keeps the
strategy's view (orders, positions, balances, indicators) from them, calls the strategy's
handlers, and collects the commands the strategy asks for until the host drains them.
The live strategy service and the backtester both host strategies through it, which is
why a strategy behaves the same in both.

Client order ids are ``{strategy_id}-{t}-{n}``: ``t`` is the time of what the strategy was
handling (the bar's, trade's or event's ``ts_event``, the timer's due time) and ``n``
counts orders asked for at that time. The same input therefore asks for the same ids, in
a backtest and live, and a redelivered bar asks again for an order risk already knows.

A handler that raises faults the strategy: what it asked for in that call is dropped,
it sees nothing more until it is reset, and :class:`StrategyFaulted` tells the host.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal

from foxtrot.core.accounts import Balance
from foxtrot.core.book import OrderBook
from foxtrot.core.clock import Clock
from foxtrot.core.commands import (
    CancelOrder,
    ModifyOrder,
    SubmitOrder,
    SubmitOrderList,
    TradingCommand,
)
from foxtrot.core.contingencies import check_order_list
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import OrderStatus
from foxtrot.core.errors import InvalidOrder, InvalidOrderTransition
from foxtrot.core.events import OrderEvent, OrderFilled
from foxtrot.core.identifiers import ClientOrderId, InstrumentId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.core.strategy.state import StrategyFaulted, StrategyState
from foxtrot.core.strategy.strategy import Strategy

__all__ = ["DataKind", "StrategyRuntime", "Subscription"]

DataKind = Literal["bar", "trade", "quote", "book"]
Subscription = tuple[DataKind, InstrumentId, str | None]
_OPEN: Final = frozenset(
    {
        OrderStatus.INITIALIZED,
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PENDING_CANCEL,
    }
)
_STATE_VERSION: Final = 1
_RUNNING: Final = StrategyState.RUNNING


class StrategyRuntime:
    """One hosted strategy, its view of its orders and positions, and its outbox."""

    def __init__(self, strategy: Strategy[Any], clock: Clock | None = None) -> None:
        self.strategy = strategy
        self.clock = clock or Clock()
        self.state = StrategyState.READY
        self.fault: str | None = None
        self.orders: dict[ClientOrderId, Order] = {}
        self.positions: dict[InstrumentId, Position] = {}
        self.balances: dict[str, Balance] = {}
        self.subscriptions: set[Subscription] = set()
        self.commands: list[TradingCommand] = []
        self._open: dict[ClientOrderId, Order] = {}  # the orders that can still trade
        self._indicators: dict[tuple[InstrumentId, str], list[Any]] = {}
        self._trigger_ts = 0
        self._seq = 0
        self._current_ts = 0
        # The bar series last found subscribed (instrument object, spec, its indicators):
        # the next bar is nearly always of it, and the same objects skip two lookups.
        self._bar_seen: tuple[InstrumentId, str, list[Any] | None] | None = None
        # Called when the strategy subscribes to more data, so its host can route it.
        self.on_subscribe: Callable[[], None] | None = None
        strategy._runtime = self

    @property
    def strategy_id(self) -> str:
        return str(self.strategy.config.strategy_id)

    @property
    def running(self) -> bool:
        return self.state is StrategyState.RUNNING

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart after a stop): the strategy subscribes and sets its timers."""
        if self.state is StrategyState.FAULTED:
            raise InvalidOrder(f"strategy {self.strategy_id} is faulted ({self.fault}): reset it")
        if self.state is StrategyState.RUNNING:
            return
        self.subscriptions.clear()
        self._indicators.clear()
        self._bar_seen = None
        self.state = StrategyState.RUNNING
        self._call("on_start", self.strategy.on_start, self.clock.now_ns)

    def stop(self) -> None:
        """Stop: the strategy's timers are cancelled and it sees nothing more."""
        if self.state is not StrategyState.RUNNING:
            return
        self.clock.cancel_all()
        self._call("on_stop", self.strategy.on_stop, self.clock.now_ns)
        if self.state is StrategyState.RUNNING:
            self.state = StrategyState.STOPPED

    def reset(self) -> None:
        """Forget what the strategy learnt and clear a fault; it is READY to start again."""
        self.clock.cancel_all()
        for indicators in self._indicators.values():
            for indicator in indicators:
                indicator.reset()
        self.state = StrategyState.READY
        self.fault = None
        self._call("on_reset", self.strategy.on_reset, self.clock.now_ns)

    def save(self) -> dict[str, Any]:
        """The state to persist: the strategy's own and the order-id counter."""
        own = dict(self.strategy.on_save())
        return {
            "version": _STATE_VERSION,
            "strategy": own,
            "order_ids": [self._trigger_ts, self._seq],
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save` gave, before the strategy starts again."""
        version = state.get("version")
        if version != _STATE_VERSION:
            raise ValueError(f"strategy state version must be {_STATE_VERSION}, was {version!r}")
        self._trigger_ts, self._seq = (int(x) for x in state.get("order_ids", (0, 0)))
        self.strategy.on_load(state.get("strategy", {}))

    # --- what the strategy asked for ------------------------------------------------------

    def subscribe(
        self, kind: DataKind, instrument_id: InstrumentId, spec: str | None = None
    ) -> None:
        key = (kind, instrument_id, spec)
        if key in self.subscriptions:
            return
        self.subscriptions.add(key)
        self._bar_seen = None
        if self.on_subscribe is not None:
            self.on_subscribe()

    def register_indicator(self, instrument_id: InstrumentId, spec: str, indicator: Any) -> None:
        self.subscribe("bar", instrument_id, spec)
        self._indicators.setdefault((instrument_id, spec), []).append(indicator)

    def indicators(self) -> list[Any]:
        return [i for group in self._indicators.values() for i in group]

    def wants(self, kind: DataKind, instrument_id: InstrumentId, spec: str | None = None) -> bool:
        """Whether the strategy subscribed to this data."""
        return (kind, instrument_id, spec) in self.subscriptions

    def next_order_id(self) -> ClientOrderId:
        if self._trigger_ts != self._current_ts:
            self._trigger_ts, self._seq = self._current_ts, 0
        self._seq += 1
        return ClientOrderId(f"{self.strategy_id}-{self._trigger_ts}-{self._seq}")

    def submit(self, spec: OrderSpec) -> None:
        self._own(spec)
        self.orders[spec.client_order_id] = self._open[spec.client_order_id] = Order(spec)
        self.commands.append(SubmitOrder(spec))

    def submit_list(self, specs: tuple[OrderSpec, ...]) -> None:
        for spec in specs:
            self._own(spec)
        check_order_list(specs)
        for spec in specs:
            self.orders[spec.client_order_id] = self._open[spec.client_order_id] = Order(spec)
        list_id = specs[0].order_list_id
        assert list_id is not None  # check_order_list said so
        self.commands.append(SubmitOrderList(list_id, specs))

    def modify(
        self,
        client_order_id: ClientOrderId,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> None:
        spec = self._known(client_order_id).spec
        self.commands.append(
            ModifyOrder(
                client_order_id,
                spec.strategy_id,
                spec.instrument_id,
                quantity,
                price,
                trigger_price,
            )
        )

    def cancel(self, client_order_id: ClientOrderId) -> None:
        spec = self._known(client_order_id).spec
        self.commands.append(CancelOrder(client_order_id, spec.strategy_id, spec.instrument_id))

    def drain(self) -> list[TradingCommand]:
        """Hand over the commands asked for since the last drain, oldest first."""
        commands, self.commands = self.commands, []
        return commands

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [
            o
            for o in self._open.values()
            if instrument_id is None or o.spec.instrument_id == instrument_id
        ]

    # --- what the host shows it -----------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """A bar closed; registered indicators see it first."""
        if self.state is not _RUNNING:
            return
        iid, spec = bar.instrument_id, bar.spec
        seen = self._bar_seen
        if seen is not None and seen[0] is iid and seen[1] == spec:
            indicators = seen[2]
        else:
            indicators = self._indicators.get((iid, spec))
            if indicators is None and ("bar", iid, spec) not in self.subscriptions:
                return
            self._bar_seen = (iid, spec, indicators)
        self._current_ts = bar.ts_event
        mark = len(self.commands)
        try:
            if indicators:
                for indicator in indicators:
                    indicator.handle_bar(bar)
            self.strategy.on_bar(bar)
        except Exception as exc:
            self._faulted("on_bar", exc, mark)

    def on_trade(self, trade: TradeTick) -> None:
        if self.running and ("trade", trade.instrument_id, None) in self.subscriptions:
            self._call("on_trade", self.strategy.on_trade, trade.ts_event, trade)

    def on_quote(self, quote: QuoteTick) -> None:
        if self.running and ("quote", quote.instrument_id, None) in self.subscriptions:
            self._call("on_quote", self.strategy.on_quote, quote.ts_event, quote)

    def on_book(self, book: OrderBook, ts_event: int) -> None:
        if self.running and ("book", book.instrument_id, None) in self.subscriptions:
            self._call("on_book", self.strategy.on_book, ts_event, book)

    def on_timers(self, until_ns: int) -> None:
        """Fire the timers due by ``until_ns`` and move the clock there."""
        for event in self.clock.due(until_ns):
            if not self.running:
                continue
            self._call("on_timer", self.strategy.on_timer, event.ts_event, event)

    def on_order_event(self, event: OrderEvent) -> bool:
        """Apply one of the strategy's order events and show it; False (and nothing shown)
        for an event of an unknown order or one the order already had."""
        order = self.orders.get(event.client_order_id)
        if order is None:
            return False
        try:
            order.apply(event)
        except InvalidOrderTransition:
            return False  # a redelivered event, or one that came after the order ended
        if order.status not in _OPEN:
            self._open.pop(event.client_order_id, None)
        position = None
        change = None
        if isinstance(event, OrderFilled):
            position = self.positions.get(event.instrument_id)
            if position is None:
                position = Position(self.strategy.id, event.instrument_id)
                self.positions[event.instrument_id] = position
            change = position.apply_fill(
                event.side, event.last_qty, event.last_px, event.commission, event.ts_event
            )
        if self.running:
            mark = len(self.commands)
            self._current_ts = event.ts_event
            try:
                self.strategy.on_order_event(event)
                if position is not None and change is not None:
                    assert isinstance(event, OrderFilled)
                    self.strategy.on_fill(event)
                    self.strategy.on_position(position, change)
            except Exception as exc:
                self._faulted("on_order_event", exc, mark)
        return True

    def on_balances(self, balances: Iterable[Balance]) -> None:
        """The account's balances as execution last reported them."""
        self.balances = {b.currency: b for b in balances}

    def restore_order(self, order: Order) -> None:
        """Know an order from before a restart (from execution's snapshot)."""
        self.orders[order.client_order_id] = order
        if order.status in _OPEN:
            self._open[order.client_order_id] = order

    def restore_position(self, position: Position) -> None:
        """Know a position from before a restart (from execution's snapshot)."""
        self.positions[position.instrument_id] = position

    # --- plumbing -------------------------------------------------------------------------

    def _call(self, name: str, handler: Callable[..., Any], ts: int, *args: Any) -> None:
        mark = len(self.commands)
        self._current_ts = ts
        try:
            handler(*args)
        except Exception as exc:
            self._faulted(name, exc, mark)

    def _faulted(self, handler: str, exc: Exception, mark: int) -> None:
        for command in self.commands[mark:]:
            specs = (
                (command.spec,)
                if isinstance(command, SubmitOrder)
                else command.specs
                if isinstance(command, SubmitOrderList)
                else ()
            )
            for spec in specs:
                self.orders.pop(spec.client_order_id, None)
                self._open.pop(spec.client_order_id, None)
        del self.commands[mark:]
        self.clock.cancel_all()
        self.state = StrategyState.FAULTED
        where = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"
        self.fault = error
        raise StrategyFaulted(self.strategy_id, handler, error) from exc

    def _own(self, spec: OrderSpec) -> None:
        if spec.strategy_id != self.strategy_id:
            raise InvalidOrder(
                f"an order of strategy {self.strategy_id} must carry its id, was {spec.strategy_id}"
            )
        if spec.client_order_id in self.orders:
            raise InvalidOrder(f"client order id {spec.client_order_id} is already in use")

    def _known(self, client_order_id: ClientOrderId) -> Order:
        order = self.orders.get(client_order_id)
        if order is None:
            raise InvalidOrder(f"strategy {self.strategy_id} has no order {client_order_id}")
        return order
