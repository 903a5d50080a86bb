"""A seeded random-walk bar feed, so that runs repeat exactly."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from foxtrot.common.market_files.formats import bar_interval_ns
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

__all__ = ["synthetic_bars"]

_CENT = Decimal("0.01")


def synthetic_bars(
    instrument_id: InstrumentId,
    spec: str,
    seed: int,
    count: int,
    start_price: Decimal,
    start_ns: int,
) -> Iterator[Bar]:
    """``count`` bars of a geometric random walk with drifting volatility, from ``seed``."""
    rng = random.Random(seed)
    interval = bar_interval_ns(spec)
    price = float(start_price)
    vol = 0.0015
    for index in range(count):
        vol = min(0.01, max(0.0003, vol * (1 + rng.gauss(0, 0.05))))
        path = [price]
        for _ in range(4):
            path.append(path[-1] * (1 + rng.gauss(0, vol / 2)))
        price = path[-1]
        open_, close = (Decimal(str(p)).quantize(_CENT) for p in (path[0], path[-1]))
        high = max(Decimal(str(max(path))).quantize(_CENT), open_, close)
        low = min(Decimal(str(min(path))).quantize(_CENT), open_, close)
        volume = Decimal(str(rng.lognormvariate(3, 0.8))).quantize(Decimal("0.001"))
        ts = start_ns + (index + 1) * interval
        yield Bar(instrument_id, spec, open_, high, low, close, volume, ts, ts)
