"""Backtests run by the strategy service: recorded at once, run in spawned worker
processes, FAILED with the error when anything goes wrong, their content served in pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from strategy_testkit import FTX_BARS_CSV, backtest_spec, dies

from foxtrot.common.messages.v1 import (
    BacktestQuery,
    BacktestsQuery,
    BacktestStatus,
    RunBacktest,
)
from foxtrot.strategy.adapters.backtest_store import BacktestStore
from foxtrot.strategy.backtests import BacktestService, run_in_worker

BIG = 1 << 20


@pytest.fixture
async def backtests() -> Any:
    if not FTX_BARS_CSV.exists():
        pytest.skip(f"market data file not found: {FTX_BARS_CSV}")
    service = BacktestService(BacktestStore(), workers=1)
    yield service
    await service.close()


async def test_a_backtest_is_queued_at_once_then_run_in_a_worker_process(
    backtests: BacktestService,
) -> None:
    reply = await backtests.submit(RunBacktest(spec=backtest_spec(), requested_by="me"))
    view = reply.backtest
    assert (view.status, view.strategy, view.strategy_id) == (
        BacktestStatus.QUEUED,
        "sma_cross",
        "bt-1",
    )
    await backtests.settled(view.backtest_id)

    done = await backtests.get(BacktestQuery(backtest_id=view.backtest_id), BIG)
    assert done is not None
    assert done.backtest.status is BacktestStatus.DONE, done.backtest.error
    assert done.backtest.statistics is not None
    assert done.backtest.statistics["starting_equity"] == 100_000
    assert (done.backtest.has_result, done.backtest.has_report) == (True, True)
    assert done.backtest.elapsed_s is not None
    assert done.backtest.started_at_ns is not None
    assert done.backtest.finished_at_ns is not None
    listed = await backtests.list(BacktestsQuery(strategy_id="bt-1"))
    assert [b.backtest_id for b in listed.backtests] == [view.backtest_id]


async def test_the_result_and_report_come_in_pages_that_join_up(
    backtests: BacktestService,
) -> None:
    view = (await backtests.submit(RunBacktest(spec=backtest_spec()))).backtest
    await backtests.settled(view.backtest_id)
    whole = run_in_worker(json.dumps(backtest_spec()))

    for content, max_bytes in (("result", BIG), ("html", 50_000)):
        pages: list[str] = []
        offset: int | None = 0
        while offset is not None:
            query = BacktestQuery(
                backtest_id=view.backtest_id, content=content, offset=offset, max_chars=100_000
            )
            page = await backtests.get(query, max_bytes)
            assert page is not None
            assert page.content is not None
            assert len(page.model_dump_json()) <= max_bytes  # shrunk to fit
            pages.append(page.content)
            offset = page.next_offset
            total = page.total_chars
        text = "".join(pages)
        if content == "result":
            assert json.loads(text)["fills"] == whole["result"]["fills"]
        else:
            assert text.startswith("<!DOCTYPE html>")
            assert len(text) == total


async def test_an_invalid_spec_fails_at_once_naming_the_field(backtests: BacktestService) -> None:
    reply = await backtests.submit(RunBacktest(spec=backtest_spec(data=[])))
    assert reply.backtest.status is BacktestStatus.FAILED
    assert "data" in (reply.backtest.error or "")
    stored = await backtests.get(BacktestQuery(backtest_id=reply.backtest.backtest_id), BIG)
    assert stored is not None
    assert stored.backtest.status is BacktestStatus.FAILED


async def test_an_unreadable_file_fails_the_backtest_not_the_service(
    backtests: BacktestService,
) -> None:
    spec = backtest_spec(data=[{"path": "/nowhere/bars.csv"}])
    view = (await backtests.submit(RunBacktest(spec=spec))).backtest
    await backtests.settled(view.backtest_id)
    failed = await backtests.get(BacktestQuery(backtest_id=view.backtest_id, content="html"), BIG)
    assert failed is not None
    assert failed.backtest.status is BacktestStatus.FAILED
    assert "/nowhere/bars.csv" in (failed.backtest.error or "")
    assert failed.content is None


async def test_a_worker_that_dies_fails_its_backtest_and_the_next_one_runs() -> None:
    store = BacktestStore()
    dying = BacktestService(store, workers=1, run=dies)
    view = (await dying.submit(RunBacktest(spec=backtest_spec()))).backtest
    await dying.settled(view.backtest_id)
    row = await store.get(view.backtest_id)
    assert row is not None
    assert row["status"] == "FAILED"
    assert "worker process died" in row["error"]
    dying._run = run_in_worker  # the next one gets a new pool
    if FTX_BARS_CSV.exists():
        after = (await dying.submit(RunBacktest(spec=backtest_spec()))).backtest
        await dying.settled(after.backtest_id)
        assert (await store.get(after.backtest_id) or {})["status"] == "DONE"
    await dying.close()


async def test_backtests_left_queued_or_running_run_again_at_the_next_start() -> None:
    store = BacktestStore()
    first = BacktestService(store, workers=1, run=lambda _: {"error": "never ran"})
    view = (await first.submit(RunBacktest(spec=backtest_spec()))).backtest
    for task in list(first._tasks.values()):
        task.cancel()  # the service stopped before it ran
    await first.close()
    await store.change(view.backtest_id, status="RUNNING")

    second = BacktestService(store, workers=1)
    await second.resume()
    await second.settled(view.backtest_id)
    row = await store.get(view.backtest_id)
    assert row is not None
    assert row["status"] == ("DONE" if FTX_BARS_CSV.exists() else "FAILED")
    await second.close()
