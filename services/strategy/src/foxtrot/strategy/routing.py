"""Where a hosted strategy's subscriptions are read from: the subject, the stream and the
durable consumer of each, one consumer per instance and subscription so that instances
never share (and so split) each other's messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from foxtrot.common import subjects
from foxtrot.common.streams import EVENTS, MARKET_DATA, StreamSpec
from foxtrot.core.strategy import Subscription

__all__ = ["Route", "account_route", "data_route", "orders_route"]

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_\-]")


@dataclass(frozen=True, slots=True)
class Route:
    """One consumer of an instance: what it reads, from which stream, under which name."""

    subject: str
    stream: StreamSpec
    durable: str


def _name(*parts: str) -> str:
    # Consumer names may not hold '.', '*', '>', '/' or whitespace.
    return "-".join(_UNSAFE.sub("_", part) for part in parts)


def data_route(strategy_id: str, subscription: Subscription) -> Route:
    """The consumer of one subscription: bars, trade batches, quotes or book deltas."""
    kind, instrument_id, spec = subscription
    if kind == "bar":
        assert spec is not None  # a bar subscription names its spec
        subject = subjects.bar(instrument_id, spec)
        venue, symbol = instrument_id.venue, instrument_id.symbol
        name = _name("strategy", strategy_id, "bar", venue, symbol, spec)
        return Route(subject, MARKET_DATA, name)
    if kind == "trade":
        # Market data keeps trades in batches; the per-tick subjects are not in a stream.
        subject = subjects.trades(instrument_id)
    elif kind == "quote":
        subject = subjects.quote(instrument_id)
    else:
        subject = subjects.book(instrument_id)
    name = _name("strategy", strategy_id, kind, instrument_id.venue, instrument_id.symbol)
    return Route(subject, MARKET_DATA, name)


def orders_route(strategy_id: str) -> Route:
    """The consumer of the instance's order events."""
    return Route(
        subjects.order_events(strategy_id), EVENTS, _name("strategy", strategy_id, "orders")
    )


def account_route(strategy_id: str, account_id: str) -> Route:
    """The consumer of the balances of the account the instance trades in."""
    return Route(
        subjects.account_events(account_id), EVENTS, _name("strategy", strategy_id, "account")
    )
