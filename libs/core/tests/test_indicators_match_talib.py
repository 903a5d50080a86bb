"""The streaming indicators give TA-Lib's numbers on the real BTC-PERP 1m and NVDA daily bars.

Each case streams an indicator over a whole file, bar by bar, and compares every output with
TA-Lib 0.8.2 from its first value on: the warm-up must be as long as TA-Lib's, the values
equal within the stated tolerance. Where a tolerance is not 1e-12 the case says why.

Two reasons recur. TA-Lib's C build fuses multiply-adds (FMA), so its recursions (EMA,
Wilder, SAR) round differently in the last bit: relative 1e-12 covers that. And TA-Lib keeps
running sums (add the newest, subtract the oldest), which leave a residue of about 1e-13 of
the window's magnitude where the exact answer is 0 (a stochastic at the bottom of its range,
a flat MACD); those cases get an absolute tolerance on the scale of their outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import talib
from talib._ta_lib import MA_Type

from foxtrot.core.indicators import (
    ADX,
    ATR,
    CCI,
    DEMA,
    DMI,
    EMA,
    KAMA,
    MACD,
    MFI,
    NATR,
    OBV,
    ROC,
    RSI,
    SMA,
    TEMA,
    TRIX,
    WMA,
    Aroon,
    BollingerBands,
    Indicator,
    LinearRegression,
    Momentum,
    ParabolicSAR,
    StandardDeviation,
    Stochastic,
    StochasticRSI,
    TrueRange,
    WilliamsR,
)

Columns = dict[str, npt.NDArray[Any]]
Outputs = dict[str, npt.NDArray[np.float64]]
Stream = Callable[[Indicator, Columns], Outputs]


@dataclass(frozen=True)
class Case:
    """One indicator, TA-Lib's outputs for it, and how closely they must agree."""

    id: str
    indicator: Callable[[], Indicator]
    talib_outputs: Callable[[Columns], Outputs]
    rtol: float = 1e-12
    #: Absolute tolerance, for outputs TA-Lib's running sums leave near (not at) zero.
    atol: float = 0.0


def _close(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[Columns], Any]:
    return lambda c: function(c["close"], *args, **kwargs)


def _hlc(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[Columns], Any]:
    return lambda c: function(c["high"], c["low"], c["close"], *args, **kwargs)


def _named(
    names: tuple[str, ...], compute: Callable[[Columns], Any]
) -> Callable[[Columns], Outputs]:
    def outputs(columns: Columns) -> Outputs:
        result = compute(columns)
        arrays = result if isinstance(result, tuple) else (result,)
        return dict(zip(names, arrays, strict=True))

    return outputs


def _value(compute: Callable[[Columns], Any]) -> Callable[[Columns], Outputs]:
    return _named(("value",), compute)


def _stochastic_rsi(columns: Columns) -> tuple[Any, ...]:
    k, d = talib.STOCHRSI(columns["close"], 14, 5, 3, MA_Type.SMA)
    return k, d


def _adx(columns: Columns) -> tuple[Any, ...]:
    return (
        _hlc(talib.ADX, 14)(columns),
        _hlc(talib.PLUS_DI, 14)(columns),
        _hlc(talib.MINUS_DI, 14)(columns),
    )


def _dmi(columns: Columns) -> tuple[Any, ...]:
    return (
        _hlc(talib.DX, 14)(columns),
        _hlc(talib.PLUS_DI, 14)(columns),
        _hlc(talib.MINUS_DI, 14)(columns),
    )


def _aroon(period: int) -> Callable[[Columns], tuple[Any, ...]]:
    def compute(columns: Columns) -> tuple[Any, ...]:
        down, up = talib.AROON(columns["high"], columns["low"], period)
        return talib.AROONOSC(columns["high"], columns["low"], period), up, down

    return compute


def _bbands(columns: Columns) -> tuple[Any, ...]:
    upper, middle, lower = talib.BBANDS(columns["close"], 20, 2.0, 2.0, MA_Type.SMA)
    return middle, upper, lower


def _linear_regression(columns: Columns) -> tuple[Any, ...]:
    close = columns["close"]
    return (
        talib.LINEARREG(close, 14),
        talib.LINEARREG_SLOPE(close, 14),
        talib.LINEARREG_INTERCEPT(close, 14),
    )


def _sar_ext(columns: Columns) -> Any:
    # SAREXT reports short SARs as negative numbers; the SAR itself is the absolute value.
    return np.abs(
        talib.SAREXT(columns["high"], columns["low"], 0, 0, 0.01, 0.03, 0.3, 0.01, 0.03, 0.3)
    )


CASES = [
    Case("sma-30", lambda: SMA(30), _value(_close(talib.SMA, 30))),
    Case("ema-30", lambda: EMA(30), _value(_close(talib.EMA, 30))),
    Case("wma-30", lambda: WMA(30), _value(_close(talib.WMA, 30))),
    Case("dema-30", lambda: DEMA(30), _value(_close(talib.DEMA, 30))),
    Case("tema-30", lambda: TEMA(30), _value(_close(talib.TEMA, 30))),
    Case("kama-10", lambda: KAMA(10), _value(_close(talib.KAMA, 10))),
    Case("trix-30", lambda: TRIX(30), _value(_close(talib.TRIX, 30))),
    Case("rsi-14", lambda: RSI(14), _value(_close(talib.RSI, 14))),
    Case("rsi-2", lambda: RSI(2), _value(_close(talib.RSI, 2))),
    Case(
        "stoch-5-3-3",
        lambda: Stochastic(5, 3, 3),
        _named(("k", "d"), _hlc(talib.STOCH, 5, 3, MA_Type.SMA, 3, MA_Type.SMA)),
        atol=1e-11,
    ),
    Case(
        "stochf-14-3",
        lambda: Stochastic(14, 1, 3),
        _named(("k", "d"), _hlc(talib.STOCHF, 14, 3, MA_Type.SMA)),
        atol=1e-11,
    ),
    Case(
        "stochrsi-14-5-3",
        lambda: StochasticRSI(14, 5, 3),
        _named(("k", "d"), _stochastic_rsi),
        atol=1e-11,
    ),
    Case(
        "macd-12-26-9",
        lambda: MACD(12, 26, 9),
        _named(("macd", "signal", "histogram"), _close(talib.MACD, 12, 26, 9)),
        atol=5e-11,
    ),
    Case(
        "macd-5-35-5",
        lambda: MACD(5, 35, 5),
        _named(("macd", "signal", "histogram"), _close(talib.MACD, 5, 35, 5)),
        atol=5e-11,
    ),
    Case(
        "bbands-20-2",
        lambda: BollingerBands(20, 2.0),
        _named(("middle", "upper", "lower"), _bbands),
    ),
    # TA-Lib's STDDEV is sqrt(mean of squares - square of mean) over running sums of prices,
    # which loses digits at BTC's price level: it is off by up to 1e-10 absolute.
    # test_indicators_references checks ours against a two-pass reference, far tighter.
    Case(
        "stddev-20",
        lambda: StandardDeviation(20),
        _value(_close(talib.STDDEV, 20, 1.0)),
        atol=1e-9,
    ),
    Case("trange", TrueRange, _value(_hlc(talib.TRANGE))),
    Case("atr-14", lambda: ATR(14), _value(_hlc(talib.ATR, 14))),
    Case("natr-14", lambda: NATR(14), _value(_hlc(talib.NATR, 14))),
    Case("dmi-14", lambda: DMI(14), _named(("dx", "plus_di", "minus_di"), _dmi)),
    Case("adx-14", lambda: ADX(14), _named(("adx", "plus_di", "minus_di"), _adx)),
    # CCI divides the distance from a mean by a mean deviation: both carry the rounding of
    # a mean of prices (1e-16 of 4e4), which a small deviation magnifies.
    Case("cci-14", lambda: CCI(14), _value(_hlc(talib.CCI, 14)), atol=1e-9),
    Case("cci-20", lambda: CCI(20), _value(_hlc(talib.CCI, 20)), atol=1e-9),
    Case("roc-10", lambda: ROC(10), _value(_close(talib.ROC, 10))),
    Case("mom-10", lambda: Momentum(10), _value(_close(talib.MOM, 10))),
    Case("willr-14", lambda: WilliamsR(14), _value(_hlc(talib.WILLR, 14))),
    Case("obv", OBV, _value(lambda c: talib.OBV(c["close"], c["volume"]))),
    Case(
        "mfi-14",
        lambda: MFI(14),
        _value(lambda c: talib.MFI(c["high"], c["low"], c["close"], c["volume"], 14)),
        atol=1e-11,
    ),
    Case("aroon-14", lambda: Aroon(14), _named(("oscillator", "up", "down"), _aroon(14))),
    Case("aroon-25", lambda: Aroon(25), _named(("oscillator", "up", "down"), _aroon(25))),
    Case(
        "sar",
        ParabolicSAR,
        _value(lambda c: talib.SAR(c["high"], c["low"], 0.02, 0.2)),
    ),
    Case("sarext", lambda: ParabolicSAR(0.01, 0.03, 0.3), _value(_sar_ext)),
    # The slope is a difference of weighted sums: relative error grows as it nears zero.
    Case(
        "linearreg-14",
        lambda: LinearRegression(14),
        _named(("value", "slope", "intercept"), _linear_regression),
        atol=1e-11,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_streaming_indicator_matches_talib_on_real_bars(
    case: Case, real_columns: Columns, stream: Stream
) -> None:
    indicator = case.indicator()
    ours = stream(indicator, real_columns)
    theirs = case.talib_outputs(real_columns)
    first = indicator.warmup - 1
    main = indicator.outputs[0]
    assert np.isnan(theirs[main][:first]).all(), "TA-Lib starts earlier"
    for name, expected in theirs.items():
        actual = ours[name]
        # Every output starts with the main one (ADX's +DI too, which TA-Lib has earlier).
        assert np.isnan(actual[:first]).all(), name
        assert not np.isnan(actual[first:]).any(), name
        assert not np.isnan(expected[first:]).any(), f"TA-Lib starts later: {name}"
        np.testing.assert_allclose(
            actual[first:], expected[first:], rtol=case.rtol, atol=case.atol, err_msg=name
        )


@pytest.mark.parametrize("relative_move", [1e-15, 1.5e-14, 3e-14, 1e-13])
def test_mfi_tells_a_typical_price_move_from_rounding_where_talib_does(
    relative_move: float, stream: Stream
) -> None:
    # A rise, then a fall of ``relative_move``: counted, MFI is about 50; rounding, it is 100.
    typical = np.array([20.0, 20.2, 20.2 * (1 - relative_move), 20.0, 20.0])
    volume = np.ones(5)
    columns = {"high": typical, "low": typical, "close": typical, "volume": volume}
    ours = stream(MFI(2), columns)["value"]
    theirs = talib.MFI(typical, typical, typical, volume, 2)
    np.testing.assert_allclose(ours[2:], theirs[2:], rtol=1e-12)
