"""Level-2 order books: the deltas venues publish and the book they build.

A venue's book feed is a snapshot followed by batches of level changes. Every batch
(:class:`OrderBookDeltas`) carries the venue's update id as ``sequence``; a batch follows on
from the book when ``previous_sequence <= book.sequence < sequence``, where
``previous_sequence`` is the venue's own link to the batch before (Binance futures' ``pu``) or,
when the venue numbers batches contiguously (Bybit's ``u``) and so gives none,
``sequence - 1``. Anything else is a gap: :meth:`OrderBook.apply` raises
:class:`BookSequenceGap` and leaves the book as it was, and only a snapshot heals it. A batch
at or below the book's sequence is a replay of what the book already holds and is ignored.

Levels are keyed by price (L2). ADD and UPDATE both set a level's size (feeds say "this
level now holds N", and whether the level existed is the book's business, not the feed's);
DELETE removes a level (a level that is not there is already deleted); CLEAR empties both
sides. A snapshot batch starts with CLEAR, and the book clears on ``is_snapshot`` anyway.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from foxtrot.core.errors import BookSequenceGap
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "BookAction",
    "BookLevel",
    "BookSequenceGap",
    "BookSide",
    "OrderBook",
    "OrderBookDelta",
    "OrderBookDeltas",
]

_ZERO = Decimal(0)


class BookAction(StrEnum):
    """What a delta does to its level."""

    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CLEAR = "CLEAR"


class BookSide(StrEnum):
    """Which side of the book a level is on."""

    BID = "BID"
    ASK = "ASK"


@dataclass(frozen=True, slots=True)
class OrderBookDelta:
    """One change to one price level; ``side`` is None only for CLEAR."""

    action: BookAction
    side: BookSide | None
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class OrderBookDeltas:
    """The level changes of one venue update, applied together.

    ``sequence`` is the venue's update id of the batch; ``previous_sequence`` the id of the
    batch it continues (None: ``sequence - 1``). A snapshot restarts the sequence.
    """

    instrument_id: InstrumentId
    deltas: tuple[OrderBookDelta, ...]
    sequence: int
    ts_event: int
    ts_init: int
    is_snapshot: bool = False
    previous_sequence: int | None = None


@dataclass(frozen=True, slots=True)
class BookLevel:
    """A price and the size resting there."""

    price: Decimal
    size: Decimal


class _Side:
    """One side's levels: sizes by price, plus the prices kept in ascending order."""

    __slots__ = ("prices", "sizes")

    def __init__(self) -> None:
        self.sizes: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []

    def set(self, price: Decimal, size: Decimal) -> None:
        if price not in self.sizes:
            bisect.insort(self.prices, price)
        self.sizes[price] = size

    def delete(self, price: Decimal) -> None:
        if self.sizes.pop(price, None) is not None:
            del self.prices[bisect.bisect_left(self.prices, price)]

    def clear(self) -> None:
        self.sizes.clear()
        self.prices.clear()


class OrderBook:
    """An L2 book built from snapshots and deltas, with sequence checking."""

    def __init__(self, instrument_id: InstrumentId) -> None:
        self.instrument_id = instrument_id
        self.sequence: int | None = None
        self.ts_event: int | None = None
        self._bids = _Side()
        self._asks = _Side()

    def apply(self, deltas: OrderBookDeltas) -> bool:
        """Apply a batch; False if the book already holds it. Raises BookSequenceGap."""
        if deltas.instrument_id != self.instrument_id:
            raise ValueError(
                f"deltas for {deltas.instrument_id} cannot update the book of {self.instrument_id}"
            )
        if not deltas.is_snapshot:
            if self.sequence is None:
                raise BookSequenceGap(
                    f"{self.instrument_id}: deltas {deltas.sequence} arrived before any snapshot"
                )
            if deltas.sequence <= self.sequence:
                return False
            previous = (
                deltas.sequence - 1
                if deltas.previous_sequence is None
                else deltas.previous_sequence
            )
            if not previous <= self.sequence:
                raise BookSequenceGap(
                    f"{self.instrument_id}: deltas {deltas.sequence} continue from {previous}, "
                    f"but the book is at {self.sequence}"
                )
        else:
            self._clear()
        for delta in deltas.deltas:
            self._apply(delta)
        self.sequence = deltas.sequence
        self.ts_event = deltas.ts_event
        return True

    def _apply(self, delta: OrderBookDelta) -> None:
        if delta.action is BookAction.CLEAR:
            self._clear()
            return
        if delta.side is None:
            raise ValueError(f"a {delta.action} delta needs a side, was None")
        side = self._bids if delta.side is BookSide.BID else self._asks
        if delta.action is BookAction.DELETE or delta.size == _ZERO:
            side.delete(delta.price)
        else:
            side.set(delta.price, delta.size)

    def _clear(self) -> None:
        self._bids.clear()
        self._asks.clear()

    def best_bid(self) -> BookLevel | None:
        """The highest bid, or None when there are no bids."""
        if not self._bids.prices:
            return None
        price = self._bids.prices[-1]
        return BookLevel(price, self._bids.sizes[price])

    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or None when there are no asks."""
        if not self._asks.prices:
            return None
        price = self._asks.prices[0]
        return BookLevel(price, self._asks.sizes[price])

    def bids(self, depth: int | None = None) -> list[BookLevel]:
        """Bid levels, best (highest) first; at most ``depth`` of them."""
        prices = self._bids.prices[::-1][:depth]
        return [BookLevel(price, self._bids.sizes[price]) for price in prices]

    def asks(self, depth: int | None = None) -> list[BookLevel]:
        """Ask levels, best (lowest) first; at most ``depth`` of them."""
        prices = self._asks.prices[:depth]
        return [BookLevel(price, self._asks.sizes[price]) for price in prices]

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (locked counts as crossed)."""
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid.price >= ask.price

    def snapshot(self, ts_event: int, ts_init: int) -> OrderBookDeltas:
        """The book as a snapshot batch (CLEAR, then one ADD per level) at its sequence."""
        if self.sequence is None:
            raise ValueError(f"{self.instrument_id}: the book has no snapshot to copy yet")
        levels = [OrderBookDelta(BookAction.CLEAR, None, _ZERO, _ZERO)]
        levels += [
            OrderBookDelta(BookAction.ADD, BookSide.BID, x.price, x.size) for x in self.bids()
        ]
        levels += [
            OrderBookDelta(BookAction.ADD, BookSide.ASK, x.price, x.size) for x in self.asks()
        ]
        return OrderBookDeltas(
            self.instrument_id, tuple(levels), self.sequence, ts_event, ts_init, is_snapshot=True
        )
