"""Fixtures of the strategy service's tests (helpers: ``strategy_testkit``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The tests import strategy_testkit by name, and the service imports its strategies by
# module:Class path: both need this directory on sys.path before the tests are collected.
sys.path.insert(0, str(Path(__file__).parent))

from strategy_testkit import load_bars

from foxtrot.common.messages.v1 import Bar


@pytest.fixture(scope="session")
def ftx_bars() -> list[Bar]:
    """The first day of FTX BTC-PERP 1m bars."""
    bars: list[Bar] = load_bars()
    return bars
