"""StrategyHost on real FTX BTC-PERP bars, with a Publisher that records instead of sending."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

import pytest

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    Bar,
    Message,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    SubmitOrder,
)
from foxtrot.common.publishing import Publisher, derived_id
from foxtrot.common.streams import COMMANDS, StreamSpec
from foxtrot.core import data as core
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderType
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.strategies.sma_cross import SmaCross
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.service import StrategyHost

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
MINUTE_NS = 60_000_000_000
# Root of the test bars' message ids, so that the same bar always has the same id.
_BARS: Final = uuid.UUID("0b7c6a52-3f55-4a0e-9d64-6f0a3b0c1d2e")
# With fast 10 / slow 30 the first FTX cross (a buy) is on bar 40, the next (a sell) on 51.
FIRST_ORDER_BAR = 40
FIRST_SELL_BAR = 51


class PublishFailed(Exception):
    """What the failing fake publisher raises, like a NATS timeout would."""


@dataclass(frozen=True)
class Sent:
    subject: str
    message: Message
    stream: StreamSpec


class RecordingPublisher(Publisher):
    """The Publisher port, keeping what it is asked to publish instead of sending it."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(broker=None)  # type: ignore[arg-type]  # __call__ never uses it
        self.sent: list[Sent] = []
        self.failures = failures

    async def __call__(self, subject: str, message: Message, stream: StreamSpec) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise PublishFailed(subject)
        self.sent.append(Sent(subject, message, stream))

    @property
    def commands(self) -> list[SubmitOrder]:
        return [s.message for s in self.sent if isinstance(s.message, SubmitOrder)]


def _start_ns(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


@pytest.fixture(scope="module")
def ftx_bars() -> list[Bar]:
    """The first day of FTX BTC-PERP 1m bars as v1 wire messages with fixed message ids."""
    if not FTX_BARS_CSV.exists():
        pytest.skip(f"market data file not found: {FTX_BARS_CSV}")
    with FTX_BARS_CSV.open(newline="") as handle:
        rows = [row for _, row in zip(range(1_440), csv.DictReader(handle), strict=False)]
    wire = []
    for row in rows:
        ts = _start_ns(row["timestamp"]) + MINUTE_NS  # a bar is stamped at its close
        bar = core.Bar(
            BTC_PERP,
            "1m",
            Decimal(row["open"]),
            Decimal(row["high"]),
            Decimal(row["low"]),
            Decimal(row["close"]),
            Decimal(row["volume"]),
            ts,
            ts,
        )
        wire.append(Bar.from_core(bar, message_id=uuid.uuid5(_BARS, str(ts))))
    return wire


def settings(**fields: object) -> StrategySettings:
    base: dict[str, object] = {
        "strategy_id": "sma-cross-1",
        "account_id": "SIM-001",
        "instrument_id": "BTC-PERP.FTX",
        "bar_spec": "1m",
        "fast_period": 10,
        "slow_period": 30,
        "trade_size": Decimal("0.01"),
    }
    return StrategySettings.model_validate({**base, **fields})


def host(publish: RecordingPublisher, config: StrategySettings | None = None) -> StrategyHost:
    return StrategyHost(SmaCross((config or settings()).sma_cross()), publish)


def filled(command: SubmitOrder, qty: Decimal | None = None, px: str = "46000") -> OrderFilled:
    return OrderFilled(
        client_order_id=command.client_order_id,
        strategy_id=command.strategy_id,
        instrument_id=command.instrument_id,
        trade_id=f"T-{command.client_order_id}",
        side=command.side,
        last_qty=qty if qty is not None else command.quantity,
        last_px=Decimal(px),
        commission=Decimal("0.1"),
        commission_currency="USD",
        liquidity_side=LiquiditySide.TAKER,
        **command.caused(ts_event=command.ts_event, ts_init=command.ts_init),
    )


def denied(command: SubmitOrder) -> OrderDenied:
    return OrderDenied(
        client_order_id=command.client_order_id,
        strategy_id=command.strategy_id,
        instrument_id=command.instrument_id,
        reason_code="MAX_ORDER_NOTIONAL",
        reason="notional must be at most 1, was 460",
        **command.caused(ts_event=command.ts_event, ts_init=command.ts_init),
    )


async def feed(host: StrategyHost, bars: list[Bar]) -> None:
    for bar in bars:
        await host.on_bar(bar)


async def test_first_cross_submits_a_market_buy_to_risk(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    await feed(host(publish), ftx_bars[: FIRST_ORDER_BAR + 1])

    (sent,) = publish.sent
    assert sent.subject == subjects.RISK_SUBMIT_ORDER == "cmd.v1.risk.submit_order"
    assert sent.stream == COMMANDS
    command = sent.message
    assert isinstance(command, SubmitOrder)
    assert command.side is OrderSide.BUY
    assert command.order_type is OrderType.MARKET
    assert command.quantity == Decimal("0.01")
    assert command.instrument_id == "BTC-PERP.FTX"
    assert command.strategy_id == "sma-cross-1"
    assert command.account_id == "SIM-001"


async def test_no_order_before_the_first_cross(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    await feed(host(publish), ftx_bars[:FIRST_ORDER_BAR])
    assert publish.sent == []


async def test_order_ids_derive_from_the_bar_that_caused_it(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    await feed(host(publish), ftx_bars[: FIRST_ORDER_BAR + 1])

    bar = ftx_bars[FIRST_ORDER_BAR]
    (command,) = publish.commands
    assert command.client_order_id == f"sma-cross-1-{bar.ts_event}"
    assert command.message_id == derived_id(bar.message_id, command.client_order_id)
    assert command.correlation_id == bar.correlation_id
    assert command.causation_id == bar.message_id


async def test_same_bars_twice_give_the_same_order_ids(ftx_bars: list[Bar]) -> None:
    runs = []
    for _ in range(2):
        publish = RecordingPublisher()
        await feed(host(publish), ftx_bars[: FIRST_ORDER_BAR + 1])
        runs.append([(c.message_id, c.correlation_id, c.client_order_id) for c in publish.commands])

    assert runs[0] == runs[1]
    assert len(runs[0]) == 1


async def run_with_instant_fills(bars: list[Bar]) -> list[SubmitOrder]:
    """Fill each order in full as soon as it is asked for, over every bar."""
    publish = RecordingPublisher()
    trader = host(publish)
    for bar in bars:
        before = len(publish.commands)
        await trader.on_bar(bar)
        for command in publish.commands[before:]:
            await trader.on_order_event(filled(command))
    return publish.commands


async def test_with_fills_the_day_replays_to_the_same_orders(ftx_bars: list[Bar]) -> None:
    first = await run_with_instant_fills(ftx_bars)
    second = await run_with_instant_fills(ftx_bars)

    assert len(first) > 10
    assert [c.message_id for c in first] == [c.message_id for c in second]
    assert len({c.message_id for c in first}) == len(first)
    # Long-or-flat: buys and sells alternate, starting with a buy.
    assert [c.side for c in first] == [
        OrderSide.BUY if i % 2 == 0 else OrderSide.SELL for i in range(len(first))
    ]


async def test_no_second_order_while_one_is_pending(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    trader = host(publish)
    await feed(trader, ftx_bars)  # a whole day of crosses, but nothing ever answers

    assert len(publish.commands) == 1
    assert trader.strategy.pending == publish.commands[0].client_order_id


async def test_fill_frees_the_strategy_and_books_the_position(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    trader = host(publish)
    await feed(trader, ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = publish.commands

    await trader.on_order_event(filled(buy))
    assert trader.strategy.pending is None
    assert trader.strategy.position == Decimal("0.01")

    await feed(trader, ftx_bars[FIRST_ORDER_BAR + 1 : FIRST_SELL_BAR + 1])
    sell = publish.commands[-1]
    assert len(publish.commands) == 2
    assert sell.side is OrderSide.SELL
    assert sell.quantity == Decimal("0.01")
    assert sell.client_order_id == f"sma-cross-1-{ftx_bars[FIRST_SELL_BAR].ts_event}"


async def test_partial_fill_keeps_the_order_pending_until_it_is_complete(
    ftx_bars: list[Bar],
) -> None:
    publish = RecordingPublisher()
    trader = host(publish, settings(trade_size=Decimal("0.03")))
    await feed(trader, ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = publish.commands

    await trader.on_order_event(filled(buy, qty=Decimal("0.01")))
    assert trader.strategy.pending == buy.client_order_id
    assert trader.strategy.position == Decimal("0.01")

    await trader.on_order_event(filled(buy, qty=Decimal("0.02")))
    assert trader.strategy.pending is None
    assert trader.strategy.position == Decimal("0.03")


async def test_denied_order_frees_the_strategy_without_changing_its_position(
    ftx_bars: list[Bar],
) -> None:
    publish = RecordingPublisher()
    trader = host(publish)
    await feed(trader, ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = publish.commands

    await trader.on_order_event(denied(buy))
    assert trader.strategy.pending is None
    assert trader.strategy.position == 0

    # Still flat, so the next upward cross asks to buy again (not to sell).
    await feed(trader, ftx_bars[FIRST_ORDER_BAR + 1 :])
    assert len(publish.commands) == 2
    assert publish.commands[1].side is OrderSide.BUY


@pytest.mark.parametrize("event_type", [OrderRejected, OrderCanceled])
async def test_rejected_or_canceled_order_also_frees_the_strategy(
    ftx_bars: list[Bar], event_type: type[OrderRejected] | type[OrderCanceled]
) -> None:
    publish = RecordingPublisher()
    trader = host(publish)
    await feed(trader, ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = publish.commands
    fields: dict[str, object] = {
        "client_order_id": buy.client_order_id,
        "strategy_id": buy.strategy_id,
        "instrument_id": buy.instrument_id,
        **buy.caused(ts_event=buy.ts_event, ts_init=buy.ts_init),
    }
    if event_type is OrderRejected:
        fields |= {"reason_code": "VENUE", "reason": "no"}

    await trader.on_order_event(event_type.model_validate(fields))
    assert trader.strategy.pending is None
    assert trader.strategy.position == 0


async def test_event_of_an_older_order_does_not_free_the_pending_one(
    ftx_bars: list[Bar],
) -> None:
    publish = RecordingPublisher()
    trader = host(publish)
    await feed(trader, ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = publish.commands
    stale = buy.model_copy(update={"client_order_id": "sma-cross-1-1"})

    await trader.on_order_event(denied(stale))
    assert trader.strategy.pending == buy.client_order_id


async def test_bars_of_another_spec_are_ignored(ftx_bars: list[Bar]) -> None:
    publish = RecordingPublisher()
    await feed(host(publish), [bar.model_copy(update={"spec": "5m"}) for bar in ftx_bars])
    assert publish.sent == []


async def test_bar_redelivered_after_a_failed_publish_submits_the_same_order(
    ftx_bars: list[Bar],
) -> None:
    publish = RecordingPublisher(failures=1)
    trader = host(publish)
    await feed(trader, ftx_bars[:FIRST_ORDER_BAR])
    cause = ftx_bars[FIRST_ORDER_BAR]
    with pytest.raises(PublishFailed):
        await trader.on_bar(cause)

    await trader.on_bar(cause)  # the consumer naks and the same bar comes back

    (command,) = publish.commands
    assert command.message_id == derived_id(cause.message_id, f"sma-cross-1-{cause.ts_event}")


# --- StrategySettings -----------------------------------------------------------------------


async def test_instance_is_configured_from_the_environment(
    ftx_bars: list[Bar], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOXTROT_STRATEGY_ID", "trend-7")
    monkeypatch.setenv("FOXTROT_ACCOUNT_ID", "SIM-042")
    monkeypatch.setenv("FOXTROT_INSTRUMENT_ID", "BTC-PERP.FTX")
    monkeypatch.setenv("FOXTROT_BAR_SPEC", "1m")
    monkeypatch.setenv("FOXTROT_FAST_PERIOD", "3")
    monkeypatch.setenv("FOXTROT_SLOW_PERIOD", "8")
    monkeypatch.setenv("FOXTROT_TRADE_SIZE", "0.25")
    config = StrategySettings()

    publish = RecordingPublisher()
    await feed(host(publish, config), ftx_bars[:FIRST_ORDER_BAR])

    # Faster averages cross sooner than the default 10/30 would.
    (command,) = publish.commands
    assert command.strategy_id == "trend-7"
    assert command.account_id == "SIM-042"
    assert command.quantity == Decimal("0.25")
    assert command.client_order_id.startswith("trend-7-")
    assert subjects.order_events(config.strategy_id) == "evt.v1.order.trend-7"


def test_settings_refuse_a_strategy_id_that_is_no_subject_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOXTROT_STRATEGY_ID", "sma.cross")
    with pytest.raises(ValueError, match="strategy_id"):
        StrategySettings()


def test_settings_refuse_a_fast_period_not_below_the_slow_one() -> None:
    with pytest.raises(ValueError, match="fast_period < slow_period"):
        settings(fast_period=30, slow_period=30).sma_cross()
