"""Fixtures shared by the domain tests: real FTX BTC-PERP one-minute bars."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

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


def _ns(timestamp: str) -> int:
    moment = datetime.fromisoformat(timestamp).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


@pytest.fixture(scope="session")
def ftx_btc_perp_1m_bars() -> list[Bar]:
    """Every bar of the FTX BTC-PERP 1m file, in file order, as domain bars."""
    if not FTX_BARS_CSV.exists():
        pytest.skip(f"market data file not found: {FTX_BARS_CSV}")
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
