"""Binance spot market data, live: the feed, its parts, and a local fake Binance for tests.

- :mod:`.messages`: Binance JSON as domain records (strict; MalformedMessage otherwise).
- :mod:`.book_builder`: snapshot + diff events into a sequence-checked book.
- :mod:`.gaps`: the holes the feed reports (trade ids, depth ids, disconnects).
- :mod:`.backoff`: exponential backoff with full jitter.
- :mod:`.rest`, :mod:`.snapshots`: REST order book snapshots, fetched within Binance's limits.
- :mod:`.stream_methods`: SUBSCRIBE/UNSUBSCRIBE on a connection.
- :mod:`.feed`: :class:`BinanceFeed`, the WebSocket connection that ties them together.
- :mod:`.fake`, :mod:`.fake_market`, :mod:`.fake_replay`: :class:`~.fake.FakeBinance`, a
  real local server speaking Binance's formats, and a process that replays recorded data.

``docs/binance.md`` describes the streams, the book rules, gaps and reconnects.
"""

from foxtrot.market_data.adapters.binance.feed import BinanceFeed, FeedGap, GapKind, LiveRecord

__all__ = ["BinanceFeed", "FeedGap", "GapKind", "LiveRecord"]
