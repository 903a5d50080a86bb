"""Translation between Foxtrot's orders and Binance spot's: requests, ids, times, symbols.

* Order types: MARKET and LIMIT go as they are; a post-only LIMIT goes as LIMIT_MAKER and an
  iceberg carries ``icebergQty``. Time in force GTC, IOC and FOK; Binance spot has no GTD,
  DAY or reduce-only, so those are refused before anything is sent.
* Client order ids go to Binance as ``newClientOrderId`` when they fit its rule (1 to 36 of
  ``[.A-Z:/a-z0-9_-]``). A longer or differently spelled id goes as ``x-`` and the first
  32 hex digits of its SHA-256: the same id always maps to the same venue id, so the
  mapping survives a restart without being stored, and the adapter keeps the reverse.
* Refusals keep Binance's words: ``reason_code`` is Binance's error code ("-2010") and
  ``reason`` its message ("Account has insufficient balance for requested action.").
* Times: Binance sends milliseconds since the epoch; events carry nanoseconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from foxtrot.core.enums import OrderType, TimeInForce
from foxtrot.core.identifiers import ClientOrderId, InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec

__all__ = [
    "LOCAL_REFUSAL",
    "OrderRequest",
    "instruments_from_markets",
    "ms_to_ns",
    "order_request",
    "to_decimal",
    "venue_client_id",
]

_CLIENT_ID: Final = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
LOCAL_REFUSAL: Final = "UNSUPPORTED_BY_VENUE"
"""Reason code of an order refused before sending: Binance spot cannot take it."""


def venue_client_id(client_order_id: ClientOrderId) -> str:
    """The ``newClientOrderId`` Binance knows the order by."""
    if _CLIENT_ID.match(client_order_id):
        return str(client_order_id)
    return "x-" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]


def ms_to_ns(ms: Any) -> int:
    """Binance's millisecond timestamp in nanoseconds."""
    return int(ms) * 1_000_000


def to_decimal(value: Any) -> Decimal:
    """A Binance decimal string (or number) as a Decimal, trailing zeros dropped."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))  # 50000, not normalize()'s 5E+4
    return number.normalize()


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The arguments of ccxt's ``create_order`` for one Foxtrot order."""

    kind: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any] = field(default_factory=dict)


def order_request(spec: OrderSpec, quantity: Decimal | None = None) -> OrderRequest | str:
    """What to send for ``spec`` (with another quantity for a replace), or why Binance
    spot cannot take it."""
    if spec.order_type not in (OrderType.MARKET, OrderType.LIMIT):
        return f"Binance spot takes MARKET and LIMIT orders here, not {spec.order_type}"
    tif = spec.time_in_force
    if tif not in (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK):
        return f"Binance spot supports time in force GTC, IOC and FOK, not {tif}"
    if spec.reduce_only:
        return "Binance spot has no reduce-only orders"
    amount = _plain(quantity if quantity is not None else spec.quantity)
    side = spec.side.value.lower()
    if spec.order_type is OrderType.MARKET:
        if tif is TimeInForce.FOK:
            return "a Binance spot MARKET order cannot be FOK"
        return OrderRequest("market", side, amount, None)
    assert spec.price is not None
    params: dict[str, Any] = {}
    if spec.post_only:
        params["postOnly"] = True  # ccxt sends LIMIT_MAKER, which takes no time in force
    else:
        params["timeInForce"] = tif.value
    if spec.display_qty is not None:
        params["icebergAmount"] = _plain(spec.display_qty)
    return OrderRequest("limit", side, amount, _plain(spec.price), params)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def instruments_from_markets(
    markets: Mapping[str, Mapping[str, Any]], venue: str
) -> dict[InstrumentId, Instrument]:
    """Foxtrot instruments from ccxt's spot markets, with Binance's filters as trading rules."""
    found: dict[InstrumentId, Instrument] = {}
    for market in markets.values():
        if not market.get("spot"):
            continue
        info = market["info"]
        filters = {f["filterType"]: f for f in info.get("filters", [])}
        price_filter = filters.get("PRICE_FILTER", {})
        lot = filters.get("LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        tick = to_decimal(price_filter.get("tickSize", "0"))
        step = to_decimal(lot.get("stepSize", "0"))
        if not (tick > 0 and step > 0):
            continue
        max_qty = to_decimal(lot["maxQty"]) if lot.get("maxQty") else None
        min_notional = notional.get("minNotional")
        instrument_id = InstrumentId(info["symbol"], venue)
        found[instrument_id] = Instrument(
            instrument_id=instrument_id,
            base_currency=info["baseAsset"],
            quote_currency=info["quoteAsset"],
            tick_size=tick,
            lot_size=step,
            min_quantity=to_decimal(lot.get("minQty", "0")),
            max_quantity=max_qty if max_qty else None,
            min_notional=to_decimal(min_notional) if min_notional else None,
            tradable=info.get("status") == "TRADING",
        )
    return found
