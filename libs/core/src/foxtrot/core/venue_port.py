"""The port every venue implements for the execution engine: simulated or real.

The engine talks to a venue synchronously. A simulated venue answers in the same call
(or later, on ``advance``, under latency). A real venue sends the request on its way and
returns nothing; its answers (acknowledgements, rejects, fills, cancels) come back on a
later ``advance``, which is how the engine hears about anything that happened at the
venue on its own. Both therefore look the same to the engine and to the backtester.
"""

from __future__ import annotations

from collections.abc import Set
from decimal import Decimal
from typing import Protocol

from foxtrot.core.book import OrderBook
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import OrderType
from foxtrot.core.events import OrderEvent
from foxtrot.core.identifiers import InstrumentId, VenueOrderId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec

__all__ = ["Venue"]


class Venue(Protocol):
    """What the execution engine needs from a venue."""

    name: str
    settlement_currency: str

    @property
    def native_order_types(self) -> Set[OrderType]:
        """Order types the venue takes as they are; the engine emulates the rest."""
        ...

    def add_instrument(self, instrument: Instrument) -> None:
        """Know an instrument's trading rules and currencies."""
        ...

    def submit(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Send an order; returns what is known of it by ``ts``."""
        ...

    def modify(
        self, spec: OrderSpec, ts: int, quantity: Decimal | None, price: Decimal | None
    ) -> list[OrderEvent]:
        """Ask to change a working order's quantity or limit price."""
        ...

    def cancel(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Ask to cancel a working order."""
        ...

    def restore(
        self,
        spec: OrderSpec,
        venue_order_id: VenueOrderId,
        filled_qty: Decimal = ...,
        fills: int = ...,
        ts_accepted: int = ...,
    ) -> None:
        """Put back an order that was working before a restart."""
        ...

    def restore_position(self, instrument_id: InstrumentId, quantity: Decimal) -> None:
        """Put back the account's net position after a restart."""
        ...

    def last_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """The latest price the venue has seen for an instrument, if any."""
        ...

    def on_quote(self, quote: QuoteTick) -> list[OrderEvent]:
        """Market data: a quote (a real venue matches on its own and returns [])."""
        ...

    def on_trade(self, trade: TradeTick) -> list[OrderEvent]:
        """Market data: a trade."""
        ...

    def on_bar(self, bar: Bar) -> list[OrderEvent]:
        """Market data: a bar."""
        ...

    def on_book(self, book: OrderBook, ts: int) -> list[OrderEvent]:
        """Market data: a new state of the L2 book."""
        ...

    def advance(self, ts: int) -> list[OrderEvent]:
        """Let time pass; returns whatever the venue did meanwhile."""
        ...
