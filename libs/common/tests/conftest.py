"""Fixtures shared by the libs/common unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from foxtrot.common import subjects


@pytest.fixture
def subject_matches() -> Callable[[str, str], bool]:
    """The NATS wildcard matcher, for checking subjects against allow-lists."""
    return subjects.matches
