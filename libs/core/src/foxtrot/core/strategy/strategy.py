"""The strategy API: one class a strategy subclasses, the same in live trading and backtests.

A strategy is a plain Python class configured by a :class:`StrategyConfig`. Its host (the
strategy service live, the backtester in a backtest) calls its handlers with market data,
its own order events and its timers; the strategy answers by calling the order helpers
here. Nothing it calls does I/O: orders become commands its host sends on, and everything
it reads (positions, orders, account, indicators) is kept by its
:class:`~foxtrot.core.strategy.runtime.StrategyRuntime` from the events it was shown.

Handlers (override what you need; each does nothing by default):

- lifecycle: ``on_start``, ``on_stop``, ``on_reset``, ``on_save`` -> state, ``on_load(state)``
- data: ``on_bar``, ``on_trade``, ``on_quote``, ``on_book``
- orders: ``on_order_event`` (every event of its orders), then ``on_fill`` for a fill, then
  ``on_position`` with the position that fill changed
- time: ``on_timer`` for the timers and alerts set on ``self.clock``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from foxtrot.core.accounts import Balance
from foxtrot.core.book import OrderBook
from foxtrot.core.clock import Clock, TimeEvent
from foxtrot.core.contingencies import bracket
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import ContingencyType, OrderSide, OrderType, TimeInForce
from foxtrot.core.enums import TrailingOffsetType as Offset
from foxtrot.core.events import OrderEvent, OrderFilled
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position, PositionChange
from foxtrot.core.strategy.config import StrategyConfig

if TYPE_CHECKING:
    from foxtrot.core.strategy.runtime import StrategyRuntime

__all__ = ["BarIndicator", "Strategy"]

C = TypeVar("C", bound=StrategyConfig)
_ZERO = Decimal(0)


class BarIndicator(Protocol):
    """An indicator the runtime feeds each bar of its series before ``on_bar``."""

    def handle_bar(self, bar: Bar) -> None: ...

    def reset(self) -> None: ...


class Strategy(Generic[C]):
    """Base class of every strategy: handlers to override, and helpers to trade with."""

    #: The configuration class the host validates this strategy's config with.
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: C) -> None:
        self.config = config
        self._runtime: StrategyRuntime | None = None

    # --- identity and time ------------------------------------------------------------------

    @property
    def id(self) -> StrategyId:
        """This instance's strategy id."""
        return StrategyId(self.config.strategy_id)

    @property
    def clock(self) -> Clock:
        """The host's clock: wall time live, simulated time in a backtest; set timers here."""
        return self._rt.clock

    # --- lifecycle (override) ---------------------------------------------------------------

    def on_start(self) -> None:
        """Started: subscribe to data, register indicators, set timers."""

    def on_stop(self) -> None:
        """Stopped: nothing more will arrive until a start."""

    def on_reset(self) -> None:
        """Forget everything learnt (the runtime resets registered indicators itself)."""

    def on_save(self) -> Mapping[str, Any]:
        """State to keep across restarts and reloads (JSON-able values)."""
        return {}

    def on_load(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`on_save` returned before a restart or reload."""

    # --- handlers (override) ----------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """A bar of a subscribed series closed."""

    def on_trade(self, trade: TradeTick) -> None:
        """A trade printed on a subscribed instrument."""

    def on_quote(self, quote: QuoteTick) -> None:
        """A subscribed instrument's best bid and ask changed."""

    def on_book(self, book: OrderBook) -> None:
        """A subscribed instrument's order book changed."""

    def on_order_event(self, event: OrderEvent) -> None:
        """Any event of one of this strategy's orders."""

    def on_fill(self, fill: OrderFilled) -> None:
        """One of this strategy's orders traded (after ``on_order_event``)."""

    def on_position(self, position: Position, change: PositionChange) -> None:
        """A fill opened, changed or closed one of this strategy's positions."""

    def on_timer(self, event: TimeEvent) -> None:
        """A timer or alert set on :attr:`clock` came due."""

    # --- subscriptions ----------------------------------------------------------------------

    def subscribe_bars(self, instrument_id: InstrumentId, spec: str) -> None:
        """Receive ``on_bar`` for the instrument's bars of ``spec`` (``1m``, ``100t``)."""
        self._rt.subscribe("bar", instrument_id, spec)

    def subscribe_trades(self, instrument_id: InstrumentId) -> None:
        """Receive ``on_trade`` for the instrument's trades."""
        self._rt.subscribe("trade", instrument_id)

    def subscribe_quotes(self, instrument_id: InstrumentId) -> None:
        """Receive ``on_quote`` for the instrument's best bid and ask."""
        self._rt.subscribe("quote", instrument_id)

    def subscribe_book(self, instrument_id: InstrumentId) -> None:
        """Receive ``on_book`` for the instrument's order book."""
        self._rt.subscribe("book", instrument_id)

    def register_indicator(self, instrument_id: InstrumentId, spec: str, indicator: Any) -> None:
        """Feed ``indicator`` (anything with ``handle_bar`` and ``reset``) each bar of the
        series before ``on_bar`` sees it."""
        self._rt.register_indicator(instrument_id, spec, indicator)

    # --- what the strategy can see ----------------------------------------------------------

    def position(self, instrument_id: InstrumentId) -> Position | None:
        """This strategy's position in the instrument (None before its first fill)."""
        return self._rt.positions.get(instrument_id)

    def net_position(self, instrument_id: InstrumentId) -> Decimal:
        """Signed quantity held in the instrument (0 when flat)."""
        position = self._rt.positions.get(instrument_id)
        return position.quantity if position is not None else _ZERO

    def positions(self) -> list[Position]:
        """Every position this strategy has held, open or closed."""
        return list(self._rt.positions.values())

    def order(self, client_order_id: str) -> Order | None:
        """One of this strategy's orders by its client order id."""
        return self._rt.orders.get(ClientOrderId(client_order_id))

    def orders_open(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        """This strategy's orders that can still trade, optionally for one instrument."""
        return self._rt.open_orders(instrument_id)

    @property
    def balances(self) -> Mapping[str, Balance]:
        """The account's balances per currency, as last reported."""
        return self._rt.balances

    @property
    def indicators(self) -> list[Any]:
        """The indicators registered with :meth:`register_indicator`."""
        return self._rt.indicators()

    # --- orders -----------------------------------------------------------------------------

    def order_spec(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        order_type: OrderType,
        **fields: Any,
    ) -> OrderSpec:
        """An order of any type for this strategy, with a fresh client order id; not sent."""
        return OrderSpec(
            client_order_id=self._rt.next_order_id(),
            strategy_id=self.id,
            account_id=AccountId(self.config.account_id),
            instrument_id=instrument_id,
            side=side,
            order_type=order_type,
            quantity=quantity,
            **fields,
        )

    def submit_order(self, spec: OrderSpec) -> ClientOrderId:
        """Send an order built with :meth:`order_spec` (through risk, to execution)."""
        self._rt.submit(spec)
        return spec.client_order_id

    def submit_order_list(self, specs: tuple[OrderSpec, ...]) -> tuple[ClientOrderId, ...]:
        """Send linked orders (OTO, OCO, bracket) that stand or fall together."""
        self._rt.submit_list(specs)
        return tuple(s.client_order_id for s in specs)

    def market(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> ClientOrderId:
        """Buy or sell at the market."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.MARKET,
                time_in_force=time_in_force,
                reduce_only=reduce_only,
            )
        )

    def limit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        **fields: Any,
    ) -> ClientOrderId:
        """A limit order; ``fields`` are any of OrderSpec's (``time_in_force``,
        ``expire_time_ns``, ``post_only``, ``reduce_only``, ``display_qty``)."""
        return self.submit_order(
            self.order_spec(instrument_id, side, quantity, OrderType.LIMIT, price=price, **fields)
        )

    def stop_market(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        trigger_price: Decimal,
        **fields: Any,
    ) -> ClientOrderId:
        """A market order once the market reaches ``trigger_price`` (against the side)."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.STOP_MARKET,
                trigger_price=trigger_price,
                **fields,
            )
        )

    def stop_limit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        trigger_price: Decimal,
        **fields: Any,
    ) -> ClientOrderId:
        """A limit order at ``price`` once the market reaches ``trigger_price``."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.STOP_LIMIT,
                price=price,
                trigger_price=trigger_price,
                **fields,
            )
        )

    def market_if_touched(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        trigger_price: Decimal,
        **fields: Any,
    ) -> ClientOrderId:
        """A market order once the market touches ``trigger_price`` (in the side's favour)."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.MARKET_IF_TOUCHED,
                trigger_price=trigger_price,
                **fields,
            )
        )

    def limit_if_touched(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        trigger_price: Decimal,
        **fields: Any,
    ) -> ClientOrderId:
        """A limit order at ``price`` once the market touches ``trigger_price``."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.LIMIT_IF_TOUCHED,
                price=price,
                trigger_price=trigger_price,
                **fields,
            )
        )

    def trailing_stop_market(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        trailing_offset: Decimal,
        *,
        offset_type: Offset = Offset.PRICE,
        **fields: Any,
    ) -> ClientOrderId:
        """A stop that trails the market by ``trailing_offset`` and then sells or buys at
        the market."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.TRAILING_STOP_MARKET,
                trailing_offset=trailing_offset,
                trailing_offset_type=offset_type,
                **fields,
            )
        )

    def trailing_stop_limit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        trailing_offset: Decimal,
        limit_offset: Decimal,
        *,
        offset_type: Offset = Offset.PRICE,
        **fields: Any,
    ) -> ClientOrderId:
        """A trailing stop that works as a limit ``limit_offset`` from its trigger."""
        return self.submit_order(
            self.order_spec(
                instrument_id,
                side,
                quantity,
                OrderType.TRAILING_STOP_LIMIT,
                trailing_offset=trailing_offset,
                limit_offset=limit_offset,
                trailing_offset_type=offset_type,
                **fields,
            )
        )

    def bracket(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        *,
        stop_loss: Decimal,
        take_profit: Decimal,
        entry_price: Decimal | None = None,
    ) -> tuple[ClientOrderId, ClientOrderId, ClientOrderId]:
        """An entry (market, or limit at ``entry_price``) that, once it fills, places a
        stop-loss and a take-profit which cancel each other. Returns the three ids."""
        exit_side = OrderSide.SELL if side is OrderSide.BUY else OrderSide.BUY
        entry = (
            self.order_spec(instrument_id, side, quantity, OrderType.MARKET)
            if entry_price is None
            else self.order_spec(instrument_id, side, quantity, OrderType.LIMIT, price=entry_price)
        )
        sl = self.order_spec(
            instrument_id, exit_side, quantity, OrderType.STOP_MARKET, trigger_price=stop_loss
        )
        tp = self.order_spec(instrument_id, exit_side, quantity, OrderType.LIMIT, price=take_profit)
        specs = bracket(entry, sl, tp, order_list_id=f"L-{entry.client_order_id}")
        ids = self.submit_order_list(specs)
        return ids[0], ids[1], ids[2]

    def one_cancels_other(self, first: OrderSpec, second: OrderSpec) -> tuple[ClientOrderId, ...]:
        """Send two orders of one instrument where either one's end cancels the other."""
        list_id = f"L-{first.client_order_id}"
        specs = (
            dataclasses.replace(
                first,
                contingency_type=ContingencyType.OCO,
                order_list_id=list_id,
                linked_order_ids=(second.client_order_id,),
            ),
            dataclasses.replace(
                second,
                contingency_type=ContingencyType.OCO,
                order_list_id=list_id,
                linked_order_ids=(first.client_order_id,),
            ),
        )
        return self.submit_order_list(specs)

    def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        """Ask to change a working order's quantity or prices."""
        self._rt.modify(ClientOrderId(client_order_id), quantity, price, trigger_price)

    def cancel_order(self, client_order_id: str) -> None:
        """Ask to cancel one working order."""
        self._rt.cancel(ClientOrderId(client_order_id))

    def cancel_all_orders(self, instrument_id: InstrumentId | None = None) -> None:
        """Ask to cancel every open order (of one instrument, when given)."""
        for order in self._rt.open_orders(instrument_id):
            self._rt.cancel(order.client_order_id)

    def close_position(self, instrument_id: InstrumentId) -> ClientOrderId | None:
        """Flatten the position in the instrument with a reduce-only market order; None
        when already flat."""
        net = self.net_position(instrument_id)
        if net == 0:
            return None
        side = OrderSide.SELL if net > 0 else OrderSide.BUY
        return self.market(instrument_id, side, abs(net), reduce_only=True)

    def close_all_positions(self) -> list[ClientOrderId]:
        """Flatten every open position."""
        closed = (self.close_position(p.instrument_id) for p in self.positions())
        return [cid for cid in closed if cid is not None]

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def _rt(self) -> StrategyRuntime:
        if self._runtime is None:
            raise RuntimeError(
                f"strategy {self.config.strategy_id} is not hosted yet: "
                "wrap it in a StrategyRuntime first"
            )
        return self._runtime
