"""Garbage on every subject any service consumes: counted, logged, dead-lettered with the
reason, and the service keeps running."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from foxtrot.common import subjects as foxtrot_subjects
from foxtrot.common.local.platform import SERVICES, LocalPlatform
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

GARBAGE = (b"\xff\xfe definitely not json", b'{"price": 1.5, "unexpected": true}')


@pytest.fixture(scope="module")
async def platform(
    platform_factory: Callable[..., LocalPlatform],
) -> AsyncIterator[LocalPlatform]:
    running = platform_factory(replay_source="")
    await asyncio.to_thread(running.start, 120.0)
    yield running
    await asyncio.to_thread(running.stop)


def _concrete(pattern: str) -> str:
    return ".".join("garbage" if token in ("*", ">") else token for token in pattern.split("."))


async def _subscriptions(platform: LocalPlatform) -> dict[str, list[str]]:
    async with httpx.AsyncClient(timeout=10) as http:
        return {
            service: (await http.get(f"{platform.url(service)}/subscriptions")).json()[
                "subscriptions"
            ]
            for service in SERVICES
        }


async def _dead_letters(client: NatsClient, expected: int) -> list[Msg]:
    sub = await client.jetstream().subscribe(
        "dlq.v1.*", stream="FOXTROT_DLQ", ordered_consumer=True
    )
    letters: list[Msg] = []
    try:
        while len(letters) < expected:
            # Longer than any consumer's ack_wait, so a redelivery still counts.
            letters.append(await sub.next_msg(timeout=40))
    except TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return letters


async def test_garbage_on_every_subscribed_subject_is_dead_lettered_and_nothing_crashes(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    subscriptions = await _subscriptions(platform)
    assert all(subscriptions[s] for s in SERVICES if s != "gateway")
    subjects = sorted({_concrete(p) for patterns in subscriptions.values() for p in patterns})
    # Every (service, pattern) that each garbage subject reaches.
    expected = [
        (service, pattern, subject)
        for subject in subjects
        for service, patterns in subscriptions.items()
        for pattern in patterns
        if foxtrot_subjects.matches(pattern, subject)
    ]

    client = await nats.connect(infrastructure.nats_url)
    try:
        for subject in subjects:
            for payload in GARBAGE:
                if subject.startswith("qry."):
                    reply = await client.request(subject, payload, timeout=10)
                    assert json.loads(reply.data)["type"] == "QueryFailed"
                    assert "bad request" in json.loads(reply.data)["error"]
                else:
                    await client.publish(subject, payload)
        await client.flush()
        letters = await _dead_letters(client, len(expected) * len(GARBAGE))
    finally:
        await client.close()

    received: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for letter in letters:
        headers = letter.headers or {}
        assert headers["Foxtrot-Dead-Letter-Kind"] == "malformed"
        assert headers["Foxtrot-Dead-Letter-Reason"]
        service = letter.subject.removeprefix("dlq.v1.")
        assert headers["Foxtrot-Service"] == service
        received[(service, headers["Foxtrot-Source-Subject"])].append(letter.data)
    # Nothing else was dead-lettered: a real message refused would also end the wait early.
    strays = set(received) - {(service, subject) for service, _, subject in expected}
    assert not strays, {stray: received[stray] for stray in strays}
    for service, _pattern, subject in expected:
        assert sorted(received[(service, subject)]) == sorted(GARBAGE), (
            service,
            subject,
            len(letters),
            len(expected) * len(GARBAGE),
            sorted(k for k in received if k[0] == service),
        )

    per_pattern: dict[tuple[str, str], int] = defaultdict(int)
    for service, pattern, _subject in expected:
        per_pattern[(service, pattern)] += len(GARBAGE)
    async with httpx.AsyncClient(timeout=10) as http:
        for (service, pattern), count in per_pattern.items():
            metrics = (await http.get(f"{platform.url(service)}/metrics")).text
            line = (
                f'foxtrot_dead_letters_total{{kind="malformed",service="{service}",'
                f'subscription="{pattern}"}} {float(count)}'
            )
            assert line in metrics, (service, pattern)
            log = (platform.log_dir / f"{service}.log").read_text()
            assert "dead-lettered a message from" in log
        for service in SERVICES:
            assert platform.children[service].alive(), service
            assert (await http.get(f"{platform.url(service)}/readyz")).status_code == 200


async def test_plain_json_from_a_bare_nats_client_is_normalised_and_republished(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    client = await nats.connect(infrastructure.nats_url)
    try:
        out = await client.subscribe("md.v1.trades.BINANCE.ETHUSDT")
        await client.publish(
            "md.v1.ingest.trade.BINANCE.ETHUSDT",
            json.dumps(
                {
                    "price": "2301.55",
                    "size": "0.25",
                    "ts_event": 1_700_000_000_000_000_000,
                    "trade_id": "e2e-1",
                    "aggressor_side": "SELLER",
                }
            ).encode(),
        )
        batch = json.loads((await out.next_msg(timeout=10)).data)
    finally:
        await client.close()
    assert batch["type"] == "TradeBatch"
    assert batch["instrument_id"] == "ETHUSDT.BINANCE"
    (trade,) = batch["trades"]
    assert (trade["price"], trade["size"], trade["aggressor_side"]) == ("2301.55", "0.25", "SELLER")
    assert trade["ts_event"] == 1_700_000_000_000_000_000


async def test_a_gap_in_ingested_trade_ids_is_published_and_shown_by_the_gateway(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    client = await nats.connect(infrastructure.nats_url)
    try:
        issues = await client.subscribe("md.v1.quality.BINANCE.SOLUSDT")
        for n, trade_id in enumerate((101, 102, 103, 105)):  # 104 never comes
            await client.publish(
                "md.v1.ingest.trade.BINANCE.SOLUSDT",
                json.dumps(
                    {
                        "price": "150.5",
                        "size": "2",
                        "ts_event": 1_700_000_000_000_000_000 + n,
                        "trade_id": str(trade_id),
                    }
                ).encode(),
            )
        issue = json.loads((await issues.next_msg(timeout=10)).data)
    finally:
        await client.close()
    assert issue["type"] == "DataQualityIssue"
    assert (issue["kind"], issue["expected_seq"], issue["found_seq"]) == ("SEQUENCE_GAP", 104, 105)
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        reply = (await api.get("/v1/quality", params={"instrument_id": "SOLUSDT.BINANCE"})).json()
    [status] = reply["instruments"]
    assert status["status"] == "DEGRADED"
    assert status["counts"]["SEQUENCE_GAP"] == 1
    assert status["trades"] == 4


async def test_a_batch_from_a_bare_nats_client_goes_on_and_its_bad_row_is_dead_lettered(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    rows = [
        {"price": "0.61", "size": "100", "ts_event": 1_700_000_000_000_000_000, "trade_id": "x1"},
        {"price": "-0.61", "size": "100", "ts_event": 1_700_000_000_000_000_001, "trade_id": "x2"},
        {"price": "0.62", "size": "50", "ts_event": 1_700_000_000_000_000_002, "trade_id": "x3"},
    ]
    client = await nats.connect(infrastructure.nats_url)
    try:
        out = await client.subscribe("md.v1.trades.BINANCE.XRPUSDT")
        letters = await client.jetstream().subscribe(
            "dlq.v1.market_data",
            stream="FOXTROT_DLQ",
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        await client.publish(
            "md.v1.ingest.trades.BINANCE.XRPUSDT",
            json.dumps({"trades": rows}).encode(),
            headers={"Nats-Msg-Id": "xrp-batch-1"},
        )
        batch = json.loads((await out.next_msg(timeout=10)).data)
        letter = await letters.next_msg(timeout=10)
    finally:
        await client.close()
    assert batch["type"] == "TradeBatch"
    assert [t["trade_id"] for t in batch["trades"]] == ["x1", "x3"]
    assert json.loads(letter.data) == rows[1]  # the row as it was sent, to fix and send again
    headers = letter.headers or {}
    assert headers["Foxtrot-Source-Subject"] == "md.v1.ingest.trades.BINANCE.XRPUSDT"
    assert headers["Foxtrot-Dead-Letter-Reason"] == (
        "trades[1]: price: Input should be greater than 0"
    )
