"""InstrumentId: SYMBOL.VENUE, each part usable as one NATS subject token."""

from __future__ import annotations

import pytest

from foxtrot.core.errors import DomainError, InvalidIdentifier
from foxtrot.core.identifiers import InstrumentId


@pytest.mark.parametrize(
    ("text", "symbol", "venue"),
    [
        ("BTCUSDT.BINANCE", "BTCUSDT", "BINANCE"),
        ("BTC-PERP.FTX", "BTC-PERP", "FTX"),
        ("EUR/USD.FXCM", "EUR/USD", "FXCM"),
        ("6E:H4.CME_GLOBEX", "6E:H4", "CME_GLOBEX"),
    ],
)
def test_parse_splits_symbol_and_venue_and_str_gives_the_text_back(
    text: str, symbol: str, venue: str
) -> None:
    instrument = InstrumentId.parse(text)
    assert (instrument.symbol, instrument.venue) == (symbol, venue)
    assert str(instrument) == text
    assert InstrumentId.parse(str(instrument)) == instrument


def test_instrument_ids_compare_and_hash_by_value() -> None:
    assert InstrumentId.parse("BTCUSDT.BINANCE") == InstrumentId("BTCUSDT", "BINANCE")
    assert len({InstrumentId.parse("A.X"), InstrumentId("A", "X")}) == 1


@pytest.mark.parametrize("text", ["BTCUSDT", ".BINANCE", "BTCUSDT.", "", "."])
def test_id_without_both_symbol_and_venue_is_refused_showing_the_input(text: str) -> None:
    with pytest.raises(
        InvalidIdentifier, match=r"instrument id must be SYMBOL\.VENUE, was "
    ) as err:
        InstrumentId.parse(text)
    assert repr(text) in str(err.value)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("BTC USDT.BINANCE", "symbol"),
        ("BTC*.BINANCE", "symbol"),
        ("BTC>.BINANCE", "symbol"),
        ("BTC.USD.BINANCE", "symbol"),  # the venue is after the last dot, so the symbol has a dot
        ("BTCUSDT.BIN ANCE", "venue"),
    ],
)
def test_part_that_is_not_one_subject_token_is_refused(text: str, part: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"instrument {part} must be letters"):
        InstrumentId.parse(text)


def test_constructor_validates_like_parse() -> None:
    with pytest.raises(InvalidIdentifier, match=r"was 'a\.b'"):
        InstrumentId("a.b", "VENUE")


def test_invalid_identifier_is_a_domain_error_and_a_value_error() -> None:
    with pytest.raises(DomainError):
        InstrumentId.parse("nope")
    with pytest.raises(ValueError, match=r"SYMBOL\.VENUE"):
        InstrumentId.parse("nope")
