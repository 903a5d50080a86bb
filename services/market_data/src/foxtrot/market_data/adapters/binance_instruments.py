"""Instruments from Binance's ``GET /api/v3/exchangeInfo`` (spot) or ``/fapi/v1/exchangeInfo``.

Each entry of ``symbols`` becomes one :class:`~foxtrot.core.instruments.Instrument`:

- ``PRICE_FILTER.tickSize`` is the tick size;
- ``LOT_SIZE.stepSize``, ``minQty`` and ``maxQty`` are the lot size and quantity bounds
  (a ``maxQty`` of 0 means no limit);
- ``NOTIONAL.minNotional`` (spot today), or ``MIN_NOTIONAL.minNotional`` (older spot) or
  ``.notional`` (futures), is the minimum notional;
- ``baseAsset`` / ``quoteAsset`` are the currencies, and ``status`` ``TRADING`` makes it
  tradable (``BREAK``, ``HALT`` ... do not).

Binance pads decimals ("0.01000000"); they are kept without the padding ("0.01").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from foxtrot.core.errors import DomainError
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument

__all__ = ["ExchangeInfoInstruments", "parse_exchange_info"]

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class ExchangeInfoInstruments:
    """What an exchangeInfo document defines: instruments, and the symbols left out and why."""

    instruments: list[Instrument] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def parse_exchange_info(
    document: Mapping[str, Any], venue: str = "BINANCE"
) -> ExchangeInfoInstruments:
    """The instruments of an exchangeInfo response, on ``venue``.

    A symbol without a positive tick size or step size (a disabled filter), or whose name
    is not a valid instrument symbol, is left out and listed in ``skipped`` with the reason.
    """
    result = ExchangeInfoInstruments()
    for entry in document.get("symbols", ()):
        name = str(entry.get("symbol", "?"))
        try:
            result.instruments.append(_instrument(entry, venue))
        except KeyError as exc:
            result.skipped[name] = f"has no {exc}"
        except (_Unusable, DomainError, InvalidOperation, TypeError) as exc:
            result.skipped[name] = str(exc) or type(exc).__name__
    return result


class _Unusable(Exception):
    """A symbol whose filters cannot define an instrument."""


def _instrument(entry: Mapping[str, Any], venue: str) -> Instrument:
    filters = {f.get("filterType"): f for f in entry.get("filters", ())}
    price = filters.get("PRICE_FILTER")
    lot = filters.get("LOT_SIZE")
    if price is None or lot is None:
        raise _Unusable("needs both a PRICE_FILTER and a LOT_SIZE filter")
    tick_size = _decimal(price.get("tickSize"))
    lot_size = _decimal(lot.get("stepSize"))
    if not tick_size or not lot_size:
        raise _Unusable(f"tickSize {tick_size} and stepSize {lot_size} must both be positive")
    max_quantity = _decimal(lot.get("maxQty"))
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    min_notional = _decimal(notional.get("minNotional", notional.get("notional")))
    return Instrument(
        InstrumentId(str(entry["symbol"]), venue),
        str(entry["baseAsset"]),
        str(entry["quoteAsset"]),
        tick_size,
        lot_size,
        _decimal(lot.get("minQty")),
        max_quantity or None,
        min_notional or None,
        tradable=entry.get("status") == "TRADING",
    )


def _decimal(text: object) -> Decimal:
    """A decimal string without Binance's padding; missing means 0."""
    if text is None:
        return Decimal(0)
    if not isinstance(text, str):
        raise TypeError(f"expected a decimal string, was {text!r}")
    value = Decimal(text)
    if not value.is_finite() or value < 0:
        raise _Unusable(f"expected a non-negative decimal, was {text!r}")
    value = value.normalize()  # "10.000" becomes 1E+1: write that as 10
    exponent = value.as_tuple().exponent
    return value.quantize(_ONE) if isinstance(exponent, int) and exponent > 0 else value
