"""Subject builders: ``<domain>.v<major>.<type>.<qualifiers>``, one token per qualifier."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from foxtrot.common import subjects
from foxtrot.common.streams import EVENTS, STREAMS
from foxtrot.core.identifiers import InstrumentId

BTC = InstrumentId("BTCUSDT", "BINANCE")
Matcher = Callable[[str, str], bool]


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (subjects.trade(BTC), "md.v1.trade.BINANCE.BTCUSDT"),
        (subjects.quote(BTC), "md.v1.quote.BINANCE.BTCUSDT"),
        (subjects.bar(BTC, "1m"), "md.v1.bar.BINANCE.BTCUSDT.1m"),
        (subjects.bar(BTC, "100t"), "md.v1.bar.BINANCE.BTCUSDT.100t"),
        (subjects.book(BTC), "md.v1.book.BINANCE.BTCUSDT"),
        (subjects.ingest_trade(BTC), "md.v1.ingest.trade.BINANCE.BTCUSDT"),
        (subjects.ingest_bar(BTC, "1m"), "md.v1.ingest.bar.BINANCE.BTCUSDT.1m"),
        (subjects.order_events("sma-1"), "evt.v1.order.sma-1"),
        (subjects.position_events("sma-1"), "evt.v1.position.sma-1"),
        (subjects.account_events("acc-1"), "evt.v1.account.acc-1"),
        (subjects.risk_events("STRATEGY", "sma-1"), "evt.v1.risk.strategy.sma-1"),
        (subjects.dead_letter("risk"), "dlq.v1.risk"),
    ],
)
def test_builder_puts_venue_before_symbol_and_each_qualifier_in_its_own_token(
    built: str, expected: str
) -> None:
    assert built == expected


def test_symbols_with_subject_safe_punctuation_stay_one_token() -> None:
    assert subjects.trade(InstrumentId("BTC-PERP", "FTX")).split(".") == [
        "md",
        "v1",
        "trade",
        "FTX",
        "BTC-PERP",
    ]


@pytest.mark.parametrize(
    ("pattern", "subject"),
    [
        (subjects.MD_ALL_TRADES, subjects.trade(BTC)),
        (subjects.MD_ALL_BARS, subjects.bar(BTC, "5m")),
        (subjects.INGEST_TRADES, subjects.ingest_trade(BTC)),
        (subjects.INGEST_BARS, subjects.ingest_bar(BTC, "1m")),
        (subjects.RISK_COMMANDS, subjects.RISK_SUBMIT_ORDER),
        (subjects.RISK_COMMANDS, subjects.RISK_MODIFY_ORDER),
        (subjects.EXEC_COMMANDS, subjects.EXEC_SUBMIT_ORDER),
        (subjects.EXEC_COMMANDS, subjects.EXEC_MODIFY_ORDER),
        (subjects.EXEC_COMMANDS, subjects.EXEC_CANCEL_ORDER),
        (subjects.ORDER_EVENTS_ALL, subjects.order_events("s1")),
        (subjects.POSITION_EVENTS_ALL, subjects.position_events("s1")),
        (subjects.DEAD_LETTER_ALL, subjects.dead_letter("execution")),
    ],
)
def test_wildcard_constant_matches_what_the_builder_makes(
    subject_matches: Matcher, pattern: str, subject: str
) -> None:
    assert subject_matches(pattern, subject)


@pytest.mark.parametrize(
    ("pattern", "subject"),
    [
        (subjects.MD_ALL_TRADES, subjects.quote(BTC)),
        (subjects.MD_ALL_TRADES, subjects.ingest_trade(BTC)),
        (subjects.MD_ALL_BARS, subjects.ingest_bar(BTC, "1m")),
        (subjects.ORDER_EVENTS_ALL, subjects.position_events("s1")),
        (subjects.EXEC_COMMANDS, subjects.RISK_SUBMIT_ORDER),
    ],
)
def test_wildcard_constant_does_not_reach_other_streams(
    subject_matches: Matcher, pattern: str, subject: str
) -> None:
    assert not subject_matches(pattern, subject)


@pytest.mark.parametrize(
    "name", [n for n in subjects.__all__ if n.isupper() and isinstance(getattr(subjects, n), str)]
)
def test_every_subject_constant_follows_domain_version_type(name: str) -> None:
    domain, version, kind, *_ = getattr(subjects, name).split(".")
    assert domain in {"md", "cmd", "evt", "dlq", "qry", "ctl"}
    assert version == "v1"
    assert kind


@pytest.mark.parametrize(
    "subject",
    [
        subjects.STRATEGY_START,
        subjects.STRATEGY_STOP,
        subjects.STRATEGY_RELOAD,
        subjects.STRATEGY_RESET,
        subjects.STRATEGY_REMOVE,
        subjects.STRATEGY_RUN_BACKTEST,
        subjects.QRY_STRATEGY_INSTANCES,
        subjects.QRY_STRATEGY_BACKTEST,
    ],
)
def test_no_stream_captures_a_request_reply_subject(
    subject: str, subject_matches: Callable[[str, str], bool]
) -> None:
    # A stream would answer the request with its publish acknowledgement first.
    captured = [s.name for s in STREAMS for p in s.subjects if subject_matches(p, subject)]
    assert captured == []


def test_strategy_events_are_kept_in_the_events_stream(
    subject_matches: Callable[[str, str], bool],
) -> None:
    assert subjects.strategy_events("sma-cross-1") == "evt.v1.strategy.sma-cross-1"
    assert any(subject_matches(p, subjects.strategy_events("x")) for p in EVENTS.subjects)


def test_ingest_mappings_route_every_ingest_subject_to_a_partition_subject() -> None:
    mappings = subjects.ingest_mappings()
    assert set(mappings) == {"md.v1.ingest.*.*.*", "md.v1.ingest.*.*.*.*"}
    for destination in mappings.values():
        assert destination.startswith(f"{subjects.INGEST_PARTITIONED}.{{{{partition(16,2,3)}}}}.")


def test_nats_wildcard_matcher_follows_nats_rules(subject_matches: Matcher) -> None:
    assert subject_matches("a.*.c", "a.b.c")
    assert not subject_matches("a.*", "a.b.c")
    assert subject_matches("a.>", "a.b.c")
    assert not subject_matches("a.>", "a")
    assert not subject_matches("a.b", "a.b.c")
