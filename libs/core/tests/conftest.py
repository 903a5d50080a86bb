"""Fixtures shared by the domain tests: real bars, trades and quotes from ../shared/data."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.indicators import Indicator

# The repo is <root>/main and the shared data sits beside it in <root>/shared.
FTX_BARS_CSV = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "bars"
    / "intraday"
    / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
)
BTC_PERP = InstrumentId("BTC-PERP", "FTX")
SHARED_DATA = FTX_BARS_CSV.parents[2]
TARDIS_TRADES_CSV = SHARED_DATA / "trades" / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
EURUSD_QUOTES_CSV = SHARED_DATA / "quotes" / "histdata_EURUSD_ticks_2020-01.csv"
BTCUSDT_FUTURES = InstrumentId("BTCUSDT", "BINANCE_FUTURES")
EURUSD = InstrumentId("EUR/USD", "HISTDATA")
_EST_OFFSET_NS = 5 * 3600 * 1_000_000_000  # HistData's clock is EST without DST (UTC-5)


def _require(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")


@pytest.fixture(scope="session")
def tardis_btcusdt_trades() -> list[TradeTick]:
    """The 9,999 Binance futures BTCUSDT trades of 2020-02-22, as domain trades."""
    _require(TARDIS_TRADES_CSV)
    with TARDIS_TRADES_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        TradeTick(
            BTCUSDT_FUTURES,
            Decimal(r["price"]),
            Decimal(r["amount"]),
            AggressorSide.BUYER if r["side"] == "buy" else AggressorSide.SELLER,
            TradeId(r["id"]),
            int(r["timestamp"]) * 1_000,
            int(r["timestamp"]) * 1_000,
        )
        for r in rows
    ]


@pytest.fixture(scope="session")
def eurusd_quotes() -> list[QuoteTick]:
    """The 9,500 HistData EUR/USD ticks of 2020-01-01; the file has no sizes, so each side
    shows a nominal 1,000,000."""
    _require(EURUSD_QUOTES_CSV)
    size = Decimal(1_000_000)
    quotes = []
    with EURUSD_QUOTES_CSV.open(newline="") as handle:
        for stamp, bid, ask, _volume in csv.reader(handle):
            moment = datetime.strptime(stamp, "%Y%m%d %H%M%S%f").replace(tzinfo=UTC)
            ts = int(moment.timestamp() * 1_000) * 1_000_000 + _EST_OFFSET_NS
            quotes.append(QuoteTick(EURUSD, Decimal(bid), Decimal(ask), size, size, ts, ts))
    return quotes


def _ns(timestamp: str) -> int:
    moment = datetime.fromisoformat(timestamp).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


@pytest.fixture(scope="session")
def ftx_btc_perp_1m_bars() -> list[Bar]:
    """Every bar of the FTX BTC-PERP 1m file, in file order, as domain bars."""
    _require(FTX_BARS_CSV)
    with FTX_BARS_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Bar(
            BTC_PERP,
            "1m",
            Decimal(r["open"]),
            Decimal(r["high"]),
            Decimal(r["low"]),
            Decimal(r["close"]),
            Decimal(r["volume"]),
            _ns(r["timestamp"]),
            _ns(r["timestamp"]),
        )
        for r in rows
    ]


# --- indicator tests: whole files as numpy columns -------------------------------------------

NVDA_DAILY_CSV = SHARED_DATA / "bars" / "daily" / "yahoo_NVDA_1d_1999-2014.csv"
_DAY_NS = 86_400 * 1_000_000_000

#: Bar fields as float64 arrays ("open", "high", "low", "close", "volume") and int64
#: "ts_event" (ns, UTC), the names indicators use for their inputs.
BarColumns = dict[str, npt.NDArray[Any]]


@pytest.fixture(scope="session")
def ftx_btc_perp_1m_columns() -> BarColumns:
    """The 45,031 FTX BTC-PERP 1-minute bars as columns."""
    _require(FTX_BARS_CSV)
    with FTX_BARS_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns: BarColumns = {
        name: np.array([float(r[name]) for r in rows])
        for name in ("open", "high", "low", "close", "volume")
    }
    columns["ts_event"] = np.array([_ns(r["timestamp"]) for r in rows], dtype=np.int64)
    return columns


@pytest.fixture(scope="session")
def nvda_1d_columns() -> BarColumns:
    """The 4,012 Yahoo NVDA daily bars (split-adjusted OHLC, not Adj Close) as columns; a
    day's bar closes at the next midnight UTC."""
    _require(NVDA_DAILY_CSV)
    with NVDA_DAILY_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns: BarColumns = {
        name: np.array([float(r[name.capitalize()]) for r in rows])
        for name in ("open", "high", "low", "close", "volume")
    }
    columns["ts_event"] = np.array([_ns(r["Date"]) + _DAY_NS for r in rows], dtype=np.int64)
    return columns


@pytest.fixture(params=["ftx_btc_perp_1m", "nvda_1d"])
def real_columns(request: pytest.FixtureRequest) -> BarColumns:
    """Each real bar file in turn, as columns."""
    columns: BarColumns = request.getfixturevalue(f"{request.param}_columns")
    return columns


StreamOutputs = Callable[[Indicator, BarColumns], dict[str, npt.NDArray[np.float64]]]


def _stream_outputs(
    indicator: Indicator, columns: BarColumns
) -> dict[str, npt.NDArray[np.float64]]:
    """Each output of ``indicator`` after each bar, fed one ``update`` at a time (NaN for None)."""
    update: Callable[..., None] = getattr(indicator, "update")  # noqa: B009 (arity varies)
    rows = list(zip(*(columns[name].tolist() for name in indicator.inputs), strict=True))
    collected: dict[str, list[float]] = {name: [] for name in indicator.outputs}
    for row in rows:
        update(*row)
        for name, values in collected.items():
            value = getattr(indicator, name)
            values.append(math.nan if value is None else value)
    return {name: np.array(values, dtype=np.float64) for name, values in collected.items()}


@pytest.fixture(scope="session")
def stream() -> StreamOutputs:
    """A function that runs an indicator's streaming form over bar columns."""
    return _stream_outputs
