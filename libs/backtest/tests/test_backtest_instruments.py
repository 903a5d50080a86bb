"""Instrument rules: read off the data (tick, lot, base and quote from the symbol), or
from a JSON file of them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.backtest.instruments import infer_instruments, read_instruments, split_symbol
from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import FileSource, InvalidBacktest
from foxtrot.core.data import TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = SHARED_DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
needs_shared_data = pytest.mark.skipif(not FTX_BARS.exists(), reason="no ../shared/data")

T0 = 1_700_000_000_000_000_000


@pytest.mark.parametrize(
    ("symbol", "currencies"),
    [
        ("BTCUSDT", ("BTC", "USDT")),
        ("EURUSD", ("EUR", "USD")),
        ("ETHBTC", ("ETH", "BTC")),
        ("EUR/USD", ("EUR", "USD")),
        ("BTC/USDT:USDT", ("BTC", "USDT")),
        ("BTC-PERP", ("BTC", "USD")),
        ("BTC-0325", ("BTC", "USD")),
        ("BTC-USDT-SWAP", ("BTC", "USDT")),
        ("ETH_USDC", ("ETH", "USDC")),
        ("BTCUSDT_PERP", ("BTC", "USDT")),
        ("6EH4", None),
        ("NVDA", None),
    ],
)
def test_symbols_split_into_base_and_quote_when_they_say(
    symbol: str, currencies: tuple[str, str] | None
) -> None:
    assert split_symbol(symbol) == currencies


def _trade(symbol: str, price: str, size: str) -> TradeTick:
    return TradeTick(
        InstrumentId(symbol, "X"),
        Decimal(price),
        Decimal(size),
        AggressorSide.BUYER,
        TradeId("1"),
        T0,
        T0,
    )


def test_tick_and_lot_are_the_finest_decimal_places_seen() -> None:
    records = [
        _trade("BTCUSDT", "46319.0", "0.5"),
        _trade("BTCUSDT", "46320.5", "0.250"),
        _trade("BTCUSDT", "46400", "3"),
    ]

    (rules,) = infer_instruments(records)

    assert rules.instrument_id == "BTCUSDT.X"
    assert (rules.base_currency, rules.quote_currency) == ("BTC", "USDT")
    assert rules.tick_size == Decimal("0.1")  # 46319.0 alone says 1: the zero is not a digit
    assert rules.lot_size == Decimal("0.01")


def test_tick_is_at_most_one_and_at_least_one_hundred_millionth() -> None:
    coarse, fine = infer_instruments(
        [_trade("AAAUSD", "46400", "1"), _trade("BBBUSD", "0.0000000001234", "1")]
    )

    assert coarse.tick_size == Decimal(1)
    assert fine.tick_size == Decimal("1e-8")


@needs_shared_data
def test_ftx_bars_give_rules_for_btc_perp_in_usd() -> None:
    data = BacktestData([FileSource(path=str(FTX_BARS), instrument_id="BTC-PERP.FTX")])

    (rules,) = infer_instruments(data.sample())

    assert (rules.base_currency, rules.quote_currency) == ("BTC", "USD")
    assert rules.tick_size == Decimal("0.01")  # FTX's bars carry quarter-dollar prices
    assert rules.lot_size == Decimal("1e-8")


def test_an_instrument_whose_symbol_names_no_currencies_needs_its_rules() -> None:
    with pytest.raises(InvalidBacktest, match=r"6EH4\.X.*--instrument 6EH4\.X:base="):
        infer_instruments([_trade("6EH4", "1.0950", "1")])


def test_given_rules_take_the_place_of_inferred_ones() -> None:
    (rules,) = infer_instruments(
        [_trade("6EH4", "1.0950", "1")],
        given={"6EH4.X": {"base_currency": "EUR", "quote_currency": "USD", "tick_size": "5e-5"}},
    )

    assert (rules.base_currency, rules.quote_currency) == ("EUR", "USD")
    assert rules.tick_size == Decimal("0.00005")
    assert rules.lot_size == Decimal(1)


def test_instruments_already_known_are_skipped() -> None:
    assert infer_instruments([_trade("6EH4", "1", "1")], known=["6EH4.X"]) == []


# --- a file of rules --------------------------------------------------------------------------


def _rules(instrument_id: str, **extra: str) -> dict[str, str]:
    return {
        "instrument_id": instrument_id,
        "base_currency": "BTC",
        "quote_currency": "USDT",
        "tick_size": "0.01",
        "lot_size": "0.00001",
        "min_quantity": "0.00001",
        **extra,
    }


def test_a_rules_file_in_the_shape_of_deploy_instruments_json_is_read(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    path.write_text(json.dumps([_rules("BTCUSDT.BINANCE", min_notional="5"), _rules("A.B")]))

    first, second = read_instruments(path)

    assert first.instrument_id == "BTCUSDT.BINANCE"
    assert (first.tick_size, first.min_notional, first.max_quantity) == (
        Decimal("0.01"),
        Decimal(5),
        None,
    )
    assert second.instrument_id == "A.B"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{", "is not JSON"),
        ('{"instrument_id": "A.B"}', "must hold a JSON array of instruments, was a dict"),
        ("[1]", "instrument 1 must be a JSON object"),
        (json.dumps([_rules("A.B", tick="1")]), r"instrument 1 \(A\.B\): tick: Extra inputs"),
        (json.dumps([_rules("A.B", tick_size="-1")]), "tick_size: Input should be greater"),
        (json.dumps([_rules("AB")]), r"instrument 1 \(AB\)"),
        (json.dumps([_rules("A.B"), _rules("A.B")]), r"lists A\.B twice"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "instruments.json"
    path.write_text(content)

    with pytest.raises(InvalidBacktest, match=message) as refused:
        read_instruments(path)

    assert str(refused.value).startswith(f"instruments file {path}")
