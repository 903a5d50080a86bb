"""FOXTROT_REPLAY_START / END: settings parse them, replays keep start <= ts_event < end, and a
book cut by the start opens with a snapshot of itself."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import QuoteTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.config import MarketDataSettings
from foxtrot.market_data.service import open_replay
from foxtrot.market_data.window import within

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TRUEFX = DATA / "quotes" / "truefx_USDJPY_ticks_2013-01.csv"
BYBIT = DATA / "orderbook" / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
X = InstrumentId("X", "V")
ZERO = Decimal(0)


def data_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def quote(ts: int) -> QuoteTick:
    return QuoteTick(X, Decimal(1), Decimal(2), ZERO, ZERO, ts, ts)


def bid(price: str, size: str) -> OrderBookDelta:
    return OrderBookDelta(BookAction.UPDATE, BookSide.BID, Decimal(price), Decimal(size))


def settings(**fields: object) -> MarketDataSettings:
    return MarketDataSettings.model_validate(fields)


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("2013-01-01T22:10:00Z", 1_357_078_200_000_000_000),
        ("2013-01-01 22:10:00", 1_357_078_200_000_000_000),
        ("2013-01-01T17:10:00-05:00", 1_357_078_200_000_000_000),
        ("1357078200000000000", 1_357_078_200_000_000_000),
    ],
)
def test_replay_start_is_iso_8601_or_integer_ns(text: str, nanos: int) -> None:
    assert settings(replay_start=text).replay_start == nanos


def test_replay_window_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXTROT_REPLAY_START", "2013-01-01T22:10:00Z")
    monkeypatch.setenv("FOXTROT_REPLAY_END", "1357078800000000000")
    loaded = MarketDataSettings()
    assert (loaded.replay_start, loaded.replay_end) == (
        1_357_078_200_000_000_000,
        1_357_078_800_000_000_000,
    )


def test_empty_window_settings_mean_unbounded() -> None:
    assert (settings(replay_start="", replay_end=None).replay_start, settings().replay_end) == (
        None,
        None,
    )


def test_end_not_after_start_is_refused() -> None:
    with pytest.raises(ValidationError, match="replay_end must be after replay_start"):
        settings(replay_start="2013-01-01T22:10:00Z", replay_end="2013-01-01T22:10:00Z")


def test_unparseable_start_is_refused_saying_what_is_expected() -> None:
    with pytest.raises(ValidationError, match="ISO-8601"):
        settings(replay_start="yesterday")


def test_every_format_name_is_a_valid_replay_format() -> None:
    assert settings(replay_format="bybit_book_jsonl").replay_format == "bybit_book_jsonl"
    with pytest.raises(ValidationError):
        settings(replay_format="parquet")


# --- within -----------------------------------------------------------------------------


def test_window_keeps_start_and_drops_end() -> None:
    records = [quote(ts) for ts in (5, 10, 15, 20, 25)]
    assert [r.ts_event for r in within(records, 10, 20)] == [10, 15]
    assert [r.ts_event for r in within(records, None, 20)] == [5, 10, 15]
    assert [r.ts_event for r in within(records, 20, None)] == [20, 25]
    assert list(within(records, None, None)) == records


def test_book_cut_by_the_start_opens_with_a_snapshot_of_itself_at_the_start() -> None:
    clear = OrderBookDelta(BookAction.CLEAR, None, ZERO, ZERO)
    records = [
        OrderBookDeltas(X, (clear, bid("10", "1")), 1, 100, 100, is_snapshot=True),
        OrderBookDeltas(X, (bid("9", "2"),), 2, 200, 200),
        OrderBookDeltas(X, (bid("10", "0"),), 3, 300, 300),
        OrderBookDeltas(X, (bid("8", "3"),), 4, 400, 400),
    ]
    opened, *rest = within(records, 250, None)
    assert isinstance(opened, OrderBookDeltas)
    assert (opened.is_snapshot, opened.sequence, opened.ts_event) == (True, 2, 250)
    assert rest == records[2:]
    book = OrderBook(X)
    for batch in [opened, *rest]:
        assert isinstance(batch, OrderBookDeltas)
        book.apply(batch)
    assert [str(level.price) for level in book.bids()] == ["9", "8"]


def test_book_whose_snapshot_is_inside_the_window_gets_no_extra_snapshot() -> None:
    clear = OrderBookDelta(BookAction.CLEAR, None, ZERO, ZERO)
    records = [
        OrderBookDeltas(X, (clear, bid("10", "1")), 1, 100, 100, is_snapshot=True),
        OrderBookDeltas(X, (clear, bid("11", "1")), 5, 300, 300, is_snapshot=True),
    ]
    assert list(within(records, 200, None)) == records[1:]


def test_book_with_a_gap_before_the_start_opens_with_the_raw_deltas() -> None:
    clear = OrderBookDelta(BookAction.CLEAR, None, ZERO, ZERO)
    records = [
        OrderBookDeltas(X, (clear, bid("10", "1")), 1, 100, 100, is_snapshot=True),
        OrderBookDeltas(X, (bid("9", "2"),), 3, 200, 200),  # 2 is missing
        OrderBookDeltas(X, (bid("8", "3"),), 4, 300, 300),
    ]
    assert list(within(records, 250, None)) == records[2:]


# --- open_replay ------------------------------------------------------------------------


def test_open_replay_reads_the_detected_format_within_the_window() -> None:
    path = data_file(TRUEFX)
    records = list(
        open_replay(
            settings(
                replay_source=str(path),
                replay_instrument_id="USD/JPY.TRUEFX",
                replay_start="2013-01-01T22:10:00Z",
                replay_end="2013-01-01T22:20:00Z",
            )
        )
    )
    everything = list(open_replay(settings(replay_source=str(path))))
    assert len(everything) == 1_000
    start, end = 1_357_078_200_000_000_000, 1_357_078_800_000_000_000
    expected = [r for r in everything if start <= r.ts_event < end]
    assert 0 < len(records) == len(expected) < 1_000
    assert [(r.ts_event, r.bid_price) for r in records] == [  # type: ignore[union-attr]
        (r.ts_event, r.bid_price)  # type: ignore[union-attr]
        for r in expected
    ]
    assert {str(r.instrument_id) for r in records} == {"USD/JPY.TRUEFX"}


def test_bybit_replay_started_mid_file_still_ends_at_the_documented_book() -> None:
    records = list(
        open_replay(
            settings(
                replay_source=str(data_file(BYBIT)),
                replay_instrument_id="XRPUSDT.BYBIT",
                replay_start=1_733_011_203_000_000_000,
            )
        )
    )
    assert isinstance(records[0], OrderBookDeltas)
    assert records[0].is_snapshot
    assert records[0].ts_event == 1_733_011_203_000_000_000
    assert 2 < len(records) < 50
    book = OrderBook(InstrumentId("XRPUSDT", "BYBIT"))
    for batch in records:
        assert isinstance(batch, OrderBookDeltas)
        assert book.apply(batch)
    best_bid, best_ask = book.best_bid(), book.best_ask()
    assert best_bid is not None
    assert best_ask is not None
    assert (best_bid.price, best_ask.price) == (Decimal("1.9537"), Decimal("1.9538"))


def test_explicit_format_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "ticks.txt"
    path.write_text("ts_event,instrument_id,bid_price,ask_price,bid_size,ask_size\n5,A.B,1,2,0,0\n")
    (record,) = open_replay(settings(replay_source=str(path), replay_format="generic_csv"))
    assert isinstance(record, QuoteTick)
    with pytest.raises(ValueError, match="expected the columns timestamp, bid, ask, found"):
        list(open_replay(settings(replay_source=str(path), replay_format="truefx_quotes")))
