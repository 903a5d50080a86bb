"""Binance exchangeInfo into instruments: filters, status, padding, and what is left out."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.adapters.binance_instruments import parse_exchange_info


def _symbol(
    symbol: str, base: str, quote: str, status: str, filters: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "status": status,
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters,
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _price(tick: str, low: str = "0.01000000", high: str = "1000000.00000000") -> dict[str, Any]:
    return {"filterType": "PRICE_FILTER", "minPrice": low, "maxPrice": high, "tickSize": tick}


def _lot(step: str, low: str, high: str) -> dict[str, Any]:
    return {"filterType": "LOT_SIZE", "minQty": low, "maxQty": high, "stepSize": step}


# Written after the documented shape of GET /api/v3/exchangeInfo (spot), trimmed to four
# symbols: today's NOTIONAL filter, the older MIN_NOTIONAL one, a symbol in BREAK, and one
# whose PRICE_FILTER is disabled (tickSize 0).
EXCHANGE_INFO: dict[str, Any] = {
    "timezone": "UTC",
    "serverTime": 1_732_060_800_123,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    ],
    "exchangeFilters": [],
    "symbols": [
        _symbol(
            "BTCUSDT",
            "BTC",
            "USDT",
            "TRADING",
            [
                _price("0.01000000"),
                _lot("0.00001000", "0.00001000", "9000.00000000"),
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": "0.00000000",
                    "maxQty": "83.47290680",
                    "stepSize": "0.00000000",
                },
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10},
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": "5",
                    "bidMultiplierDown": "0.2",
                    "askMultiplierUp": "5",
                    "askMultiplierDown": "0.2",
                    "avgPriceMins": 5,
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "5.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
            ],
        ),
        _symbol(
            "ETHBTC",
            "ETH",
            "BTC",
            "TRADING",
            [
                _price("0.00001000", low="0.00001000", high="922327.00000000"),
                _lot("0.00010000", "0.00010000", "100000.00000000"),
                {
                    "filterType": "MIN_NOTIONAL",
                    "minNotional": "0.00010000",
                    "applyToMarket": True,
                    "avgPriceMins": 5,
                },
            ],
        ),
        _symbol(
            "LUNAUSDT",
            "LUNA",
            "USDT",
            "BREAK",
            [_price("1.00000000"), _lot("10.00000000", "10.00000000", "0.00000000")],
        ),
        _symbol(
            "OLDUSDT",
            "OLD",
            "USDT",
            "TRADING",
            [_price("0.00000000"), _lot("1.00000000", "1.00000000", "1000.00000000")],
        ),
    ],
}


def test_each_usable_symbol_becomes_an_instrument_without_the_padding() -> None:
    parsed = parse_exchange_info(EXCHANGE_INFO)

    btc, eth, luna = parsed.instruments
    assert btc == Instrument(
        InstrumentId("BTCUSDT", "BINANCE"),
        "BTC",
        "USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        max_quantity=Decimal("9000"),
        min_notional=Decimal("5"),
        tradable=True,
    )
    assert str(btc.tick_size) == "0.01"
    assert str(btc.max_quantity) == "9000"
    assert (btc.price_precision, btc.size_precision) == (2, 5)
    assert eth.min_notional == Decimal("0.0001")  # from the older MIN_NOTIONAL filter
    assert eth.quote_currency == "BTC"
    assert str(luna.lot_size) == "10"  # not 1E+1


def test_a_symbol_that_is_not_trading_is_not_tradable_and_max_qty_0_is_no_limit() -> None:
    luna = parse_exchange_info(EXCHANGE_INFO).instruments[2]

    assert luna.tradable is False
    assert luna.max_quantity is None
    assert luna.min_notional is None


def test_a_disabled_price_filter_leaves_the_symbol_out_with_the_reason() -> None:
    parsed = parse_exchange_info(EXCHANGE_INFO)

    assert list(parsed.skipped) == ["OLDUSDT"]
    assert "tickSize 0" in parsed.skipped["OLDUSDT"]


def test_the_venue_can_be_named_for_futures_whose_min_notional_is_called_notional() -> None:
    futures = {
        "symbols": [
            _symbol(
                "BTCUSDT",
                "BTC",
                "USDT",
                "TRADING",
                [
                    _price("0.10", low="556.80", high="4529764"),
                    _lot("0.001", "0.001", "1000"),
                    {"filterType": "MIN_NOTIONAL", "notional": "100"},
                ],
            )
        ]
    }

    (btc,) = parse_exchange_info(futures, venue="BINANCE-FUTURES").instruments

    assert btc.instrument_id == InstrumentId("BTCUSDT", "BINANCE-FUTURES")
    assert btc.tick_size == Decimal("0.1")
    assert btc.min_notional == Decimal("100")


def test_symbols_that_cannot_be_instruments_are_listed_not_raised() -> None:
    document = copy.deepcopy(EXCHANGE_INFO)
    del document["symbols"][0]["baseAsset"]
    document["symbols"][1]["filters"] = [_price("0.01")]
    document["symbols"][2]["symbol"] = "币安人生USDT"  # not a subject-safe symbol
    document["symbols"][2]["baseAsset"] = "币安人生"

    parsed = parse_exchange_info(document)

    assert parsed.instruments == []
    assert set(parsed.skipped) == {"BTCUSDT", "ETHBTC", "币安人生USDT", "OLDUSDT"}
    assert parsed.skipped["BTCUSDT"] == "has no 'baseAsset'"
    assert "LOT_SIZE" in parsed.skipped["ETHBTC"]
    assert "symbol" in parsed.skipped["币安人生USDT"]


def test_a_document_without_symbols_defines_nothing() -> None:
    parsed = parse_exchange_info({"timezone": "UTC", "serverTime": 1})

    assert parsed.instruments == []
    assert parsed.skipped == {}
