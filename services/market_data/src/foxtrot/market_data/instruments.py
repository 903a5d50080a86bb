"""The instruments market data knows, and the check every record passes before it is published.

Definitions come from the store (what was known before a restart), from an instruments
file, and from ``md.v1.ingest.instrument.*`` input. :meth:`InstrumentRegistry.problem` says
why a trade, quote, bar or book update does not fit its instrument's tick and lot size; it
runs on every record, so it works from tick and lot sizes cached per instrument and builds
a message only when something is wrong.

The instruments file (``load_file``) is JSON, either

- a list of objects with the fields of ``IngestInstrument`` plus ``instrument_id``::

    [{"instrument_id": "BTCUSDT.BINANCE", "base_currency": "BTC", "quote_currency": "USDT",
      "tick_size": "0.01", "lot_size": "0.00001", "min_quantity": "0.00001",
      "max_quantity": "9000", "min_notional": "5", "tradable": true}]

  (``min_quantity`` defaults to 0, ``max_quantity`` and ``min_notional`` to no limit,
  ``tradable`` to true; decimals are strings, as on the wire), or
- a Binance ``exchangeInfo`` response saved as it came (an object with ``symbols``), whose
  symbols go on the venue given as ``binance_venue``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from decimal import Context, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Final

from pydantic import TypeAdapter, ValidationError

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.messages.v1 import IngestInstrument
from foxtrot.common.messages.v1.types import InstrumentIdStr
from foxtrot.core.book import BookAction, OrderBookDeltas
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.adapters.binance_instruments import parse_exchange_info
from foxtrot.market_data.adapters.instrument_store import InstrumentStore

__all__ = ["CheckedRecord", "InstrumentRegistry", "read_instrument_file"]

log = logging.getLogger(__name__)

CheckedRecord = TradeTick | QuoteTick | Bar | OrderBookDeltas
_ZERO: Final = Decimal(0)
# For the rare value whose quotient by the step has more digits than the default context's
# 28 (1e25 at a tick of 0.001): only the slow path, which builds the message, needs it.
_WIDE: Final = Context(prec=200)


class InstrumentRegistry:
    """Instruments by id, and the checks of published data against them."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._instruments: dict[InstrumentId, Instrument] = {}
        # (tick size, lot size) per instrument: one dict lookup per record.
        self._steps: dict[InstrumentId, tuple[Decimal, Decimal]] = {}
        # The last id looked up: a feed sends runs of records of one instrument, often
        # with the same InstrumentId object, whose hash would cost more than the check.
        self._last_id: InstrumentId | None = None
        self._last_steps: tuple[Decimal, Decimal] | None = None
        self.put_all(instruments)

    def __len__(self) -> int:
        return len(self._instruments)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._instruments

    def __iter__(self) -> Iterator[Instrument]:
        """The instruments, sorted by instrument id (as text)."""
        return iter(sorted(self._instruments.values(), key=lambda i: str(i.instrument_id)))

    def get(self, instrument_id: InstrumentId) -> Instrument | None:
        """The instrument with this id, or None."""
        return self._instruments.get(instrument_id)

    def put(self, instrument: Instrument) -> bool:
        """Add or replace a definition; True when it is new or its rules changed."""
        instrument_id = instrument.instrument_id
        if self._instruments.get(instrument_id) == instrument:
            return False
        self._instruments[instrument_id] = instrument
        self._steps[instrument_id] = (instrument.tick_size, instrument.lot_size)
        self._last_id = self._last_steps = None
        return True

    def put_all(self, instruments: Iterable[Instrument]) -> list[Instrument]:
        """Put each definition; returns those that were new or changed."""
        return [instrument for instrument in instruments if self.put(instrument)]

    def load_file(self, path: Path | str, binance_venue: str = "BINANCE") -> list[Instrument]:
        """Put the definitions of an instruments file; returns those new or changed."""
        return self.put_all(read_instrument_file(path, binance_venue))

    async def load_store(self, store: InstrumentStore) -> list[Instrument]:
        """Put every stored definition; returns those new or changed."""
        return self.put_all(await store.load_all())

    def problem(self, record: CheckedRecord) -> str | None:
        """Why ``record``'s prices or sizes do not fit its instrument, or None.

        Prices must be positive multiples of the tick size and sizes multiples of the lot
        size: trade sizes positive, quote sizes, bar volume and book sizes at least 0 (a
        DELETE has size 0). Minimum and maximum quantity and notional apply to orders, not
        to what printed. An instrument without a definition passes: nothing is known to
        check it against (``in`` tells the caller which ones those are).
        """
        instrument_id = record.instrument_id
        if instrument_id is self._last_id:
            steps = self._last_steps
        else:
            steps = self._steps.get(instrument_id)
            if steps is None:
                return None
            self._last_id, self._last_steps = instrument_id, steps
        assert steps is not None
        tick, lot = steps
        try:
            if type(record) is TradeTick:  # the most frequent record first
                price, size = record.price, record.size
                if price > _ZERO and size > _ZERO and not price % tick and not size % lot:
                    return None
            elif type(record) is QuoteTick:
                if (
                    record.bid_price > _ZERO
                    and record.ask_price > _ZERO
                    and record.bid_size >= _ZERO
                    and record.ask_size >= _ZERO
                    and not record.bid_price % tick
                    and not record.ask_price % tick
                    and not record.bid_size % lot
                    and not record.ask_size % lot
                ):
                    return None
            elif type(record) is Bar:
                if (
                    record.open > _ZERO
                    and record.high > _ZERO
                    and record.low > _ZERO
                    and record.close > _ZERO
                    and record.volume >= _ZERO
                    and not record.open % tick
                    and not record.high % tick
                    and not record.low % tick
                    and not record.close % tick
                    and not record.volume % lot
                ):
                    return None
            elif type(record) is OrderBookDeltas:
                if all(
                    delta.action is BookAction.CLEAR
                    or (
                        delta.price > _ZERO
                        and delta.size >= _ZERO
                        and not delta.price % tick
                        and not delta.size % lot
                    )
                    for delta in record.deltas
                ):
                    return None
            else:
                raise TypeError(f"cannot check a {type(record).__name__}")
        except InvalidOperation:
            pass  # a quotient too long for the default context: the slow path says
        return _describe(record, tick, lot)


def read_instrument_file(path: Path | str, binance_venue: str = "BINANCE") -> list[Instrument]:
    """The definitions in an instruments file (see the module docstring for its format)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"instruments file {path}: {exc}") from None
    if isinstance(document, dict) and "symbols" in document:
        parsed = parse_exchange_info(document, binance_venue)
        for symbol, reason in parsed.skipped.items():
            log.warning("instruments file %s: left out %s: %s", path, symbol, reason)
        return parsed.instruments
    if not isinstance(document, list):
        raise ConfigurationError(
            f"instruments file {path}: expected a list of instruments or a Binance "
            f"exchangeInfo object, was a JSON {type(document).__name__}"
        )
    try:
        entries = _FILE.validate_python(document)
    except ValidationError as exc:
        raise ConfigurationError(f"instruments file {path}: {exc}") from None
    return [entry.to_core(InstrumentId.parse(entry.instrument_id)) for entry in entries]


class _FileEntry(IngestInstrument):
    """One entry of an instruments file: the ingest form plus the instrument id."""

    instrument_id: InstrumentIdStr


_FILE: Final = TypeAdapter(list[_FileEntry])
_TICK: Final = "tick size"
_LOT: Final = "lot size"


def _describe(record: CheckedRecord, tick: Decimal, lot: Decimal) -> str | None:
    """The first problem of a record, in words (the slow path of ``problem``)."""
    # (what, value, step, name of the step, may the value be zero)
    checks: list[tuple[str, Decimal, Decimal, str, bool]]
    if isinstance(record, TradeTick):
        checks = [
            ("price", record.price, tick, _TICK, False),
            ("size", record.size, lot, _LOT, False),
        ]
    elif isinstance(record, QuoteTick):
        checks = [
            ("bid_price", record.bid_price, tick, _TICK, False),
            ("ask_price", record.ask_price, tick, _TICK, False),
            ("bid_size", record.bid_size, lot, _LOT, True),
            ("ask_size", record.ask_size, lot, _LOT, True),
        ]
    elif isinstance(record, Bar):
        checks = [
            (name, getattr(record, name), tick, _TICK, False)
            for name in ("open", "high", "low", "close")
        ]
        checks.append(("volume", record.volume, lot, _LOT, True))
    else:
        checks = []
        for n, delta in enumerate(record.deltas):
            if delta.action is not BookAction.CLEAR:
                where = f"delta {n} ({delta.action} {delta.side})"
                checks.append((f"{where} price", delta.price, tick, _TICK, False))
                checks.append((f"{where} size", delta.size, lot, _LOT, True))
    for what, value, step, step_name, may_be_zero in checks:
        if may_be_zero and value < _ZERO:
            return f"{what} must not be negative, was {value:f}"
        if not may_be_zero and not value > _ZERO:
            return f"{what} must be positive, was {value:f}"
        with localcontext(_WIDE):
            off_step = bool(value % step)
        if off_step:
            return f"{what} must be a multiple of {step_name} {step:f}, was {value:f}"
    return None
