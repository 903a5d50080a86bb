"""Instrument definitions: where they come from, where they are kept and announced.

Definitions come from PostgreSQL (what was known before), an instruments file
(``FOXTROT_INSTRUMENTS_FILE``), Binance's ``exchangeInfo`` for the streamed symbols, and
external publishers on ``md.v1.ingest.instrument.{venue}.{symbol}``. A definition that is
new or changed is written to ``market_data.instruments`` and published on
``md.v1.instrument.{venue}.{symbol}``; every replica follows that subject (last message per
instrument first), so all of them check published prices and sizes against the same rules
and answer ``qry.v1.md.instruments`` alike.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Final

import httpx

from foxtrot.common import subjects
from foxtrot.common.errors import InfrastructureError, MalformedMessage
from foxtrot.common.messages.v1 import Instrument as InstrumentMessage
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import MARKET_DATA
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.adapters.binance.rest import BinanceRest
from foxtrot.market_data.adapters.binance_instruments import parse_exchange_info
from foxtrot.market_data.adapters.instrument_store import InstrumentStore
from foxtrot.market_data.instruments import InstrumentRegistry

__all__ = ["Definitions"]

log = logging.getLogger(__name__)
# Root of definition message ids: the same rules announced twice carry the same id.
_DEFINITION_IDS: Final = uuid.UUID("5e0a8f3c-71c2-4b8e-9d7a-3c1e6b2f9a44")


class Definitions:
    """The registry of instrument rules, kept in step with the store and the bus."""

    def __init__(
        self, registry: InstrumentRegistry, store: InstrumentStore | None, publish: Publisher
    ) -> None:
        self.registry = registry
        self.store = store
        self.publish = publish

    async def load(self, file: str = "") -> None:
        """At start: what the store knows, then the instruments file's changes; every
        definition is announced again, so the stream holds each one even when it lost them
        (purged, recreated) while the store kept them: risk and execution learn the rules
        from the stream. Announcing an unchanged definition changes nothing downstream."""
        if self.store is not None:
            known = await self.registry.load_store(self.store)
            log.info("%d instrument definitions from the store", len(known))
        changed = self.registry.load_file(file) if file else []
        await self._keep(changed)
        await self._announce([i for i in self.registry if i not in changed])

    async def load_binance(self, rest_url: str, venue: str, symbols: Iterable[str]) -> None:
        """The rules of the streamed Binance symbols, from ``/api/v3/exchangeInfo``.

        A venue that cannot be asked, or answers badly, is a warning: the stream still
        runs, its records passing unchecked until rules are defined."""
        rest = BinanceRest(rest_url)
        try:
            document = await rest.exchange_info(symbols)
            parsed = parse_exchange_info(document, venue)
        except (
            httpx.HTTPError,
            InfrastructureError,
            MalformedMessage,
            ValueError,
            KeyError,
        ) as exc:
            log.warning("no instrument rules from %s exchangeInfo: %s", venue, exc)
            return
        finally:
            await rest.aclose()
        for symbol, reason in parsed.skipped.items():
            log.warning("no instrument rules for %s: %s", symbol, reason)
        await self._keep(self.registry.put_all(parsed.instruments))

    async def define(self, instrument: Instrument) -> None:
        """A definition from an external publisher: kept and announced if new or changed.

        The registry takes it only once it is stored and announced, so a failure part-way
        leaves it "changed" for the retry."""
        if self.registry.get(instrument.instrument_id) != instrument:
            await self._keep([instrument])
            self.registry.put(instrument)

    async def on_announced(self, message: InstrumentMessage) -> None:
        """A definition announced on md.v1.instrument.* (by any replica)."""
        self.registry.put(message.to_core())

    async def _keep(self, changed: list[Instrument]) -> None:
        if not changed:
            return
        now = now_ns()
        if self.store is not None:
            await self.store.upsert(changed, now)
        await self._announce(changed, now)
        log.info("%d instrument definitions new or changed", len(changed))

    async def _announce(self, instruments: Iterable[Instrument], now: int | None = None) -> None:
        now = now or now_ns()
        for instrument in instruments:
            message = InstrumentMessage.from_core(
                instrument,
                ts_event=now,
                ts_init=now,
                message_id=derived_id(_DEFINITION_IDS, _rules(instrument)),
            )
            await self.publish(subjects.instrument(instrument.instrument_id), message, MARKET_DATA)


def _rules(instrument: Instrument) -> str:
    i = instrument
    return (
        f"{i.instrument_id}:{i.base_currency}:{i.quote_currency}:{i.tick_size}:{i.lot_size}:"
        f"{i.min_quantity}:{i.max_quantity}:{i.min_notional}:{i.tradable}"
    )
