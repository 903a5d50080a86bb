"""Real venues that execution sends orders to: one package per venue, each a ``Venue``."""

from foxtrot.execution.venues.binance import BinanceSettings, BinanceVenue

__all__ = ["BinanceSettings", "BinanceVenue"]
