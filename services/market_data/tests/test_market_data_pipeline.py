"""The ingest pipeline's normaliser, subject parsing and hot-path encoders, without NATS."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest

from foxtrot.common.errors import MalformedMessage
from foxtrot.common.ids import RECORD_IDS, DerivedIds, derived_id, trade_message_id
from foxtrot.common.messages.v1 import Bar, TradeBatch, TradeTick
from foxtrot.common.subjects import ingest_partition_of
from foxtrot.core import data as core
from foxtrot.core.aggregation import EmptyBarPolicy
from foxtrot.core.bar_spec import BarSpec
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.bars import BarBuilder, BarClock
from foxtrot.market_data.instruments import InstrumentRegistry
from foxtrot.market_data.outbox import Outbox, TickSubjects
from foxtrot.market_data.pipeline import Ingest, Normaliser, parse_ingest
from foxtrot.market_data.wire import json_string, trade_batch_json, trade_json, trade_row

S = 1_000_000_000
MINUTE = 60 * S
T0 = 1_582_329_600 * S  # a minute boundary in 2020: a replayed, historical feed
SUBJECT = "md.v1.ingest.trade.BINANCE.BTCUSDT"


@dataclass(frozen=True)
class Out:
    subject: str
    payload: bytes
    message_id: str | None
    traceparent: str | None

    def json(self) -> dict[str, object]:
        return json.loads(self.payload)  # type: ignore[no-any-return]


class Recorder:
    def __init__(self) -> None:
        self.out: list[Out] = []

    async def __call__(
        self, subject: str, payload: bytes, message_id: str | None, traceparent: str | None
    ) -> None:
        self.out.append(Out(subject, payload, message_id, traceparent))

    def on(self, prefix: str) -> list[Out]:
        return [o for o in self.out if o.subject.startswith(prefix)]


def normaliser(
    specs: str = "1m", clock: BarClock | None = None, ticks: str = "*", max_trades: int = 1_000
) -> tuple[Normaliser, Recorder]:
    emit = Recorder()
    builder = BarBuilder([BarSpec.parse(s) for s in specs.split(",")], EmptyBarPolicy.SKIP)
    out = Outbox(emit, TickSubjects.parse(ticks), max_trades=max_trades)
    return Normaliser(out, builder, None, clock or BarClock()), emit


def trade(ts: int, price: str = "9682.5", trade_id: str = "1", size: str = "0.132") -> bytes:
    return json.dumps(
        {
            "price": price,
            "size": size,
            "ts_event": ts,
            "trade_id": trade_id,
            "aggressor_side": "BUYER",
        }
    ).encode()


async def send(n: Normaliser, data: bytes, now: int, subject: str = SUBJECT) -> None:
    n.trade(parse_ingest(subject), subject, data, now, None)
    await n.flush(now)


# --- subjects -------------------------------------------------------------------------------


def test_parse_ingest_reads_plain_and_partition_subjects() -> None:
    assert parse_ingest(SUBJECT) == Ingest("trade", "BINANCE", "BTCUSDT", None, None)
    assert parse_ingest("md.v1.ingestp.7.bar.FTX.BTC-PERP.1m") == Ingest(
        "bar", "FTX", "BTC-PERP", "1m", 7
    )


@pytest.mark.parametrize(
    "subject", ["md.v1.trade.BINANCE.BTCUSDT", "md.v1.ingest.trade.BINANCE", "x.y.z"]
)
def test_parse_ingest_refuses_other_subjects(subject: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_ingest(subject)


def test_partition_function_is_nats_servers() -> None:
    # Where nats-server 2.9 and 2.15 put these with partition(8,...) (checked by hand).
    assert [ingest_partition_of("BINANCE", s, 8) for s in ("BTCUSDT", "ETHUSDT", "XRPUSDT")] == [
        0,
        4,
        5,
    ]


# --- encoders -------------------------------------------------------------------------------


def test_derived_ids_are_derived_id() -> None:
    make = DerivedIds(RECORD_IDS)
    for key in ("trade:BTCUSDT.BINANCE:1", "trade:ETH-USD.COINBASE:a b/ü", ""):
        assert make(key) == str(derived_id(RECORD_IDS, key))


@pytest.mark.parametrize(
    ("price", "size", "trade_id"),
    [("9682.5", "0.132", "42377944"), ("0.00000001", "1000000", 'id "quoted"\\'), ("1", "2", "x")],
)
def test_trade_json_is_the_models_json(price: str, size: str, trade_id: str) -> None:
    tick = core.TradeTick(
        InstrumentId("BTCUSDT", "BINANCE"),
        Decimal(price),
        Decimal(size),
        AggressorSide.SELLER,
        TradeId(trade_id),
        T0,
        T0 + 5,
    )
    mid = str(uuid.uuid4())
    fast = trade_json(tick, "BTCUSDT.BINANCE", mid, json.dumps(trade_id))
    model = TradeTick.from_core(tick, message_id=uuid.UUID(mid))
    assert fast == model.to_json()
    assert TradeTick.from_json(fast) == model


@pytest.mark.parametrize("trade_id", ["42377944", 'id "quoted"\\', "ü-1", "tab\there"])
def test_json_string_is_json_dumps(trade_id: str) -> None:
    assert json_string(trade_id) == json.dumps(trade_id)


def test_trade_batch_json_is_the_models_json() -> None:
    ticks = [
        core.TradeTick(
            InstrumentId("BTCUSDT", "BINANCE"),
            Decimal(price),
            Decimal("0.5"),
            side,
            TradeId(trade_id),
            T0 + i,
            T0 + 9,
        )
        for i, (price, side, trade_id) in enumerate(
            [("9682.5", AggressorSide.BUYER, "7"), ("1E+2", AggressorSide.SELLER, 'x"y')]
        )
    ]
    mid = str(uuid.uuid4())
    rows = [trade_row(tick, json_string(tick.trade_id)) for tick in ticks]
    fast = trade_batch_json("BTCUSDT.BINANCE", mid, T0 + 1, T0 + 10, rows)
    model = TradeBatch.from_json(fast)
    assert model.to_json() == fast
    assert [t.to_core() for t in model.ticks()] == ticks
    assert [str(t.message_id) for t in model.ticks()] == [
        trade_message_id("BTCUSDT.BINANCE", tick.trade_id) for tick in ticks
    ]


# --- normalising ----------------------------------------------------------------------------


async def test_an_ingested_trade_is_republished_on_its_trade_subject() -> None:
    n, emit = normaliser()
    await send(n, trade(T0 + 1), T0 + 2)
    (out,) = emit.on("md.v1.trade.")
    assert out.subject == "md.v1.trade.BINANCE.BTCUSDT"
    assert out.message_id is None  # core NATS: the stream keeps the batch
    message = TradeTick.from_json(out.payload)
    assert message.instrument_id == "BTCUSDT.BINANCE"
    assert message.price == Decimal("9682.5")
    assert message.ts_event == T0 + 1
    assert message.ts_init == T0 + 2
    (batch,) = emit.on("md.v1.trades.")
    assert TradeBatch.from_json(batch.payload).ticks() == [message]


async def test_trades_go_out_in_one_batch_per_instrument_and_flush() -> None:
    n, emit = normaliser(ticks="")
    eth = "md.v1.ingest.trade.BINANCE.ETHUSDT"
    for i in range(5):
        n.trade(parse_ingest(SUBJECT), SUBJECT, trade(T0 + i, trade_id=str(i)), T0 + 9, None)
        n.trade(parse_ingest(eth), eth, trade(T0 + i, trade_id=f"e{i}"), T0 + 9, None)
    assert emit.out == []  # nothing before the flush
    await n.flush(T0 + 10)
    assert emit.on("md.v1.trade.") == []  # no per-tick subjects asked for
    btc, eth_out = emit.out
    assert btc.subject == "md.v1.trades.BINANCE.BTCUSDT"
    assert eth_out.subject == "md.v1.trades.BINANCE.ETHUSDT"
    batch = TradeBatch.from_json(btc.payload)
    assert [t.trade_id for t in batch.trades] == ["0", "1", "2", "3", "4"]
    assert (batch.ts_event, batch.ts_init) == (T0 + 4, T0 + 10)
    assert str(batch.message_id) == btc.message_id


async def test_a_full_batch_goes_out_and_a_new_one_starts() -> None:
    n, emit = normaliser(ticks="", max_trades=3)
    for i in range(7):
        n.trade(parse_ingest(SUBJECT), SUBJECT, trade(T0 + i, trade_id=str(i)), T0 + 9, None)
    await n.flush(T0 + 10)
    sizes = [len(TradeBatch.from_json(o.payload).trades) for o in emit.on("md.v1.trades.")]
    assert sizes == [3, 3, 1]


async def test_a_bar_goes_out_after_the_trades_it_holds() -> None:
    n, emit = normaliser(ticks="")
    for i, ts in enumerate([T0 + S, T0 + 2 * S, T0 + MINUTE + 1, T0 + MINUTE + 2]):
        n.trade(parse_ingest(SUBJECT), SUBJECT, trade(ts, trade_id=str(i)), T0 + 10 * MINUTE, None)
    await n.flush(T0 + 10 * MINUTE)
    kinds = [o.subject.split(".")[2] for o in emit.out]
    assert kinds == ["trades", "bar", "trades"]
    first = TradeBatch.from_json(emit.out[0].payload)
    assert [t.trade_id for t in first.trades] == ["0", "1", "2"]  # the bar's, and the closer


def test_tick_subjects_match_instrument_patterns() -> None:
    ticks = TickSubjects.parse(" *.BINANCE , ETHUSD.COINBASE,")
    assert ticks("BTCUSDT.BINANCE")
    assert ticks("ETHUSD.COINBASE")
    assert not ticks("BTCUSD.COINBASE")
    assert not ticks("BTCUSDT.BINANCE-FUTURES")
    assert not TickSubjects.parse("")("BTCUSDT.BINANCE")
    assert TickSubjects.parse("*")("ANY.THING")


async def test_the_same_trade_again_gets_the_same_message_id() -> None:
    n, emit = normaliser()
    await send(n, trade(T0 + 1), T0 + 2)
    await send(n, trade(T0 + 1), T0 + 3)
    first, second = emit.on("md.v1.trade.")
    assert TradeTick.from_json(first.payload).message_id == (
        TradeTick.from_json(second.payload).message_id
    )


@pytest.mark.parametrize(
    ("subject", "data"),
    [
        ("md.v1.ingest.trade.BINANCE.BTC*", trade(T0)),
        (SUBJECT, b"not json"),
        (SUBJECT, json.dumps({"price": 1.5, "size": "1", "ts_event": 1, "trade_id": "1"}).encode()),
        (SUBJECT, trade(T0, price="-1")),
    ],
)
async def test_bad_input_is_malformed_and_publishes_nothing(subject: str, data: bytes) -> None:
    n, emit = normaliser()
    venue, symbol = subject.split(".")[4:6]
    with pytest.raises(MalformedMessage):
        n.trade(Ingest("trade", venue, symbol, None, None), subject, data, T0, None)
    assert emit.out == []


async def test_off_instrument_rules_is_refused_with_the_reason() -> None:
    emit = Recorder()
    n = Normaliser(Outbox(emit), None, None, BarClock(), check=lambda record: "price off tick 0.5")
    with pytest.raises(MalformedMessage, match=r"price off tick 0\.5"):
        await send(n, trade(T0), T0)
    assert emit.out == []


BATCH_SUBJECT = "md.v1.ingest.trades.BINANCE.BTCUSDT"


def batch(*rows: bytes) -> bytes:
    return b'{"trades":[' + b",".join(rows) + b"]}"


async def test_a_batch_of_trades_publishes_what_the_trades_one_by_one_do() -> None:
    rows = [trade(T0 + i * 20 * S, str(9680 + i), str(i)) for i in range(7)]
    alone, alone_out = normaliser()
    for row in rows:
        alone.trade(parse_ingest(SUBJECT), SUBJECT, row, T0 + 10 * MINUTE, None)
    await alone.flush(T0 + 10 * MINUTE)
    batched, batched_out = normaliser()
    refused = batched.trades(
        parse_ingest(BATCH_SUBJECT), BATCH_SUBJECT, batch(*rows), T0 + 10 * MINUTE, None
    )
    await batched.flush(T0 + 10 * MINUTE)
    assert refused == []
    assert [(o.subject, o.payload) for o in batched_out.out] == [
        (o.subject, o.payload) for o in alone_out.out
    ]
    assert len(batched_out.on("md.v1.bar.")) == 2


async def test_a_batchs_bad_rows_are_refused_alone_and_the_rest_go_on() -> None:
    def rules(record: object) -> str | None:
        return "price off tick 0.5" if getattr(record, "price", None) == Decimal("3.3") else None

    emit = Recorder()
    n = Normaliser(Outbox(emit), None, None, BarClock(), check=rules)
    data = batch(
        trade(T0, "1", "a"), trade(T0, "-1", "b"), trade(T0, "3.3", "c"), trade(T0, "4", "d")
    )
    refused = n.trades(parse_ingest(BATCH_SUBJECT), BATCH_SUBJECT, data, T0, None)
    await n.flush(T0)
    assert [(r.index, r.reason) for r in refused] == [
        (1, "trades[1]: price: Input should be greater than 0"),
        (2, "trades[2]: off the instrument's rules: price off tick 0.5"),
    ]
    assert [json.loads(r.row)["trade_id"] for r in refused] == ["b", "c"]
    (out,) = emit.on("md.v1.trades.")
    assert [t.trade_id for t in TradeBatch.from_json(out.payload).trades] == ["a", "d"]


@pytest.mark.parametrize("data", [b"not json", b'{"trades": []}', b"[]", trade(T0)])
async def test_a_message_that_is_no_batch_is_malformed_and_publishes_nothing(
    data: bytes,
) -> None:
    n, emit = normaliser()
    with pytest.raises(MalformedMessage, match="IngestTrades"):
        n.trades(parse_ingest(BATCH_SUBJECT), BATCH_SUBJECT, data, T0, None)
    await n.flush(T0)
    assert emit.out == []


async def test_an_ingested_bar_is_republished_with_its_spec() -> None:
    n, emit = normaliser()
    subject = "md.v1.ingest.bar.FTX.BTC-PERP.1m"
    data = json.dumps(
        {"open": "1", "high": "2", "low": "0.5", "close": "1.5", "volume": "3", "ts_event": T0}
    ).encode()
    n.bar(parse_ingest(subject), subject, data, T0 + 1, None)
    await n.flush(T0 + 1)
    (out,) = emit.out
    assert out.subject == "md.v1.bar.FTX.BTC-PERP.1m"
    assert Bar.from_json(out.payload).close == Decimal("1.5")


async def test_a_bar_subject_without_a_valid_spec_is_malformed() -> None:
    n, _ = normaliser()
    subject = "md.v1.ingest.bar.FTX.BTC-PERP.1x"
    with pytest.raises(MalformedMessage):
        n.bar(parse_ingest(subject), subject, b"{}", T0, None)


async def test_trades_build_bars_that_close_on_the_next_bars_trade() -> None:
    n, emit = normaliser()
    await send(n, trade(T0 + 1 * S, "10", "1"), T0 + 10 * MINUTE)
    await send(n, trade(T0 + 2 * S, "12", "2"), T0 + 10 * MINUTE)
    assert emit.on("md.v1.bar.") == []
    await send(n, trade(T0 + MINUTE + 1, "11", "3"), T0 + 10 * MINUTE)
    (out,) = emit.on("md.v1.bar.")
    bar = Bar.from_json(out.payload)
    assert (bar.open, bar.high, bar.close) == (Decimal(10), Decimal(12), Decimal(12))
    assert bar.trade_count == 2
    assert bar.ts_event == T0 + MINUTE


# --- when bars close ------------------------------------------------------------------------


async def test_a_live_feeds_bar_closes_on_the_wall_clock_after_the_delay() -> None:
    n, emit = normaliser(clock=BarClock(delay=0.5, idle_close=10, live_lag=60))
    await send(n, trade(T0 + 10 * S), T0 + 10 * S + 1_000)  # arrives 1 us late: live
    await n.on_time(T0 + MINUTE + S // 4)
    assert emit.on("md.v1.bar.") == []  # within the delay
    await n.on_time(T0 + MINUTE + S // 2)
    assert len(emit.on("md.v1.bar.")) == 1


async def test_a_replayed_feed_closes_its_bars_only_after_falling_silent() -> None:
    n, emit = normaliser(clock=BarClock(delay=0.5, idle_close=10, live_lag=60))
    wall = T0 + 365 * 24 * 3600 * S  # a year later: historical
    await send(n, trade(T0 + 10 * S), wall)
    await n.on_time(wall + 9 * S)
    assert emit.on("md.v1.bar.") == []
    await n.on_time(wall + 10 * S)
    (out,) = emit.on("md.v1.bar.")
    assert Bar.from_json(out.payload).ts_event == T0 + MINUTE
    await n.on_time(wall + 20 * S)
    assert len(emit.on("md.v1.bar.")) == 1  # closed once


async def test_restored_state_goes_on_building_the_same_bars() -> None:
    wall = T0 + 365 * 24 * 3600 * S
    trades = [trade(T0 + i * 7 * S, str(100 + i % 5), str(i)) for i in range(40)]

    whole, whole_out = normaliser("1m,5t")
    for data in trades:
        await send(whole, data, wall)

    first, first_out = normaliser("1m,5t")
    for data in trades[:17]:
        await send(first, data, wall)
    state = json.loads(json.dumps(first.state()))
    second, second_out = normaliser("1m,5t")
    second.restore(state, wall)
    for data in trades[17:]:
        await send(second, data, wall)

    def bars(out: list[Out]) -> list[bytes]:
        return [o.payload for o in out if o.subject.startswith("md.v1.bar.")]

    assert bars(first_out.out) + bars(second_out.out) == bars(whole_out.out)


async def test_a_replayed_feed_is_not_silent_while_input_waits_behind_the_reader() -> None:
    n, emit = normaliser(clock=BarClock(delay=0.5, idle_close=10, live_lag=60))
    wall = T0 + 365 * 24 * 3600 * S
    await send(n, trade(T0 + 10 * S), wall)
    await n.on_time(wall + 30 * S, caught_up=False)
    assert emit.on("md.v1.bar.") == []
    n.reading_from(wall + 30 * S)  # e.g. restored, then the consumer took a while to open
    await n.on_time(wall + 35 * S)
    assert emit.on("md.v1.bar.") == []
    await n.on_time(wall + 40 * S)
    assert len(emit.on("md.v1.bar.")) == 1


async def test_an_ingested_quote_is_republished_and_feeds_mid_price_bars() -> None:
    n, emit = normaliser("2t")
    subject = "md.v1.ingest.quote.BINANCE.BTCUSDT"
    for i, (bid, ask) in enumerate([("100", "102"), ("104", "106")]):
        data = json.dumps(
            {
                "bid_price": bid,
                "ask_price": ask,
                "bid_size": "1",
                "ask_size": "0",
                "ts_event": T0 + i,
            }
        ).encode()
        n.quote(parse_ingest(subject), subject, data, T0 + 5, None)
    await n.flush(T0 + 5)
    quotes = emit.on("md.v1.quote.BINANCE.BTCUSDT")
    assert [q.json()["bid_price"] for q in quotes] == ["100", "104"]
    (bar,) = emit.on("md.v1.bar.")
    assert Bar.from_json(bar.payload).open == Decimal(101)
    assert Bar.from_json(bar.payload).close == Decimal(105)


async def test_a_crossed_or_malformed_quote_is_refused() -> None:
    n, emit = normaliser()
    subject = "md.v1.ingest.quote.BINANCE.BTCUSDT"
    data = json.dumps(
        {"bid_price": "1", "ask_price": "2", "bid_size": "-1", "ask_size": "1", "ts_event": T0}
    ).encode()
    with pytest.raises(MalformedMessage):
        n.quote(parse_ingest(subject), subject, data, T0, None)
    assert emit.out == []


async def test_an_ingested_instrument_is_defined_and_then_enforced() -> None:
    registry = InstrumentRegistry()
    defined: list[Instrument] = []

    async def define(instrument: Instrument) -> None:
        defined.append(instrument)
        registry.put(instrument)

    emit = Recorder()
    n = Normaliser(Outbox(emit), None, None, BarClock(), check=registry.problem, define=define)
    subject = "md.v1.ingest.instrument.BINANCE.BTCUSDT"
    rules = {
        "base_currency": "BTC",
        "quote_currency": "USDT",
        "tick_size": "0.5",
        "lot_size": "0.001",
    }
    await n.instrument_rules(parse_ingest(subject), subject, json.dumps(rules).encode())
    assert [i.tick_size for i in defined] == [Decimal("0.5")]

    await send(n, trade(T0, price="100.5"), T0)
    with pytest.raises(MalformedMessage, match=r"tick size 0\.5"):
        await send(n, trade(T0, price="100.25", trade_id="2"), T0)
    assert len(emit.on("md.v1.trades.")) == 1


async def test_a_bad_instrument_definition_is_malformed() -> None:
    n = Normaliser(Outbox(Recorder()), None, None, BarClock(), define=lambda i: asyncio.sleep(0))
    subject = "md.v1.ingest.instrument.BINANCE.BTCUSDT"
    with pytest.raises(MalformedMessage, match="tick_size"):
        await n.instrument_rules(parse_ingest(subject), subject, b'{"tick_size": "-1"}')


async def test_a_live_feeds_bar_waits_for_input_still_queued() -> None:
    n, emit = normaliser(clock=BarClock(delay=0.5, idle_close=10, live_lag=60))
    await send(n, trade(T0 + 10 * S), T0 + 10 * S + 1_000)
    await n.on_time(T0 + 61 * S, caught_up=False)  # a backlog after a handover, say
    assert emit.on("md.v1.bar.") == []
    await send(n, trade(T0 + 50 * S, trade_id="2"), T0 + 62 * S)  # from the backlog
    await n.on_time(T0 + 62 * S, caught_up=True)
    (out,) = emit.on("md.v1.bar.")
    assert Bar.from_json(out.payload).trade_count == 2
