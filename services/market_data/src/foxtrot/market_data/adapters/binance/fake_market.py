"""What a :class:`~.fake.FakeBinance` knows of each symbol: rules, book, ids, and the events.

:class:`FakeMarket` is one symbol on the fake venue. It keeps the book and numbers the
update ids as Binance does (one id per level changed, ``U..u`` per diff event), counts
trade ids on, and writes each event in Binance's JSON; it does no I/O, the server in
:mod:`.fake` sends what it makes.

``/api/v3/exchangeInfo`` has the shape of Binance spot's: ``timezone``, ``serverTime``,
``rateLimits``, ``exchangeFilters`` and one entry per symbol with ``status``, assets,
precisions, order types and the filters instruments are made from: ``PRICE_FILTER``
(``minPrice``, ``maxPrice``, ``tickSize``), ``LOT_SIZE`` (``minQty``, ``maxQty``,
``stepSize``) and ``NOTIONAL`` (``minNotional``, ``maxNotional``), or the older
``MIN_NOTIONAL`` (``minNotional``, ``applyToMarket``) of symbols listed before 2023. Decimals
are strings with eight places, as Binance prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foxtrot.common.market_files.books import CLEAR, level_delta
from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta, OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId

__all__ = ["FakeMarket", "FakeSymbol", "Level", "book_levels", "exchange_info"]

Level = tuple[Decimal | str, Decimal | str]


@dataclass(frozen=True, slots=True)
class FakeSymbol:
    """A symbol the fake lists, with the trading rules exchangeInfo gives for it."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal = Decimal("0.01")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")
    notional_filter: str = "NOTIONAL"  # "MIN_NOTIONAL" as symbols listed before 2023 had

    @classmethod
    def of(cls, symbol: str) -> FakeSymbol:
        """Default rules for a symbol whose quote asset is one of the usual four."""
        for quote in ("USDT", "USDC", "BTC", "ETH"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return cls(symbol, symbol[: -len(quote)], quote)
        raise ValueError(f"cannot tell the base and quote assets of {symbol!r}; give a FakeSymbol")

    def exchange_info(self) -> dict[str, Any]:
        """The symbol's entry in ``/api/v3/exchangeInfo``'s ``symbols``."""
        notional: dict[str, Any] = {"filterType": self.notional_filter}
        notional["minNotional"] = _eight(self.min_notional)
        if self.notional_filter == "MIN_NOTIONAL":
            notional |= {"applyToMarket": True, "avgPriceMins": 5}
        else:
            notional |= {
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            }
        return {
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": self.base_asset,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote_asset,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _eight(self.min_price),
                    "maxPrice": _eight(self.max_price),
                    "tickSize": _eight(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _eight(self.min_qty),
                    "maxQty": _eight(self.max_qty),
                    "stepSize": _eight(self.step_size),
                },
                notional,
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
        }


def exchange_info(symbols: list[FakeSymbol], server_time_ms: int) -> dict[str, Any]:
    """The body of ``GET /api/v3/exchangeInfo`` listing ``symbols``."""
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [symbol.exchange_info() for symbol in symbols],
    }


def book_levels(deltas: OrderBookDeltas) -> tuple[list[Level], list[Level]]:
    """The bid and ask levels a batch sets (size 0 for a delete), for seeding or sending."""
    bids: list[Level] = []
    asks: list[Level] = []
    for delta in deltas.deltas:
        if delta.action is BookAction.CLEAR or delta.side is None:
            continue
        size = Decimal(0) if delta.action is BookAction.DELETE else delta.size
        (bids if delta.side is BookSide.BID else asks).append((delta.price, size))
    return bids, asks


@dataclass
class FakeMarket:
    """One symbol on the fake venue: its rules, its book, and the ids of its events."""

    rules: FakeSymbol
    book: OrderBook
    next_trade_id: int = 1
    book_ticker_id: int = 1
    withheld: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, rules: FakeSymbol, venue: str, first_update_id: int) -> FakeMarket:
        """A market with an empty book at ``first_update_id``."""
        book = OrderBook(InstrumentId(rules.symbol, venue))
        book.apply(OrderBookDeltas(book.instrument_id, (CLEAR,), first_update_id, 0, 0, True))
        return cls(rules, book)

    @property
    def last_update_id(self) -> int:
        """The update id the book is at."""
        return self.book.sequence or 0

    def seed(self, bids: Sequence[Level], asks: Sequence[Level], last_update_id: int) -> None:
        """Replace the book, as of ``last_update_id``."""
        levels = (CLEAR, *_deltas(bids, asks, snapshot=True))
        self.book.apply(
            OrderBookDeltas(self.book.instrument_id, levels, last_update_id, 0, 0, True)
        )

    def depth_event(
        self, bids: Sequence[Level], asks: Sequence[Level], skip_ids: int, ts_ms: int
    ) -> dict[str, Any]:
        """Change levels in the book; the diff event saying so, ``skip_ids`` ids on."""
        last = self.last_update_id
        first = last + 1 + skip_ids
        final = first + max(len(bids) + len(asks), 1) - 1
        changes = tuple(_deltas(bids, asks, snapshot=False))
        # The venue's own book chains on from itself, whatever ids the event shows.
        self.book.apply(OrderBookDeltas(self.book.instrument_id, changes, final, 0, 0, False, last))
        return {
            "e": "depthUpdate",
            "E": ts_ms,
            "s": self.rules.symbol,
            "U": first,
            "u": final,
            "b": [[str(p), str(q)] for p, q in bids],
            "a": [[str(p), str(q)] for p, q in asks],
        }

    def depth_snapshot(self, limit: int) -> dict[str, Any]:
        """The body of ``GET /api/v3/depth``: the best ``limit`` levels a side."""
        return {
            "lastUpdateId": self.last_update_id,
            "bids": [[str(x.price), str(x.size)] for x in self.book.bids(limit)],
            "asks": [[str(x.price), str(x.size)] for x in self.book.asks(limit)],
        }

    def trade_event(
        self,
        price: Decimal | str,
        quantity: Decimal | str,
        buyer_is_maker: bool,
        trade_id: int | None,
        ts_ms: int,
    ) -> dict[str, Any]:
        """A trade event; its id counts on from the last one unless given."""
        tid = self.next_trade_id if trade_id is None else trade_id
        self.next_trade_id = tid + 1
        return {
            "e": "trade",
            "E": ts_ms,
            "s": self.rules.symbol,
            "t": tid,
            "p": str(price),
            "q": str(quantity),
            "T": ts_ms,
            "m": buyer_is_maker,
            "M": True,
        }

    def book_ticker_event(
        self,
        bid: Decimal | str,
        bid_qty: Decimal | str,
        ask: Decimal | str,
        ask_qty: Decimal | str,
    ) -> dict[str, Any]:
        """A bookTicker event (spot's carries no time)."""
        self.book_ticker_id += 1
        return {
            "u": self.book_ticker_id,
            "s": self.rules.symbol,
            "b": str(bid),
            "B": str(bid_qty),
            "a": str(ask),
            "A": str(ask_qty),
        }


def _deltas(bids: Sequence[Level], asks: Sequence[Level], snapshot: bool) -> list[OrderBookDelta]:
    deltas = []
    for side, levels in ((BookSide.BID, bids), (BookSide.ASK, asks)):
        for price, size in levels:
            delta = level_delta(side, Decimal(price), Decimal(size), snapshot)
            if not (snapshot and delta.action is BookAction.DELETE):
                deltas.append(delta)
    return deltas


def _eight(value: Decimal) -> str:
    return format(value, ".8f")
