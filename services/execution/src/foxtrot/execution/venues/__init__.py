"""Real venues that execution sends orders to: one package per venue, each a ``Venue``.

A real venue is also a :class:`LiveVenue`: it connects and disconnects, reconciles its
orders and fills with Foxtrot's after a restart, and says when it has news.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Set
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import Order
from foxtrot.core.venue_port import Venue

__all__ = ["LiveVenue"]


@runtime_checkable
class LiveVenue(Venue, Protocol):
    """A venue outside the process: Binance and the like."""

    events_ready: asyncio.Event
    instruments: dict[InstrumentId, Instrument]  # what the venue lists, once started

    async def start(self) -> None:
        """Connect: load the venue's instruments and open its user data stream."""
        ...

    async def stop(self) -> None:
        """Disconnect."""
        ...

    async def balances(self) -> dict[str, Decimal]:
        """The account's total per currency as the venue holds it."""
        ...

    async def reconcile(
        self,
        orders: Iterable[Order] = ...,
        known_trade_ids: Set[TradeId] = ...,
        instruments: Iterable[InstrumentId] = ...,
    ) -> Any:
        """Bring the venue's view of ``orders`` in line with Foxtrot's: the events that do
        so come out of ``advance``. Raises when the venue cannot be reached or disagrees in
        a way it cannot explain."""
        ...
