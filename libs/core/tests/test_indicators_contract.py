"""What every registered indicator promises: the registry, streaming == batch (on real bars and
on random ones), warm-up, reset, handle_bar, clear parameter errors, and no loops per update."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.indicators import (
    ADX,
    ATR,
    CCI,
    DMI,
    EMA,
    HMA,
    INDICATORS,
    KAMA,
    MACD,
    RSI,
    SMA,
    TEMA,
    TRIX,
    VWAP,
    Aroon,
    BollingerBands,
    DonchianChannels,
    Ichimoku,
    Indicator,
    KeltnerChannels,
    LinearRegression,
    ParabolicSAR,
    SimpleMovingAverage,
    StandardDeviation,
    Stochastic,
    StochasticRSI,
    Supertrend,
    ZScore,
)

Columns = dict[str, npt.NDArray[Any]]
INSTRUMENT = InstrumentId("BTC-PERP", "FTX")
Stream = Callable[[Indicator, Columns], dict[str, npt.NDArray[np.float64]]]

#: Parameters for indicators that have no default period; every other one uses its defaults.
REQUIRED: dict[str, dict[str, Any]] = {
    name: {"period": 20}
    for name in ("sma", "ema", "wma", "dema", "tema", "hma", "standard_deviation", "z_score")
}

#: Non-default conventions, so their code paths get the same checks.
ALTERNATIVES: dict[str, Callable[[], Indicator]] = {
    "ema-first": lambda: EMA(20, seed="first"),
    "tema-first": lambda: TEMA(9, seed="first"),
    "macd-first": lambda: MACD(12, 26, 9, seed="first"),
    "trix-first": lambda: TRIX(15, seed="first"),
    "rsi-ema": lambda: RSI(14, smoothing="ema"),
    "rsi-sma": lambda: RSI(14, smoothing="sma"),
    "atr-sma": lambda: ATR(14, smoothing="sma"),
    "dmi-ema": lambda: DMI(14, smoothing="ema"),
    "adx-sma": lambda: ADX(10, smoothing="sma"),
    "stochrsi-slowed": lambda: StochasticRSI(14, 14, 3, k_slowing=3),
    "bollinger-sample": lambda: BollingerBands(20, 2.5, ddof=1),
    "keltner-sma": lambda: KeltnerChannels(20, 1.5, 30, ma="sma"),
    "ichimoku-undisplaced": lambda: Ichimoku(displacement=0),
    "vwap-unanchored": lambda: VWAP(anchor="none"),
    "supertrend-ema": lambda: Supertrend(7, 2.0, smoothing="ema"),
    "sar-slow-start": lambda: ParabolicSAR(0.01, 0.03, 0.3),
    "hma-odd": lambda: HMA(15),
    "kama-fast": lambda: KAMA(5, fast=3, slow=20),
}


def _build(name: str) -> Indicator:
    return INDICATORS[name](**REQUIRED.get(name, {}))


FACTORIES: dict[str, Callable[[], Indicator]] = {
    **{name: (lambda name=name: _build(name)) for name in INDICATORS},  # type: ignore[misc]
    **ALTERNATIVES,
}


def test_the_registry_names_every_indicator_once_by_its_own_name() -> None:
    assert len(INDICATORS) >= 30
    for name, cls in INDICATORS.items():
        assert cls.name == name
        assert set(cls.inputs) <= {"high", "low", "close", "volume", "ts_event"}, name
        assert cls.outputs, name


def test_every_indicator_keeps_its_state_in_slots() -> None:
    for name in INDICATORS:
        assert not hasattr(_build(name), "__dict__"), name


def _assert_stream_equals_batch(
    indicator: Indicator, streamed: dict[str, npt.NDArray[np.float64]], columns: Columns
) -> None:
    batch = indicator.batch_columns(columns)
    assert set(batch) == set(indicator.outputs)
    for name in indicator.outputs:
        if isinstance(indicator, CCI):
            # The streaming CCI sums deviations in a tree, the batch one window by window:
            # the same numbers to ~1e-12 of the value (the deviation's rounding, magnified
            # where the deviation is small), not bit for bit.
            np.testing.assert_allclose(streamed[name], batch[name], rtol=1e-11, atol=1e-11)
        else:
            np.testing.assert_array_equal(streamed[name], batch[name], err_msg=name)


@pytest.mark.parametrize("factory", FACTORIES.values(), ids=list(FACTORIES))
def test_streaming_and_batch_forms_agree_on_real_bars(
    factory: Callable[[], Indicator], real_columns: Columns, stream: Stream
) -> None:
    indicator = factory()
    streamed = stream(indicator, real_columns)
    _assert_stream_equals_batch(factory(), streamed, real_columns)
    first = indicator.warmup - 1
    for name in indicator.outputs:
        assert np.isnan(streamed[name][:first]).all(), name
        assert not np.isnan(streamed[name][first:]).any(), name


# --- random bars: flat runs, ties, zero volumes, sessions crossing midnight ------------------


@st.composite
def random_bars(draw: st.DrawFn) -> Columns:
    size = draw(st.integers(0, 70))
    steps = draw(st.lists(st.integers(-3, 3), min_size=size, max_size=size))
    close = 100.0 + 0.25 * np.cumsum(np.array(steps, dtype=np.float64))
    spreads = st.lists(st.integers(0, 4), min_size=size, max_size=size)
    up = 0.25 * np.array(draw(spreads), dtype=np.float64)
    down = 0.25 * np.array(draw(spreads), dtype=np.float64)
    open_ = np.concatenate((close[:1], close[:-1]))
    volumes = st.lists(st.sampled_from([0.0, 1.0, 2.5, 1e3, 7.25e5]), min_size=size, max_size=size)
    hours = st.lists(st.integers(1, 9), min_size=size, max_size=size)
    return {
        "open": open_,
        "high": np.maximum(open_, close) + up,
        "low": np.minimum(open_, close) - down,
        "close": close,
        "volume": np.array(draw(volumes), dtype=np.float64),
        "ts_event": np.cumsum(np.array(draw(hours), dtype=np.int64)) * 3_600_000_000_000,
    }


def _small(name: str, p: int) -> Indicator:
    """``name`` with periods around ``p`` (1..5), so short series get past the warm-up."""
    q = p + 1
    small: dict[str, Callable[[], Indicator]] = {
        "hma": lambda: HMA(q),
        "kama": lambda: KAMA(p, fast=1, slow=q + 1),
        "stochastic": lambda: Stochastic(p, q, p),
        "stochastic_rsi": lambda: StochasticRSI(p, q, p, k_slowing=p),
        "macd": lambda: MACD(p, p + 2, q),
        "bollinger_bands": lambda: BollingerBands(q, 1.5),
        "keltner_channels": lambda: KeltnerChannels(p, 2.0, q),
        "true_range": INDICATORS["true_range"],
        "dmi": lambda: DMI(q),
        "adx": lambda: ADX(q),
        "obv": INDICATORS["obv"],
        "vwap": INDICATORS["vwap"],
        "parabolic_sar": lambda: ParabolicSAR(0.02 * p, 0.02, 0.3),
        "ichimoku": lambda: Ichimoku(p, q, q + 1, p),
        "supertrend": lambda: Supertrend(p, 1.5),
        "linear_regression": lambda: LinearRegression(q),
        "standard_deviation": lambda: StandardDeviation(q, ddof=p % 2),
        "z_score": lambda: ZScore(q, ddof=p % 2),
        "donchian_channels": lambda: DonchianChannels(p),
        "aroon": lambda: Aroon(p),
    }
    if name in small:
        return small[name]()
    return INDICATORS[name](p)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", list(INDICATORS))
@settings(max_examples=60, deadline=None)
@given(bars=random_bars(), p=st.integers(1, 5))
def test_streaming_and_batch_forms_agree_on_random_bars(
    name: str, bars: Columns, p: int, stream: Stream
) -> None:
    indicator = _small(name, p)
    _assert_stream_equals_batch(_small(name, p), stream(indicator, bars), bars)


# --- warm-up, reset, handle_bar ---------------------------------------------------------------


def _feed(indicator: Indicator, columns: Columns, start: int, stop: int) -> list[tuple[Any, ...]]:
    update: Callable[..., None] = getattr(indicator, "update")  # noqa: B009 (arity varies)
    seen = []
    for i in range(start, stop):
        update(*(columns[name][i].item() for name in indicator.inputs))
        seen.append(tuple(getattr(indicator, name) for name in indicator.outputs))
    return seen


@pytest.mark.parametrize("name", list(INDICATORS))
def test_outputs_are_none_until_warmup_inputs_then_all_floats(
    name: str, ftx_btc_perp_1m_columns: Columns
) -> None:
    indicator = _build(name)
    assert not indicator.initialized
    seen = _feed(indicator, ftx_btc_perp_1m_columns, 0, indicator.warmup + 5)
    for count, outputs in enumerate(seen, start=1):
        if count < indicator.warmup:
            assert all(output is None for output in outputs), count
        else:
            assert all(isinstance(output, float) for output in outputs), count
    assert indicator.initialized
    assert indicator.count == indicator.warmup + 5
    assert indicator.value == seen[-1][0]


@pytest.mark.parametrize("name", list(INDICATORS))
def test_reset_forgets_every_input(name: str, ftx_btc_perp_1m_columns: Columns) -> None:
    indicator = _build(name)
    _feed(indicator, ftx_btc_perp_1m_columns, 0, 700)
    indicator.reset()
    assert indicator.count == 0
    assert not indicator.initialized
    assert all(getattr(indicator, output) is None for output in indicator.outputs)
    again = _feed(indicator, ftx_btc_perp_1m_columns, 20_000, 20_300)
    fresh = _feed(_build(name), ftx_btc_perp_1m_columns, 20_000, 20_300)
    assert again == fresh


@pytest.mark.parametrize("name", list(INDICATORS))
def test_handle_bar_feeds_the_bar_fields_as_floats(
    name: str, ftx_btc_perp_1m_bars: list[Bar], ftx_btc_perp_1m_columns: Columns
) -> None:
    by_bar, by_update = _build(name), _build(name)
    for bar in ftx_btc_perp_1m_bars[:400]:
        by_bar.handle_bar(bar)
    _feed(by_update, ftx_btc_perp_1m_columns, 0, 400)
    for output in by_bar.outputs:
        assert getattr(by_bar, output) == getattr(by_update, output), output


def test_vwap_handle_bar_uses_the_bar_close_time_for_the_session() -> None:
    def bar(close: str, volume: str, at: datetime) -> Bar:
        stamp = int(at.timestamp()) * 1_000_000_000
        price = Decimal(close)
        return Bar(INSTRUMENT, "1h", price, price, price, price, Decimal(volume), stamp, stamp)

    vwap = VWAP()
    vwap.handle_bar(bar("100", "1", datetime(2022, 1, 1, 23, tzinfo=UTC)))
    vwap.handle_bar(bar("200", "1", datetime(2022, 1, 2, 0, tzinfo=UTC)))  # closes 00:00: day 1
    assert vwap.value == 150.0
    vwap.handle_bar(bar("400", "1", datetime(2022, 1, 2, 1, tzinfo=UTC)))  # a new day
    assert vwap.value == 400.0


# --- parameters ------------------------------------------------------------------------------

BAD_PARAMETERS: list[tuple[Callable[[], object], str]] = [
    (lambda: SMA(0), "period must be at least 1, was 0"),
    (lambda: SMA(-3), "period must be at least 1, was -3"),
    (lambda: SMA(2.5), "period must be an integer, was 2.5"),  # type: ignore[arg-type]
    (lambda: EMA(10, seed="last"), "seed must be one of 'sma', 'first', was 'last'"),  # type: ignore[arg-type]
    (
        lambda: RSI(14, smoothing="hull"),  # type: ignore[arg-type]
        "smoothing must be one of 'wilder', 'ema', 'sma', was 'hull'",
    ),
    (lambda: HMA(1), "period must be at least 2, was 1"),
    (lambda: KAMA(10, fast=30, slow=2), r"fast must be below slow \(2\), was 30"),
    (lambda: MACD(26, 12), r"fast must be below slow \(12\), was 26"),
    (lambda: Stochastic(5, 0, 3), "k_slowing must be at least 1, was 0"),
    (lambda: BollingerBands(20, 0.0), "stddevs must be a finite number above 0, was 0.0"),
    (lambda: BollingerBands(20, math.inf), "stddevs must be a finite number above 0, was inf"),
    (
        lambda: StandardDeviation(20, ddof=2),
        r"ddof must be 0 \(population\) or 1 \(sample\), was 2",
    ),
    (lambda: StandardDeviation(1, ddof=1), "period must be at least 2, was 1"),
    (lambda: ZScore(1), "period must be at least 2, was 1"),
    (lambda: KeltnerChannels(ma="wma"), "ma must be one of 'ema', 'sma', was 'wma'"),  # type: ignore[arg-type]
    (lambda: ADX(1), "period must be at least 2, was 1"),
    (lambda: ParabolicSAR(0.3, 0.02, 0.2), r"start must be at most maximum \(0.2\), was 0.3"),
    (lambda: ParabolicSAR(0.02, -0.01), "step must be a finite number above 0, was -0.01"),
    (lambda: Ichimoku(displacement=-1), "displacement must be at least 0, was -1"),
    (lambda: VWAP(anchor="week"), "anchor must be one of 'day', 'none', was 'week'"),  # type: ignore[arg-type]
    (lambda: LinearRegression(1), "period must be at least 2, was 1"),
    (lambda: Supertrend(10, -3.0), "multiplier must be a finite number above 0, was -3.0"),
]


@pytest.mark.parametrize(("build", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_refused_with_what_was_expected_and_found(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        build()


def test_batch_refuses_columns_of_different_lengths_or_shapes() -> None:
    with pytest.raises(ValueError, match="high, low, close must have one length, were 3, 3, 2"):
        ATR(2).batch(np.ones(3), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="close must be a 1-D array, was 2-D"):
        SMA(2).batch(np.ones((3, 2)))


def test_the_exact_decimal_sma_is_still_exported_beside_the_float_one() -> None:
    exact = SimpleMovingAverage(2)
    exact.update(Decimal("0.1"))
    exact.update(Decimal("0.2"))
    assert exact.value == Decimal("0.15")


# --- O(1) by design ----------------------------------------------------------------------------

_LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_WINDOW_SCANS = {"sum", "fsum", "sorted", "any", "all", "mean", "median"}


@pytest.mark.parametrize("name", list(INDICATORS))
def test_update_has_no_loop_over_the_window(name: str) -> None:
    """Per-input work is O(1) by construction: ``update`` has no loop, comprehension or
    whole-window call; windows live in RollingSums (a block finished once per ``period``
    inputs: amortised O(1)), RollingExtreme (each input pushed and popped once: amortised
    O(1)) and, for CCI alone, OrderedMultiset (O(log period))."""
    source = textwrap.dedent(inspect.getsource(vars(INDICATORS[name])["update"]))
    for node in ast.walk(ast.parse(source)):
        assert not isinstance(node, _LOOPS), f"{name}.update loops"
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if isinstance(node.func, ast.Name):
                called = node.func.id
            assert called not in _WINDOW_SCANS, f"{name}.update calls {called}"
            if called in {"max", "min"}:
                assert len(node.args) > 1, f"{name}.update takes {called} of one iterable"
