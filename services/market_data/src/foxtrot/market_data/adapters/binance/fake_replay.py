"""Run a FakeBinance as a process that replays recorded Binance trades and quotes, for demos.

    python -m foxtrot.market_data.adapters.binance.fake_replay --port 9443 \\
        --trades ../shared/data/trades/binance_spot_BTCUSDT_trades_2021-01-08.parquet \\
        --quotes ../shared/data/quotes/binance_spot_BTCUSDT_quotes_2021-01-08.parquet

A feed then connects with ``ws_url="ws://127.0.0.1:9443"`` and
``rest_url="http://127.0.0.1:9443"``. Trades and quotes go out in their recorded order and
pace (``--speed`` times faster), stamped with the time they are sent, round and round; trade
ids count on across rounds, as Binance's never repeat. Each quote also moves the book: a
diff event sets its best bid and ask and removes the previous ones, so the depth stream
and the snapshot endpoint agree with the quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
from decimal import Decimal
from pathlib import Path

from foxtrot.common.market_files.quotes import read_binance_quotes_parquet
from foxtrot.common.market_files.trades import read_binance_trades_parquet
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.fake import FakeBinance, Level

__all__ = ["main", "replay"]

_NS = 1_000_000_000


async def replay(
    fake: FakeBinance, trades: list[TradeTick], quotes: list[QuoteTick], speed: float
) -> None:
    """Send the records in time order at ``speed`` times their pace, forever."""
    records: list[TradeTick | QuoteTick] = [*trades, *quotes]
    merged = sorted(records, key=lambda record: record.ts_event)  # stable: trades first
    if not merged:
        return
    ids = [int(trade.trade_id) for trade in trades] or [0]
    id_span = max(ids) - min(ids) + 1
    previous: QuoteTick | None = None
    for round_ in itertools.count():
        start = merged[0].ts_event
        for record in merged:
            # Sleeping even for 0 s lets the server answer clients between records.
            await asyncio.sleep(max(0, record.ts_event - start) / _NS / speed)
            start = record.ts_event
            if isinstance(record, TradeTick):
                await fake.send_trade(
                    record.instrument_id.symbol,
                    record.price,
                    record.size,
                    buyer_is_maker=record.aggressor_side is AggressorSide.SELLER,
                    trade_id=int(record.trade_id) + round_ * id_span,
                )
            else:
                await fake.send_quote_tick(record)
                await fake.send_depth(record.instrument_id.symbol, *_top_of_book(previous, record))
                previous = record


def _top_of_book(previous: QuoteTick | None, quote: QuoteTick) -> tuple[list[Level], list[Level]]:
    bids: list[Level] = [(quote.bid_price, quote.bid_size)]
    asks: list[Level] = [(quote.ask_price, quote.ask_size)]
    if previous is not None and previous.bid_price != quote.bid_price:
        bids.insert(0, (previous.bid_price, Decimal(0)))
    if previous is not None and previous.ask_price != quote.ask_price:
        asks.insert(0, (previous.ask_price, Decimal(0)))
    return bids, asks


async def _serve(args: argparse.Namespace) -> None:
    instrument_id = InstrumentId(args.symbol, "BINANCE")
    trades = list(read_binance_trades_parquet(args.trades, instrument_id)) if args.trades else []
    quotes = list(read_binance_quotes_parquet(args.quotes, instrument_id)) if args.quotes else []
    async with FakeBinance([args.symbol], host=args.host, port=args.port) as fake:
        print(f"fake Binance: ws_url={fake.ws_url} rest_url={fake.rest_url}", flush=True)
        await replay(fake, trades, quotes, args.speed)
        await asyncio.Event().wait()  # nothing to replay: serve until interrupted


def main() -> None:
    """Serve a fake Binance on a port, replaying the given files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9443)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--trades", type=Path, help="Binance spot trades Parquet")
    parser.add_argument("--quotes", type=Path, help="Binance spot quotes Parquet")
    parser.add_argument("--speed", type=float, default=1.0, help="times the recorded pace")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
