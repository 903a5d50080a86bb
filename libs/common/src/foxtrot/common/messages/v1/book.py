"""v1 order books: batches of L2 level changes as market_data publishes them."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import InstrumentIdStr, NonNegativeDecimalStr
from foxtrot.core import book as core
from foxtrot.core.book import BookAction, BookSide
from foxtrot.core.identifiers import InstrumentId

__all__ = ["BookDelta", "OrderBookDeltas"]


class BookDelta(BaseModel):
    """One change to one price level of an L2 book."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: BookAction = Field(
        description="ADD/UPDATE set the level's size, DELETE removes it, CLEAR empties the book"
    )
    side: BookSide | None = Field(default=None, description="BID or ASK; null only for CLEAR")
    price: NonNegativeDecimalStr = Field(description='level price; "0" for CLEAR')
    size: NonNegativeDecimalStr = Field(description='size at the level; "0" for DELETE, CLEAR')

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.action is BookAction.CLEAR:
            if self.side is not None or self.price != 0 or self.size != 0:
                raise ValueError(
                    "a CLEAR delta has side null, price 0 and size 0, was "
                    f"side={self.side} price={self.price} size={self.size}"
                )
            return self
        if self.side is None:
            raise ValueError(f"a {self.action} delta needs side BID or ASK, was null")
        if self.price <= 0:
            raise ValueError(f"a {self.action} delta needs a price above 0, was {self.price}")
        if self.action is not BookAction.DELETE and self.size <= 0:
            raise ValueError(
                f"a {self.action} delta needs a size above 0 (DELETE removes a level), "
                f"was {self.size}"
            )
        return self


class OrderBookDeltas(Message):
    """The level changes of one venue update, applied together.

    A consumer applies a batch when ``previous_sequence <= its book's sequence < sequence``
    (``previous_sequence`` null means ``sequence - 1``); anything else is a gap to heal
    with the next snapshot. Subject: md.v1.book.{venue}.{symbol}.
    """

    type: Literal["OrderBookDeltas"] = "OrderBookDeltas"
    instrument_id: InstrumentIdStr
    sequence: int = Field(ge=0, description="the venue's update id of this batch")
    previous_sequence: int | None = Field(
        default=None,
        ge=0,
        description="update id of the batch this one continues; null means sequence - 1",
    )
    is_snapshot: bool = Field(
        default=False, description="the whole book: replaces what the consumer holds"
    )
    deltas: tuple[BookDelta, ...] = Field(min_length=1, description="applied in order")

    def to_core(self) -> core.OrderBookDeltas:
        """The domain's view of this batch."""
        return core.OrderBookDeltas(
            InstrumentId.parse(self.instrument_id),
            tuple(
                core.OrderBookDelta(delta.action, delta.side, delta.price, delta.size)
                for delta in self.deltas
            ),
            self.sequence,
            self.ts_event,
            self.ts_init,
            is_snapshot=self.is_snapshot,
            previous_sequence=self.previous_sequence,
        )

    @classmethod
    def from_core(cls, deltas: core.OrderBookDeltas, **envelope: Any) -> Self:
        """Wrap a domain batch for the wire."""
        return cls(
            instrument_id=str(deltas.instrument_id),
            sequence=deltas.sequence,
            previous_sequence=deltas.previous_sequence,
            is_snapshot=deltas.is_snapshot,
            deltas=tuple(
                BookDelta(action=delta.action, side=delta.side, price=delta.price, size=delta.size)
                for delta in deltas.deltas
            ),
            ts_event=deltas.ts_event,
            ts_init=deltas.ts_init,
            **envelope,
        )
