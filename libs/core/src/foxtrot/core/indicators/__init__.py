"""Foxtrot's indicators: streaming (O(1) per input) and batch (numpy) forms that agree.

Every indicator follows one convention (see :mod:`foxtrot.core.indicators.base`):
``update(...)`` or ``handle_bar(bar)`` per input, ``value`` and the named outputs None until
``initialized``, ``count``, ``reset()``, and ``batch(...)`` over whole float64 arrays (NaN
before warm-up). ``INDICATORS`` maps each registered name to its class, so strategies and
the CLI can build indicators by name. docs/indicators.md lists every one with its
conventions and the reference it is checked against.

:class:`SimpleMovingAverage` is the exact Decimal SMA kept for code that needs Decimal.
"""

from __future__ import annotations

from foxtrot.core.indicators.base import FloatArray, Indicator, Seed, Smoothing
from foxtrot.core.indicators.channels import (
    BandSeries,
    BollingerBands,
    DonchianChannels,
    KeltnerChannels,
)
from foxtrot.core.indicators.directional import (
    ADX,
    DMI,
    ADXSeries,
    Aroon,
    AroonSeries,
    DMISeries,
)
from foxtrot.core.indicators.exact import SimpleMovingAverage
from foxtrot.core.indicators.ichimoku import Ichimoku, IchimokuSeries
from foxtrot.core.indicators.momentum import MACD, ROC, TRIX, MACDSeries, Momentum
from foxtrot.core.indicators.moving_averages import DEMA, EMA, HMA, KAMA, SMA, TEMA, WMA
from foxtrot.core.indicators.oscillators import (
    CCI,
    RSI,
    Stochastic,
    StochasticRSI,
    StochasticSeries,
    WilliamsR,
)
from foxtrot.core.indicators.regression import LinearRegression, LinearRegressionSeries
from foxtrot.core.indicators.trailing_stops import ParabolicSAR, Supertrend, SupertrendSeries
from foxtrot.core.indicators.volatility import ATR, NATR, StandardDeviation, TrueRange, ZScore
from foxtrot.core.indicators.volume import MFI, OBV, VWAP, VWAPAnchor

__all__ = [
    "ADX",
    "ATR",
    "CCI",
    "DEMA",
    "DMI",
    "EMA",
    "HMA",
    "INDICATORS",
    "KAMA",
    "MACD",
    "MFI",
    "NATR",
    "OBV",
    "ROC",
    "RSI",
    "SMA",
    "TEMA",
    "TRIX",
    "VWAP",
    "WMA",
    "ADXSeries",
    "Aroon",
    "AroonSeries",
    "BandSeries",
    "BollingerBands",
    "DMISeries",
    "DonchianChannels",
    "FloatArray",
    "Ichimoku",
    "IchimokuSeries",
    "Indicator",
    "KeltnerChannels",
    "LinearRegression",
    "LinearRegressionSeries",
    "MACDSeries",
    "Momentum",
    "ParabolicSAR",
    "Seed",
    "SimpleMovingAverage",
    "Smoothing",
    "StandardDeviation",
    "Stochastic",
    "StochasticRSI",
    "StochasticSeries",
    "Supertrend",
    "SupertrendSeries",
    "TrueRange",
    "VWAPAnchor",
    "WilliamsR",
    "ZScore",
]

_CLASSES: tuple[type[Indicator], ...] = (
    SMA,
    EMA,
    WMA,
    DEMA,
    TEMA,
    HMA,
    KAMA,
    RSI,
    Stochastic,
    StochasticRSI,
    MACD,
    BollingerBands,
    KeltnerChannels,
    DonchianChannels,
    TrueRange,
    ATR,
    NATR,
    DMI,
    ADX,
    CCI,
    ROC,
    Momentum,
    WilliamsR,
    TRIX,
    OBV,
    VWAP,
    MFI,
    Aroon,
    ParabolicSAR,
    Ichimoku,
    Supertrend,
    LinearRegression,
    StandardDeviation,
    ZScore,
)

#: Every indicator class by its registered name ("sma", "macd", "bollinger_bands"...).
INDICATORS: dict[str, type[Indicator]] = {cls.name: cls for cls in _CLASSES}
