"""InstrumentRegistry: definitions from files, changes, and the checks on published records."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.messages.v1 import InstrumentsQuery
from foxtrot.core.book import BookAction, BookSide, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.instrument_queries import instruments_reply
from foxtrot.market_data.instruments import InstrumentRegistry, read_instrument_file

BTC = InstrumentId("BTCUSDT", "BINANCE")
UNKNOWN = InstrumentId("DOGEUSDT", "BINANCE")
D = Decimal


def btcusdt(**overrides: object) -> Instrument:
    instrument = Instrument(
        BTC,
        "BTC",
        "USDT",
        tick_size=D("0.01"),
        lot_size=D("0.001"),
        min_quantity=D("0.001"),
        max_quantity=D("9000"),
        min_notional=D("5"),
    )
    return dataclasses.replace(instrument, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def registry() -> InstrumentRegistry:
    return InstrumentRegistry([btcusdt()])


def trade(price: str, size: str, instrument_id: InstrumentId = BTC) -> TradeTick:
    return TradeTick(instrument_id, D(price), D(size), AggressorSide.BUYER, TradeId("1"), 1, 1)


def quote(bid: str, ask: str, bid_size: str = "1", ask_size: str = "1") -> QuoteTick:
    return QuoteTick(BTC, D(bid), D(ask), D(bid_size), D(ask_size), 1, 1)


def bar(o: str, h: str, lo: str, c: str, volume: str = "1.5") -> Bar:
    return Bar(BTC, "1m", D(o), D(h), D(lo), D(c), D(volume), 1, 1)


def book(*levels: tuple[BookAction, BookSide | None, str, str]) -> OrderBookDeltas:
    deltas = tuple(OrderBookDelta(a, s, D(p), D(q)) for a, s, p, q in levels)
    return OrderBookDeltas(BTC, deltas, sequence=7, ts_event=1, ts_init=1)


# --- the checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "size", "problem"),
    [
        ("43250.10", "0.015", None),
        ("43250.10", "1234", None),  # above max_quantity: what printed is not an order
        ("43250.10", "0.001", None),  # notional below min_notional: likewise
        ("43250.105", "0.015", "price must be a multiple of tick size 0.01, was 43250.105"),
        ("43250.10", "0.0155", "size must be a multiple of lot size 0.001, was 0.0155"),
        ("0", "0.015", "price must be positive, was 0"),
        ("43250.10", "0", "size must be positive, was 0"),
        ("43250.10", "-0.001", "size must be positive, was -0.001"),
    ],
)
def test_trade_price_is_on_the_tick_and_size_on_the_lot(
    registry: InstrumentRegistry, price: str, size: str, problem: str | None
) -> None:
    assert registry.problem(trade(price, size)) == problem


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (quote("100.01", "100.02", "0.5", "2"), None),
        (quote("100.01", "100.02", "0", "0"), None),  # an empty side is a size of 0
        (quote("100.015", "100.02"), "bid_price must be a multiple of tick size 0.01, was 100.015"),
        (quote("100.01", "100.021"), "ask_price must be a multiple of tick size 0.01, was 100.021"),
        (
            quote("100.01", "100.02", bid_size="0.0001"),
            "bid_size must be a multiple of lot size 0.001, was 0.0001",
        ),
        (
            quote("100.01", "100.02", ask_size="-1"),
            "ask_size must not be negative, was -1",
        ),
    ],
)
def test_quote_prices_are_on_the_tick_and_sizes_on_the_lot(
    registry: InstrumentRegistry, record: QuoteTick, problem: str | None
) -> None:
    assert registry.problem(record) == problem


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (bar("100.00", "101.50", "99.99", "100.10"), None),
        (bar("100.00", "100.00", "100.00", "100.00", volume="0"), None),  # an empty bar
        (
            bar("100.00", "101.505", "99.99", "100.10"),
            "high must be a multiple of tick size 0.01, was 101.505",
        ),
        (
            bar("100.00", "101.50", "99.99", "100.101"),
            "close must be a multiple of tick size 0.01, was 100.101",
        ),
        (
            bar("100.00", "101.50", "99.99", "100.10", volume="1.0005"),
            "volume must be a multiple of lot size 0.001, was 1.0005",
        ),
    ],
)
def test_bar_prices_are_on_the_tick_and_volume_on_the_lot(
    registry: InstrumentRegistry, record: Bar, problem: str | None
) -> None:
    assert registry.problem(record) == problem


def test_book_levels_are_on_the_tick_and_lot_and_deletes_and_clears_pass(
    registry: InstrumentRegistry,
) -> None:
    good = book(
        (BookAction.CLEAR, None, "0", "0"),
        (BookAction.ADD, BookSide.BID, "100.01", "0.5"),
        (BookAction.UPDATE, BookSide.ASK, "100.02", "3"),
        (BookAction.DELETE, BookSide.ASK, "100.03", "0"),
    )

    assert registry.problem(good) is None


@pytest.mark.parametrize(
    ("level", "problem"),
    [
        (
            (BookAction.UPDATE, BookSide.ASK, "100.025", "3"),
            "delta 1 (UPDATE ASK) price must be a multiple of tick size 0.01, was 100.025",
        ),
        (
            (BookAction.ADD, BookSide.BID, "100.02", "0.0001"),
            "delta 1 (ADD BID) size must be a multiple of lot size 0.001, was 0.0001",
        ),
    ],
)
def test_book_level_off_the_grid_is_named_by_its_position(
    registry: InstrumentRegistry, level: tuple[BookAction, BookSide, str, str], problem: str
) -> None:
    record = book((BookAction.ADD, BookSide.BID, "100.01", "0.5"), level)

    assert registry.problem(record) == problem


def test_records_of_an_unknown_instrument_pass_and_the_caller_can_tell(
    registry: InstrumentRegistry,
) -> None:
    record = trade("0.123456789", "0.5", UNKNOWN)

    assert registry.problem(record) is None
    assert UNKNOWN not in registry
    assert BTC in registry


def test_a_tick_that_is_not_a_power_of_ten_is_checked_as_a_multiple() -> None:
    registry = InstrumentRegistry([btcusdt(tick_size=D("0.5"), lot_size=D("5"))])

    assert registry.problem(trade("100.5", "15")) is None
    assert registry.problem(trade("100.25", "15")) == (
        "price must be a multiple of tick size 0.5, was 100.25"
    )
    assert registry.problem(trade("100.5", "12")) == (
        "size must be a multiple of lot size 5, was 12"
    )


def test_a_value_too_long_for_the_default_decimal_context_is_still_checked(
    registry: InstrumentRegistry,
) -> None:
    # 1e30 / 0.01 has 33 digits, more than the default context's 28.
    assert registry.problem(trade("1" + "0" * 30 + ".005", "1")) == (
        f"price must be a multiple of tick size 0.01, was 1{'0' * 30}.005"
    )


def test_a_new_definition_takes_effect_at_once(registry: InstrumentRegistry) -> None:
    tick = trade("100.05", "1")
    assert registry.problem(tick) is None  # and now cached as the last instrument seen

    registry.put(btcusdt(tick_size=D("0.1")))

    assert registry.problem(tick) == "price must be a multiple of tick size 0.1, was 100.05"


# --- definitions ----------------------------------------------------------------------------


def test_put_says_whether_the_rules_changed(registry: InstrumentRegistry) -> None:
    assert registry.put(btcusdt()) is False
    assert registry.put(btcusdt(tick_size=D("0.0100"))) is False  # the same value
    assert registry.put(btcusdt(tradable=False)) is True
    assert registry.put(btcusdt(instrument_id=UNKNOWN)) is True
    assert len(registry) == 2
    assert registry.get(BTC) == btcusdt(tradable=False)


def test_instruments_file_lists_ingest_fields_with_the_instrument_id(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    path.write_text(
        json.dumps(
            [
                {
                    "instrument_id": "BTCUSDT.BINANCE",
                    "base_currency": "BTC",
                    "quote_currency": "USDT",
                    "tick_size": "0.01",
                    "lot_size": "0.001",
                    "min_quantity": "0.001",
                    "max_quantity": "9000",
                    "min_notional": "5",
                },
                {
                    "instrument_id": "EUR/USD.IDEALPRO",
                    "base_currency": "EUR",
                    "quote_currency": "USD",
                    "tick_size": "0.00005",
                    "lot_size": "1",
                },
            ]
        )
    )
    registry = InstrumentRegistry()

    changed = registry.load_file(path)

    assert [str(i.instrument_id) for i in changed] == ["BTCUSDT.BINANCE", "EUR/USD.IDEALPRO"]
    assert registry.get(BTC) == btcusdt()
    assert registry.load_file(path) == []  # nothing new the second time


def test_a_saved_binance_exchange_info_is_an_instruments_file(tmp_path: Path) -> None:
    path = tmp_path / "exchangeInfo.json"
    filters = [
        {"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "stepSize": "0.00100000", "minQty": "0.001", "maxQty": "0"},
    ]
    symbol = {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT"}
    path.write_text(json.dumps({"symbols": [{**symbol, "filters": filters}]}))

    (instrument,) = read_instrument_file(path, binance_venue="BINANCE")

    assert instrument == btcusdt(max_quantity=None, min_notional=None)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "instruments file"),
        ('{"BTCUSDT": {}}', "expected a list of instruments"),
        ('[{"instrument_id": "BTCUSDT.BINANCE", "base_currency": "BTC"}]', "tick_size"),
        (
            '[{"instrument_id": "X.Y", "base_currency": "B", "quote_currency": "Q",'
            ' "tick_size": 0.01, "lot_size": "1"}]',
            "not a JSON number",
        ),
    ],
)
def test_a_bad_instruments_file_is_a_configuration_error_that_says_why(
    tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "instruments.json"
    path.write_text(content)

    with pytest.raises(ConfigurationError, match=words):
        read_instrument_file(path)


def test_a_missing_instruments_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.json"):
        read_instrument_file(tmp_path / "nope.json")


# --- the query ------------------------------------------------------------------------------


def numbered(venue: str, n: int) -> Instrument:
    return btcusdt(instrument_id=InstrumentId(f"S{n:03d}", venue))


async def test_query_filters_by_venue_and_pages_by_instrument_id() -> None:
    registry = InstrumentRegistry(
        [numbered("BINANCE", n) for n in range(5)] + [numbered("BYBIT", n) for n in range(3)]
    )

    first = await instruments_reply(InstrumentsQuery(venue="BINANCE", limit=3), registry)
    second = await instruments_reply(
        InstrumentsQuery(venue="BINANCE", limit=3, after=first.next_after), registry
    )

    assert [i.instrument_id for i in first.instruments] == [
        "S000.BINANCE",
        "S001.BINANCE",
        "S002.BINANCE",
    ]
    assert first.next_after == "S002.BINANCE"
    assert [i.instrument_id for i in second.instruments] == ["S003.BINANCE", "S004.BINANCE"]
    assert second.next_after is None


async def test_query_for_one_instrument_returns_its_rules_with_their_precision(
    registry: InstrumentRegistry,
) -> None:
    reply = await instruments_reply(InstrumentsQuery(instrument_id="BTCUSDT.BINANCE"), registry)

    (view,) = reply.instruments
    assert view.to_core() == btcusdt()
    assert (view.price_precision, view.size_precision) == (2, 3)
    none = await instruments_reply(InstrumentsQuery(instrument_id="X.BINANCE"), registry)
    assert none.instruments == ()
