"""Rate budgets per API key, bounded jittered backoff, and the circuit breaker; the retry
loop runs against the fake Binance through real ccxt with a recorded (not real) sleep."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import ccxt
import pytest

from foxtrot.execution.venues.binance.adapter import BinanceVenue
from foxtrot.execution.venues.binance.errors import VenueCallFailed, VenueUnavailable
from foxtrot.execution.venues.binance.exchange import connect_exchange
from foxtrot.execution.venues.binance.fake_server import FakeBinance
from foxtrot.execution.venues.binance.limits import (
    ENDPOINT_COSTS,
    RateBudget,
    RateBudgetRegistry,
    TokenBucket,
)
from foxtrot.execution.venues.binance.resilience import BreakerState, CircuitBreaker, RetryPolicy
from foxtrot.execution.venues.binance.rest import BinanceRest
from foxtrot.execution.venues.binance.settings import BinanceSettings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read afresh (a property mypy would otherwise narrow)."""
    return breaker.state


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    server = FakeBinance()
    await server.start()
    yield server
    await server.stop()


def settings(key: str, fake_url: str = "http://127.0.0.1:9") -> BinanceSettings:
    return BinanceSettings(key, "fake-secret", rest_url=fake_url)


async def test_adapters_on_one_api_key_share_a_budget_and_other_keys_do_not() -> None:
    registry = RateBudgetRegistry()
    first = BinanceVenue(settings("key-a"), budgets=registry)
    second = BinanceVenue(settings("key-a"), budgets=registry)
    other = BinanceVenue(settings("key-b"), budgets=registry)
    try:
        assert first.budget is second.budget
        assert other.budget is not first.budget
        first.budget.request_weight.take(1000)
        assert second.budget.request_weight.tokens <= 5000.01
        assert other.budget.request_weight.tokens == 6000
    finally:
        for venue in (first, second, other):
            await venue.exchange.close()


async def test_budget_waits_when_the_orders_bucket_is_empty_and_refills_over_time() -> None:
    clock = Clock()
    budget = RateBudget.binance_spot(clock)
    order = ENDPOINT_COSTS["newOrder"]
    for _ in range(100):
        assert await budget.acquire(order, clock.sleep) == 0
    waited = await budget.acquire(order, clock.sleep)  # the 101st order in 10 s
    assert waited == pytest.approx(0.1)  # one order refills every 10 s / 100


async def test_a_429_pauses_the_whole_budget_for_its_retry_after() -> None:
    clock = Clock()
    budget = RateBudget.binance_spot(clock)
    budget.pause(3.0)
    assert budget.wait_time(ENDPOINT_COSTS["queryOrder"]) == pytest.approx(3.0)


async def test_the_servers_used_weight_header_corrects_the_bucket(fake: FakeBinance) -> None:
    registry = RateBudgetRegistry()
    venue = BinanceVenue(settings(fake.api_key, fake.url), budgets=registry)
    fake.spend_weight(4000)  # someone else on this IP
    try:
        await venue.rest.load_markets()
        assert venue.budget.request_weight.tokens <= 6000 - 4020 + 1
    finally:
        await venue.exchange.close()


def test_token_bucket_refuses_more_than_its_capacity() -> None:
    with pytest.raises(ValueError, match="cannot take 7 tokens from a bucket of 6"):
        TokenBucket(6, 1.0).wait_time(7)


def test_backoff_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=0.5, max_delay_s=4.0, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(8) for _ in range(50)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert all(policy.delay(0) <= 0.5 for _ in range(100))
    assert len({round(d, 6) for d in delays}) > 300  # no two callers retry in step


async def test_transient_errors_are_retried_with_backoff_a_bounded_number_of_times(
    fake: FakeBinance,
) -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    rest = BinanceRest(
        connect_exchange(settings(fake.api_key, fake.url), lambda headers: None),
        RateBudget.binance_spot(clock),
        CircuitBreaker(failure_threshold=10),
        RetryPolicy(max_attempts=4, base_delay_s=0.2, max_delay_s=1.0, rng=random.Random(1)),
        sleep,
    )
    try:
        await rest.load_markets()
        fake.fail_next("GET /api/v3/openOrders", 503, times=2)
        assert await rest.open_orders("BTC/USDT") == []
        assert len(slept) == 2
        assert slept[0] <= 0.2
        assert slept[1] <= 0.4
        fake.fail_next("GET /api/v3/openOrders", 500, times=10)
        with pytest.raises(VenueCallFailed, match="openOrders failed 4 times"):
            await rest.open_orders("BTC/USDT")
        assert fake.count("GET /api/v3/openOrders") == 3 + 4
    finally:
        await rest.exchange.close()


async def test_refusals_are_not_retried(fake: FakeBinance) -> None:
    rest = BinanceRest(
        connect_exchange(settings(fake.api_key, fake.url), lambda headers: None),
        RateBudget.binance_spot(),
        CircuitBreaker(),
        RetryPolicy(),
    )
    try:
        await rest.load_markets()
        with pytest.raises(ccxt.OrderNotFound):
            await rest.cancel_order("BTC/USDT", "nope")
        assert fake.count("DELETE /api/v3/order") == 1
    finally:
        await rest.exchange.close()


def test_breaker_opens_after_repeated_failures_and_closes_after_a_good_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure("RequestTimeout")
    assert state_of(breaker) is BreakerState.OPEN
    with pytest.raises(VenueUnavailable, match=r"circuit open for another 10\.0s"):
        breaker.before_call()
    clock.now = 10.0
    assert state_of(breaker) is BreakerState.HALF_OPEN
    breaker.before_call()  # the one trial
    with pytest.raises(VenueUnavailable, match="trial in flight"):
        breaker.before_call()
    breaker.record_success()
    assert state_of(breaker) is BreakerState.CLOSED


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=5, reset_timeout_s=10, clock=clock)
    breaker.trip(30, "HTTP 418 IP ban")
    clock.now = 30.0
    breaker.before_call()
    breaker.record_failure("ExchangeNotAvailable")
    assert state_of(breaker) is BreakerState.OPEN
