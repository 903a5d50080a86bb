"""An aggregator restored from another's state goes on exactly as the original would have:
the property that lets market data move an instrument between replicas mid-bar."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from foxtrot.core.aggregation import EmptyBarPolicy, aggregator_for
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

BTC = InstrumentId("BTCUSDT", "BINANCE")
S = 1_000_000_000
T0 = 1_600_000_020 * S

# (seconds after T0, price in cents, size in thousandths); times may go backwards a little.
inputs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=600),
        st.integers(min_value=1, max_value=10_000),
        st.integers(min_value=1, max_value=5_000),
    ),
    max_size=60,
)


def feed(specs: list[str], trades: list[tuple[int, int, int]], split: int | None) -> list[Bar]:
    aggs = [aggregator_for(BTC, spec, EmptyBarPolicy.CARRY_FORWARD) for spec in specs]
    bars: list[Bar] = []
    for i, (secs, cents, milli) in enumerate(trades):
        if i == split:
            # Hand over: the state crosses the wire as JSON to a fresh aggregator.
            states = [json.loads(json.dumps(agg.state())) for agg in aggs]
            aggs = [aggregator_for(BTC, spec, EmptyBarPolicy.CARRY_FORWARD) for spec in specs]
            for agg, state in zip(aggs, states, strict=True):
                agg.restore(state)
        price, size = Decimal(cents) / 100, Decimal(milli) / 1000
        for agg in aggs:
            bars += agg.on_trade(price, size, T0 + secs * S)
    for agg in aggs:
        bars += agg.on_time(T0 + 3600 * S)
    return bars


@settings(max_examples=200, deadline=None)
@given(trades=inputs, data=st.data())
def test_restored_aggregators_build_the_same_bars(
    trades: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    split = data.draw(st.integers(min_value=0, max_value=len(trades)))
    specs = ["1m", "5s", "7t", "2v", "300q"]
    assert feed(specs, trades, split) == feed(specs, trades, None)


def test_state_keeps_late_and_gap_counts() -> None:
    agg = aggregator_for(BTC, "1s")
    agg.on_trade(Decimal(1), Decimal(1), T0 + 5 * S)
    agg.on_trade(Decimal(1), Decimal(1), T0)  # late
    copy = aggregator_for(BTC, "1s")
    copy.restore(json.loads(json.dumps(agg.state())))
    assert copy.late == 1
    assert copy.state() == agg.state()
