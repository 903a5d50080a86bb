"""One backtest from its spec: the same spec trades the same way every time, the result
carries the spec it ran, and bad specs are refused with a clear message."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from foxtrot.backtest.runner import run_backtest
from foxtrot.backtest.spec import BacktestSpec, InvalidBacktest

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = SHARED_DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
pytestmark = pytest.mark.skipif(not FTX_BARS.exists(), reason="no ../shared/data")


def _spec(**changes: Any) -> BacktestSpec:
    fields: dict[str, Any] = {
        "strategy": "sma_cross",
        "config": {
            "strategy_id": "sma-test",
            "instrument_id": "BTC-PERP.FTX",
            "fast_period": 10,
            "slow_period": 30,
            "trade_size": "0.5",
        },
        "data": [{"path": str(FTX_BARS), "instrument_id": "BTC-PERP.FTX"}],
        "venue": {"latency_ms": "50", "slippage_bps": "1", "prob_slippage": 0.5, "seed": 7},
        "start": "2022-01-05",
        "end": "2022-01-08",
    }
    fields.update(changes)
    return BacktestSpec.model_validate(fields)


def test_the_same_spec_gives_the_same_orders_and_fills() -> None:
    first = run_backtest(_spec())
    second = run_backtest(_spec())

    assert len(first.result.fills) > 10
    assert first.result.fills == second.result.fills
    assert [o.spec for o in first.result.orders] == [o.spec for o in second.result.orders]
    assert first.statistics == second.statistics


def test_the_result_carries_the_spec_with_every_instruments_rules() -> None:
    run = run_backtest(_spec())

    settings = run.result.settings
    assert BacktestSpec.model_validate(settings) == run.spec
    assert settings["instruments"] == [
        {
            "instrument_id": "BTC-PERP.FTX",
            "base_currency": "BTC",
            "quote_currency": "USD",
            "tick_size": "0.01",
            "lot_size": "1E-8",
            "min_quantity": "0",
            "max_quantity": None,
            "min_notional": None,
        }
    ]
    assert run.result.records == 3 * 24 * 60
    assert run.records_per_s > 0
    assert run.statistics.fills == len(run.result.fills)


def test_a_run_repeated_from_its_settings_trades_the_same() -> None:
    run = run_backtest(_spec())

    again = run_backtest(BacktestSpec.model_validate(run.result.settings))

    assert again.result.fills == run.result.fills


def test_fees_and_balances_come_from_the_spec() -> None:
    run = run_backtest(
        _spec(venue={"taker_fee": "0.001"}, starting_balances={"USD": "50000"}),
    )

    assert run.result.starting_equity == Decimal(50_000)
    fill = run.result.fills[0]
    assert fill.commission == fill.last_px * fill.last_qty * Decimal("0.001")


def test_risk_limits_are_enforced_in_the_run() -> None:
    run = run_backtest(_spec(risk_limits={"max_order_quantity": "0.1"}))

    assert run.result.fills == []
    assert run.result.orders  # every one denied
    assert {o.status.value for o in run.result.orders} == {"DENIED"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategy": "no_such_strategy"}, "strategy must be an entry point name"),
        ({"strategy": "foxtrot.nowhere:Thing"}, "cannot import strategy module"),
        (
            {"config": {"strategy_id": "x", "instrument_id": "BTC-PERP.FTX", "fast_period": 50}},
            "need fast_period < slow_period",
        ),
        ({"risk_limits": {"max_sizes": "1"}}, "max_sizes: no such limit"),
        ({"risk_limits": {"max_position": "lots"}}, "must be a decimal number"),
        ({"data": [{"path": "/nowhere/bars.csv", "instrument_id": "A.B"}]}, "does not exist"),
        ({"start": "2030-01-01", "end": None}, "no records in the data between 2030-01-01"),
        ({"start": "yesterday"}, "start: time must be ISO-8601"),
    ],
)
def test_bad_specs_are_refused_with_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidBacktest, match=message):
        run_backtest(_spec(**changes))
