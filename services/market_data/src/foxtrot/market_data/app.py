"""Market data's composition root."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from importlib.resources import files
from typing import Any

from fastapi import FastAPI

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import Instrument as InstrumentMessage
from foxtrot.common.publishing import Publisher
from foxtrot.common.runtime import ServiceRuntime
from foxtrot.common.streams import MARKET_DATA
from foxtrot.market_data import handlers
from foxtrot.market_data.adapters.bar_store import BarStore
from foxtrot.market_data.adapters.binance import BinanceFeed
from foxtrot.market_data.adapters.instrument_store import InstrumentStore
from foxtrot.market_data.adapters.tables import SCHEMA
from foxtrot.market_data.bars import BarBuilder, parse_specs
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.definitions import Definitions
from foxtrot.market_data.ingest import IngestConfig, IngestShare
from foxtrot.market_data.instrument_queries import register_instrument_queries
from foxtrot.market_data.instruments import InstrumentRegistry
from foxtrot.market_data.outbox import TickSubjects
from foxtrot.market_data.quality import QualityWatch
from foxtrot.market_data.service import Replayer, open_replay
from foxtrot.market_data.venues import VenueFeeds

__all__ = ["MIGRATIONS", "SCHEMA", "create_app"]

MIGRATIONS = str(files("foxtrot.market_data") / "migrations")

log = logging.getLogger(__name__)


def create_app(settings: MarketDataSettings | None = None) -> FastAPI:
    """Wire ingest, replay and bar building to NATS and serve the ops endpoints."""
    settings = settings or MarketDataSettings()
    # History needs PostgreSQL; without DATABASE_URL the service publishes but keeps none.
    runtime = ServiceRuntime.create("market_data", settings, database=bool(settings.database_url))
    # Market data is published unconfirmed: the stream still captures and deduplicates it,
    # and a lost tick is made good by the venue's next one, not by a retry.
    publish = Publisher(runtime.broker, confirm=False)
    store: InstrumentStore | None = None
    if runtime.engine is not None:
        handlers.register_history(runtime.consumers, BarStore(runtime.engine))
        store = InstrumentStore(runtime.engine)
    else:
        log.warning("no DATABASE_URL: bars and instruments are published but not kept")
    registry = InstrumentRegistry()
    definitions = Definitions(registry, store, Publisher(runtime.broker))
    runtime.consumers.latest(
        subjects.MD_ALL_INSTRUMENTS,
        stream=MARKET_DATA,
        decode=InstrumentMessage.from_json,
        handle=lambda message, _delivery: definitions.on_announced(message),
    )
    register_instrument_queries(runtime.consumers, registry)
    specs = parse_specs(settings.bar_specs)
    empty = settings.empty_bar_policy()
    # Live input is timed by the wall clock, a replay by its records: separate watches.
    live_quality, replay_quality = QualityWatch(publish), QualityWatch(publish)
    handlers.register_quality(runtime.consumers, live_quality, replay_quality)
    # Read by the partition workers (ingest.py), not by FastStream; listed for /subscriptions.
    runtime.consumers.patterns += [
        subjects.INGEST_TRADES,
        subjects.INGEST_TRADE_BATCHES,
        subjects.INGEST_QUOTES,
        subjects.INGEST_BARS,
        subjects.INGEST_INSTRUMENTS,
    ]
    tick_subjects = TickSubjects.parse(settings.tick_subjects)
    ingest_config = IngestConfig(
        specs,
        empty,
        settings.bar_clock(),
        settings.lease_ttl,
        settings.ingest_batch,
        settings.replica_name,
        tick_subjects,
    )
    share: IngestShare | None = None
    tasks: list[asyncio.Task[None]] = []

    async def every_second() -> None:
        # Notices stale live feeds on the wall clock.
        while True:
            await asyncio.sleep(1.0 - (time.time() % 1.0))  # on the second
            if share is not None:
                await share.on_time()

    runners: list[Callable[[], Coroutine[Any, Any, None]]] = [every_second]
    if settings.replay_source:
        replayer = Replayer(
            publish,
            open_replay(settings),
            settings.replay_speed,
            settings.replay_limit,
            settings.replay_source,
            BarBuilder(specs, empty) if specs else None,
            replay_quality,
            tick_subjects,
        )
        runners.append(replayer.run)

    feed: BinanceFeed | None = None

    async def start() -> None:
        nonlocal share, feed
        nc = runtime.broker.connection
        await definitions.load(settings.instruments_file)
        share = IngestShare(
            nc,
            runtime.consumers.dead_letters,
            live_quality,
            ingest_config,
            check=registry.problem,
            define=definitions.define,
        )
        if symbols := settings.binance_symbol_list():
            await definitions.load_binance(
                settings.binance_rest_url, settings.binance_venue, symbols
            )
            # Started empty: the partitions this replica takes decide which symbols it streams.
            venues = VenueFeeds.binance(
                nc,
                symbols,
                live_quality,
                venue=settings.binance_venue,
                ws_url=settings.binance_ws_url,
                rest_url=settings.binance_rest_url,
            )
            feed = venues.feed
            await feed.start()
            share.listeners.append(venues)
        await share.start()
        for run in runners:
            task = asyncio.create_task(run(), name=run.__qualname__)
            task.add_done_callback(_report_failure)
            tasks.append(task)

    async def stop() -> None:
        for task in tasks:
            if task.done():
                continue  # finished, or failed and already reported
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if share is not None:
            await share.stop()
        if feed is not None:
            await feed.stop()

    runtime.on_start.append(start)
    runtime.on_stop.append(stop)
    return runtime.app()


def _report_failure(task: asyncio.Task[None]) -> None:
    # A replay or timer that dies (a bad row, NATS gone for good) must say so.
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())
