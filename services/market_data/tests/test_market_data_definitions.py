"""Instrument definitions from Binance exchangeInfo: a venue that cannot be asked is a
warning, never a failed start."""

from __future__ import annotations

import pytest

from foxtrot.common.local.processes import free_port
from foxtrot.market_data.adapters.binance.fake import FakeBinance
from foxtrot.market_data.definitions import Definitions
from foxtrot.market_data.instruments import InstrumentRegistry


class Announced:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def __call__(self, subject: str, message: object, stream: object) -> None:
        self.subjects.append(subject)


async def test_exchange_info_rules_are_kept_and_announced() -> None:
    registry, announced = InstrumentRegistry(), Announced()
    async with FakeBinance(("BTCUSDT", "ETHUSDT")) as fake:
        await Definitions(registry, None, announced).load_binance(  # type: ignore[arg-type]
            fake.rest_url, "BINANCE", ["BTCUSDT"]
        )
    assert [str(i.instrument_id) for i in registry] == ["BTCUSDT.BINANCE"]
    assert announced.subjects == ["md.v1.instrument.BINANCE.BTCUSDT"]


async def test_an_unreachable_venue_leaves_the_rules_undefined(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry, announced = InstrumentRegistry(), Announced()
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    await Definitions(registry, None, announced).load_binance(  # type: ignore[arg-type]
        url, "BINANCE", ["BTCUSDT"]
    )
    assert len(registry) == 0
    assert announced.subjects == []
    assert "no instrument rules from BINANCE exchangeInfo" in caplog.text
