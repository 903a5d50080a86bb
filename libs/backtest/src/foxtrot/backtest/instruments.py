"""Instrument rules for a backtest: read off its data, or from a JSON file of them.

An instrument the spec does not list gets rules read off its data
(:func:`infer_instruments`; ``docs/backtesting.md`` states the rule). A file such as
``deploy/instruments.json`` lists rules as :class:`InstrumentSpec` objects
(:func:`read_instruments`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from foxtrot.backtest.spec import InstrumentSpec, InvalidBacktest, one_line
from foxtrot.core.backtest import MarketRecord
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.identifiers import InstrumentId

__all__ = ["infer_instruments", "read_instruments", "split_symbol"]

_FINEST: Final = Decimal("1e-8")
_COARSEST: Final = Decimal(1)
# Quote currencies a concatenated symbol may end in, longest first (USDT before USD).
_QUOTES: Final = tuple(
    sorted(
        {"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USD", "EUR", "GBP", "JPY", "CHF",
         "AUD", "CAD", "NZD", "TRY", "BRL", "BTC", "ETH", "BNB"},
        key=lambda q: (-len(q), q),
    )
)  # fmt: skip
# Derivatives named BASE-PERP, BASE-SWAP or BASE-0325 (FTX style) are quoted in USD.
_DERIVATIVE: Final = re.compile(r"^(PERP|SWAP|\d{4}|\d{6})$")


def split_symbol(symbol: str) -> tuple[str, str] | None:
    """Base and quote currency of a symbol, or None when it does not say.

    ``EUR/USD`` and ``BTC/USDT:USDT`` split on the slash; ``BTC-USD``, ``ETH_USDT`` and
    ``BTC-USDT-SWAP`` on the dash or underscore when a known quote follows; ``BTC-PERP``,
    ``BTC-SWAP`` and ``BTC-0325`` are USD-quoted derivatives; ``BTCUSDT`` splits on a known
    quote currency at its end.
    """
    upper = symbol.upper()
    if "/" in upper:
        base, _, quote = upper.partition("/")
        quote = quote.partition(":")[0]
        return (base, quote) if base and quote else None
    parts = [p for p in re.split(r"[-_]", upper) if p]
    if len(parts) >= 2:
        if parts[1] in _QUOTES:
            return parts[0], parts[1]
        if _DERIVATIVE.match(parts[-1]) and len(parts) == 2 and not _ends_in_quote(parts[0]):
            return parts[0], "USD"
        upper = parts[0]  # BTCUSDT_PERP: the pair comes first
    for quote in _QUOTES:
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    return None


def _ends_in_quote(text: str) -> bool:
    return any(text.endswith(q) and len(text) > len(q) for q in _QUOTES)


def _step(value: Decimal) -> Decimal | None:
    """The place of a number's last significant digit: 46319.0 -> 1, 0.0150 -> 0.001."""
    if not value:
        return None
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(1).scaleb(exponent)


def _prices_and_sizes(record: MarketRecord) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]]:
    if isinstance(record, Bar):
        return (record.open, record.high, record.low, record.close), (record.volume,)
    if isinstance(record, TradeTick):
        return (record.price,), (record.size,)
    if isinstance(record, QuoteTick):
        return (record.bid_price, record.ask_price), (record.bid_size, record.ask_size)
    return (
        tuple(d.price for d in record.deltas),
        tuple(d.size for d in record.deltas),
    )


def infer_instruments(
    records: Iterable[MarketRecord],
    *,
    known: Iterable[str] = (),
    given: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[InstrumentSpec]:
    """Rules for each instrument in ``records`` not in ``known``, read off its data.

    - tick size: the finest decimal place among its prices (``46319.0`` -> 1, ``9682.19``
      -> 0.01), at most 1 and at least 1e-8;
    - lot size: the same over trade, quote and book sizes and bar volumes, 1e-8 when all are
      zero (a bar file without volume);
    - base and quote currency: from the symbol (:func:`split_symbol`).

    ``given`` holds rules by instrument id (InstrumentSpec field names) that take the place
    of inferred ones; an instrument whose symbol names no currencies needs them there.
    """
    skip = set(known)
    pending = dict(given or {})
    ticks: dict[InstrumentId, Decimal] = {}
    lots: dict[InstrumentId, Decimal] = {}
    for record in records:
        iid = record.instrument_id
        if str(iid) in skip:
            continue
        prices, sizes = _prices_and_sizes(record)
        tick = ticks.get(iid, _COARSEST)
        for price in prices:
            step = _step(price)
            if step is not None and step < tick:
                tick = step
        ticks[iid] = tick
        lot = lots.get(iid)
        for size in sizes:
            step = _step(size)
            if step is not None and (lot is None or step < lot):
                lot = step
        if lot is not None:
            lots[iid] = lot
    out: list[InstrumentSpec] = []
    for iid in sorted(ticks, key=str):
        name = str(iid)
        rules: dict[str, Any] = {
            "instrument_id": name,
            "tick_size": max(_FINEST, ticks[iid]),
            "lot_size": max(_FINEST, min(_COARSEST, lots.get(iid, _FINEST))),
        }
        currencies = split_symbol(iid.symbol)
        if currencies is not None:
            rules["base_currency"], rules["quote_currency"] = currencies
        rules.update(pending.pop(name, {}))
        if "base_currency" not in rules or "quote_currency" not in rules:
            raise InvalidBacktest(
                f"cannot tell the base and quote currencies of {name} from its symbol: give its "
                f"rules (--instrument {name}:base=...,quote=...[,tick=...,lot=...])"
            )
        out.append(_instrument_spec(rules))
    for name, extra in pending.items():  # rules for instruments the records do not show
        if name not in skip:
            out.append(_instrument_spec({"instrument_id": name, **extra}))
    return out


def read_instruments(path: Path) -> list[InstrumentSpec]:
    """The rules a JSON file lists: an array of InstrumentSpec objects, one per instrument
    (the shape of ``deploy/instruments.json``)."""
    where = f"instruments file {path}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InvalidBacktest(f"{where}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidBacktest(f"{where} is not JSON: {exc}") from None
    if not isinstance(document, list):
        found = type(document).__name__
        raise InvalidBacktest(f"{where} must hold a JSON array of instruments, was a {found}")
    out: dict[str, InstrumentSpec] = {}
    for n, rules in enumerate(document, 1):
        if not isinstance(rules, dict):
            found = type(rules).__name__
            raise InvalidBacktest(f"{where}: instrument {n} must be a JSON object, was a {found}")
        try:
            spec = InstrumentSpec.model_validate(rules)
            spec.to_core()
        except (ValidationError, ValueError) as exc:
            name = rules.get("instrument_id", "without instrument_id")
            raise InvalidBacktest(f"{where}: instrument {n} ({name}): {one_line(exc)}") from None
        if spec.instrument_id in out:
            raise InvalidBacktest(f"{where} lists {spec.instrument_id} twice")
        out[spec.instrument_id] = spec
    return list(out.values())


def _instrument_spec(rules: Mapping[str, Any]) -> InstrumentSpec:
    try:
        spec = InstrumentSpec.model_validate(dict(rules))
        spec.to_core()
    except (ValidationError, ValueError) as exc:
        raise InvalidBacktest(f"instrument {rules.get('instrument_id')}: {one_line(exc)}") from None
    return spec
