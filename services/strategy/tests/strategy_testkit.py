"""What the strategy service's tests share: the host on stand-ins of its ports (feeds that
the test drives, a publisher that records, instances kept in memory, execution's answers),
the FTX BTC-PERP bars as v1 messages, and strategies that misbehave on purpose.

Imported by name (``strategy_testkit``): conftest puts this directory on ``sys.path``, which
also lets the service import these strategies as ``strategy_testkit:RaisesOnBar``."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest

from foxtrot.common.consumers import Delivery
from foxtrot.common.feeds import Feed
from foxtrot.common.messages.v1 import (
    Bar,
    Message,
    OrderAccepted,
    OrderFilled,
    OrderSubmitted,
    OrderView,
    PositionView,
    SubmitOrder,
)
from foxtrot.common.streams import StreamSpec
from foxtrot.common.testkit.recording import RecordingPublisher
from foxtrot.core import data as core
from foxtrot.core.clock import TimeEvent
from foxtrot.core.enums import LiquiditySide, OrderSide, OrderStatus, PositionSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.strategy import Strategy, StrategyConfig
from foxtrot.strategy.adapters.execution_state import ExecutionState
from foxtrot.strategy.adapters.instance_store import InstanceStore
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.instance import Hosting
from foxtrot.strategy.service import StrategyService

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
BARS_DURABLE = "strategy-sma-cross-1-bar-FTX-BTC-PERP-1m"
ORDERS_DURABLE = "strategy-sma-cross-1-orders"
NOW = 1_700_000_000_000_000_000


def _start_ns(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def load_bars(count: int = 1_440) -> list[Bar]:
    """The first ``count`` FTX BTC-PERP 1m bars as v1 wire messages with fixed message ids."""
    if not FTX_BARS_CSV.exists():
        pytest.skip(f"market data file not found: {FTX_BARS_CSV}")
    with FTX_BARS_CSV.open(newline="") as handle:
        rows = [row for _, row in zip(range(count), csv.DictReader(handle), strict=False)]
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


@dataclass(eq=False)
class StandInFeed(Feed[Any]):
    """A feed the test drives: ``deliver`` hands the handler a message with the next
    stream sequence, as the consumer would."""

    started: bool = False
    deleted: bool = False
    acknowledged_seq: int = 0
    next_seq: int = 1

    async def create(self) -> bool:
        return False

    async def start(self, after_seq: int = 0) -> bool:
        self.started = True
        return False

    async def stop(self) -> None:
        self.started = False

    async def delete(self) -> None:
        self.started = False
        self.deleted = True

    async def acknowledge(self) -> None:
        self.acknowledged_seq = self.handled_seq
        self._unacked_count = 0

    async def push(self, message: Any, seq: int | None = None) -> None:
        """Hand the handler ``message`` (again, with ``seq`` of an earlier delivery)."""
        if seq is None:
            seq, self.next_seq = self.next_seq, self.next_seq + 1
        await self.handle(message, Delivery(self.pattern, {}, 1, seq))
        # As a Feed: handled once the handler returned, acknowledged by a later save.
        self.handled_seq = max(self.handled_seq, seq)
        self._unacked_count += 1


@dataclass
class StandInFeeds:
    """Makes stand-in feeds and keeps the latest of each consumer name."""

    feeds: dict[str, StandInFeed] = field(default_factory=dict)
    made: list[StandInFeed] = field(default_factory=list)

    def feed(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Any,
        handle: Any,
        deliver: Any = None,
        auto_ack: bool = False,
        ack_wait_s: float = 60.0,
    ) -> StandInFeed:
        made = StandInFeed(None, "strategy", None, pattern, stream, durable, decode, handle)  # type: ignore[arg-type]
        previous = self.feeds.get(durable)
        if previous is not None:  # the same consumer: its position carries on
            made.next_seq = previous.next_seq
        self.feeds[durable] = made
        self.made.append(made)
        return made


class FailingPublisher(RecordingPublisher):
    """Records, but the first ``failures`` publishes fail as a NATS timeout would."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures

    async def __call__(self, subject: str, message: Message, stream: StreamSpec) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TimeoutError(subject)
        await super().__call__(subject, message, stream)


@dataclass
class Host:
    """A strategy service on stand-ins, and what it sent."""

    service: StrategyService
    feeds: StandInFeeds
    publish: RecordingPublisher
    store: InstanceStore
    execution: ExecutionState
    clock: list[int]

    @property
    def commands(self) -> list[SubmitOrder]:
        return [s.message for s in self.publish.sent if isinstance(s.message, SubmitOrder)]

    def events(self, kind: type[Message]) -> list[Any]:
        return [s.message for s in self.publish.sent if isinstance(s.message, kind)]

    def feed(self, durable: str) -> StandInFeed:
        return self.feeds.feeds[durable]

    async def bars(self, bars: list[Bar], durable: str = BARS_DURABLE) -> None:
        for bar in bars:
            self.clock[0] = max(self.clock[0], bar.ts_event)
            await self.feed(durable).push(bar)


def make_host(
    store: InstanceStore | None = None,
    execution: ExecutionState | None = None,
    publish: RecordingPublisher | None = None,
    **settings: Any,
) -> Host:
    """A service on stand-ins; ``settings`` over the defaults (no seed instance, no wait
    for fills: nothing answers here as execution would)."""
    values: dict[str, Any] = {"seed_instance": False, "fill_wait_s": 0.0, **settings}
    clock = [NOW]
    feeds = StandInFeeds()
    hosting = Hosting(
        feeds=feeds,
        publish=publish if publish is not None else RecordingPublisher(),
        store=store if store is not None else InstanceStore(),
        execution=execution if execution is not None else ExecutionState(),
        fill_wait_s=values["fill_wait_s"],
        save_backlog=values.get("save_backlog", 500),
        now=lambda: clock[0],
    )
    service = StrategyService(hosting, StrategySettings.model_validate(values))
    assert isinstance(hosting.publish, RecordingPublisher)
    return Host(service, feeds, hosting.publish, hosting.store, hosting.execution, clock)


def sma_config(**fields: Any) -> dict[str, Any]:
    """SmaCross's config for the FTX bars, with ``fields`` changed."""
    return {
        "strategy_id": "sma-cross-1",
        "account_id": "SIM-001",
        "instrument_id": "BTC-PERP.FTX",
        "bar_spec": "1m",
        "fast_period": 10,
        "slow_period": 30,
        "trade_size": "0.01",
        **fields,
    }


# --- strategies for the tests, started by path ("strategy_testkit:RaisesOnBar") ----------


class BarsConfig(StrategyConfig):
    """The bars a test strategy reads."""

    instrument_id: str = "BTC-PERP.FTX"
    bar_spec: str = "1m"
    fail_after: int = 0


class RaisesOnBar(Strategy[BarsConfig]):
    """Counts bars and raises on the bar after ``fail_after`` of them."""

    config_class = BarsConfig

    def __init__(self, config: BarsConfig) -> None:
        super().__init__(config)
        self.seen = 0

    def on_start(self) -> None:
        self.subscribe_bars(InstrumentId.parse(self.config.instrument_id), self.config.bar_spec)

    def on_bar(self, bar: core.Bar) -> None:
        self.seen += 1
        if self.seen > self.config.fail_after:
            raise RuntimeError(f"bar {self.seen} is one too many")

    def on_save(self) -> Mapping[str, Any]:
        return {"seen": self.seen}

    def on_load(self, state: Mapping[str, Any]) -> None:
        self.seen = int(state.get("seen", 0))


class BuysOnTimer(Strategy[BarsConfig]):
    """Sets a one-minute timer at start and buys one lot each time it fires."""

    config_class = BarsConfig

    def on_start(self) -> None:
        self.clock.set_timer("buy", MINUTE_NS)

    def on_timer(self, event: TimeEvent) -> None:
        self.market(InstrumentId.parse(self.config.instrument_id), OrderSide.BUY, Decimal("0.01"))


class CountsBars(Strategy[BarsConfig]):
    """Counts the bars it sees (and keeps the count); version 1 of a strategy a test edits."""

    config_class = BarsConfig
    version = 1

    def __init__(self, config: BarsConfig) -> None:
        super().__init__(config)
        self.seen = 0

    def on_start(self) -> None:
        self.subscribe_bars(InstrumentId.parse(self.config.instrument_id), self.config.bar_spec)

    def on_bar(self, bar: core.Bar) -> None:
        self.seen += 1

    def on_save(self) -> Mapping[str, Any]:
        return {"seen": self.seen}

    def on_load(self, state: Mapping[str, Any]) -> None:
        self.seen = int(state.get("seen", 0))


# --- what execution would say ------------------------------------------------------------


def envelope_of(command: SubmitOrder, ts: int) -> dict[str, Any]:
    """An event's envelope, caused by ``command``, at ``ts``."""
    return command.caused(ts_event=ts, ts_init=ts)


def submitted(command: SubmitOrder, ts: int) -> list[Message]:
    """What execution publishes when it sends an order on and the venue takes it."""
    fields: dict[str, Any] = {
        "client_order_id": command.client_order_id,
        "strategy_id": command.strategy_id,
        "instrument_id": command.instrument_id,
        **envelope_of(command, ts),
    }
    return [OrderSubmitted(**fields), OrderAccepted(**fields, venue_order_id="V1")]


def filled(
    command: SubmitOrder, ts: int, qty: Decimal | None = None, px: str = "46000"
) -> OrderFilled:
    """A fill of ``command`` (all of it unless ``qty``)."""
    return OrderFilled(
        client_order_id=command.client_order_id,
        strategy_id=command.strategy_id,
        instrument_id=command.instrument_id,
        trade_id=f"T-{command.client_order_id}-{ts}",
        side=command.side,
        last_qty=qty if qty is not None else command.quantity,
        last_px=Decimal(px),
        commission=Decimal("0.1"),
        commission_currency="USD",
        liquidity_side=LiquiditySide.TAKER,
        **envelope_of(command, ts),
    )


def order_view(
    command: SubmitOrder,
    status: OrderStatus,
    ts_last: int,
    filled_qty: Decimal = Decimal(0),
    avg_px: Decimal | None = None,
) -> OrderView:
    """An order as execution's query shows it."""
    return OrderView(
        seq=1,
        client_order_id=command.client_order_id,
        venue_order_id="V1",
        strategy_id=command.strategy_id,
        account_id=command.account_id,
        instrument_id=command.instrument_id,
        side=command.side,
        order_type=command.order_type,
        time_in_force=command.time_in_force,
        quantity=command.quantity,
        price=None,
        trigger_price=None,
        expire_time_ns=None,
        reduce_only=False,
        post_only=False,
        status=status,
        filled_qty=filled_qty,
        avg_px=avg_px,
        ts_init=ts_last,
        ts_last=ts_last,
    )


def position_view(
    strategy_id: str, quantity: Decimal, avg_px: Decimal, ts_last: int
) -> PositionView:
    """A position as execution's query shows it."""
    return PositionView(
        strategy_id=strategy_id,
        instrument_id=str(BTC_PERP),
        side=PositionSide.LONG if quantity > 0 else PositionSide.FLAT,
        quantity=quantity,
        avg_px_open=avg_px,
        realized_pnl=Decimal(0),
        unrealized_pnl=None,
        commissions=Decimal("0.1"),
        currency="USD",
        ts_last=ts_last,
    )


# --- backtests -----------------------------------------------------------------------------


def backtest_spec(**fields: Any) -> dict[str, Any]:
    """A short backtest of SmaCross 3/8 on the FTX bars (half a day), as JSON."""
    return {
        "strategy": "sma_cross",
        "config": {
            "strategy_id": "bt-1",
            "instrument_id": "BTC-PERP.FTX",
            "fast_period": 3,
            "slow_period": 8,
        },
        "data": [{"path": str(FTX_BARS_CSV), "instrument_id": "BTC-PERP.FTX"}],
        "end": "2022-01-01T12:00:00Z",
        **fields,
    }


def dies(spec_json: str) -> dict[str, Any]:
    """A backtest run whose worker process dies, as one killed for its memory would."""
    import os

    os._exit(3)
