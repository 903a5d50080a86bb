"""Fixtures shared by the libs/common unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def nats_subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` is exactly one token, a final ``>`` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return i == len(want) - 1 and len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


@pytest.fixture
def subject_matches() -> Callable[[str, str], bool]:
    """The NATS wildcard matcher, for checking subjects against allow-lists."""
    return nats_subject_matches
