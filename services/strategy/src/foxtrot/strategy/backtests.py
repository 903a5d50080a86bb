"""Backtests launched over NATS (``ctl.v1.strategy.run_backtest``): recorded at once, run
in worker processes, their statistics, result and report kept.

Each backtest runs ``foxtrot.backtest.runner.run_backtest`` in a process of a
``ProcessPoolExecutor`` (spawned, ``backtest_workers`` of them), so a long run neither
blocks the hosted strategies nor shares their interpreter. A spec that does not validate,
a file that cannot be read, a strategy that raises or a worker that dies ends the backtest
FAILED with the error; the service goes on. Backtests queued or running when the service
stopped are run again at its next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final

from pydantic import ValidationError

from foxtrot.common.consumers import describe_error
from foxtrot.common.messages.v1 import (
    BacktestQuery,
    BacktestReply,
    BacktestsQuery,
    BacktestsReply,
    BacktestStatus,
    RunBacktest,
)
from foxtrot.common.publishing import now_ns
from foxtrot.strategy.adapters.backtest_store import BacktestStore, view_of
from foxtrot.strategy.adapters.documents import jsonb

__all__ = ["BacktestService", "run_in_worker"]

log = logging.getLogger(__name__)
_CACHED: Final = 4  # result and report texts kept, for the pages of one being read
Pool = Callable[[], Executor]


def run_in_worker(spec_json: str) -> dict[str, Any]:
    """Run one backtest (in a worker process) and return what is kept of it, or its error."""
    from foxtrot.backtest.report import render_html, result_to_json
    from foxtrot.backtest.runner import run_backtest
    from foxtrot.backtest.spec import BacktestSpec

    try:
        spec = BacktestSpec.model_validate_json(spec_json)
        run = run_backtest(spec)
        statistics = run.statistics
        return {
            "statistics": jsonb(statistics.to_dict()),
            "result": jsonb(result_to_json(run.result, statistics)),
            "report_html": render_html(run.result, statistics, run.prices),
            "elapsed_s": run.elapsed_s,
            "records_per_s": run.records_per_s if math.isfinite(run.records_per_s) else None,
        }
    except Exception as exc:  # returned, not raised: any exception pickles as text
        return {"error": f"{type(exc).__name__}: {exc}"}


def _spawned_pool(workers: int) -> Pool:
    def pool() -> Executor:
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    return pool


class BacktestService:
    """Records, runs and serves backtests."""

    def __init__(
        self,
        store: BacktestStore,
        workers: int = 1,
        *,
        pool: Pool | None = None,
        run: Callable[[str], dict[str, Any]] = run_in_worker,
        now: Callable[[], int] = now_ns,
    ) -> None:
        self.store = store
        self.now = now
        self._new_pool = pool or _spawned_pool(workers)
        self._pool: Executor | None = None
        self._run = run
        self._slots = asyncio.Semaphore(workers)
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._texts: OrderedDict[tuple[uuid.UUID, str], str] = OrderedDict()

    async def submit(self, request: RunBacktest) -> BacktestReply:
        """Record the backtest and queue it; FAILED at once if its spec is invalid."""
        from foxtrot.backtest.spec import BacktestSpec

        spec = request.spec
        now = self.now()
        row: dict[str, Any] = {
            "backtest_id": uuid.uuid4(),
            "spec": spec,
            "strategy": str(spec.get("strategy", "")),
            "strategy_id": str((spec.get("config") or {}).get("strategy_id", "")),
            "status": BacktestStatus.QUEUED.value,
            "error": None,
            "statistics": None,
            "requested_by": request.requested_by,
            "created_at_ns": now,
            "started_at_ns": None,
            "finished_at_ns": None,
            "elapsed_s": None,
            "records_per_s": None,
        }
        try:
            validated = BacktestSpec.model_validate(spec)
        except ValidationError as exc:
            row.update(
                status=BacktestStatus.FAILED.value,
                error=f"invalid backtest spec: {describe_error(exc)}",
                finished_at_ns=now,
            )
            await self.store.insert(row)
            return BacktestReply(backtest=view_of(row))
        await self.store.insert(row)
        self._queue(row["backtest_id"], validated.model_dump_json())
        log.info("queued backtest %s of %s", row["backtest_id"], row["strategy_id"])
        return BacktestReply(backtest=view_of(row))

    async def resume(self) -> None:
        """Queue again what was queued or running when the service last stopped."""
        for row in await self.store.unfinished():
            await self.store.change(
                row["backtest_id"], status=BacktestStatus.QUEUED.value, started_at_ns=None
            )
            self._queue(row["backtest_id"], json.dumps(row["spec"]))
            log.info("queued backtest %s again", row["backtest_id"])

    async def settled(self, backtest_id: uuid.UUID) -> None:
        """Wait until the backtest is done or failed (at once if it is not queued here)."""
        task = self._tasks.get(backtest_id)
        if task is not None:
            await asyncio.shield(task)

    def _queue(self, backtest_id: uuid.UUID, spec_json: str) -> None:
        task = asyncio.create_task(
            self._execute(backtest_id, spec_json), name=f"backtest-{backtest_id}"
        )
        self._tasks[backtest_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(backtest_id, None))

    async def _execute(self, backtest_id: uuid.UUID, spec_json: str) -> None:
        async with self._slots:
            await self.store.change(
                backtest_id, status=BacktestStatus.RUNNING.value, started_at_ns=self.now()
            )
            try:
                outcome = await asyncio.get_running_loop().run_in_executor(
                    self._executor(), self._run, spec_json
                )
            except BrokenProcessPool as exc:
                self._pool = None  # a new one for the next backtest
                outcome = {"error": f"the worker process died: {exc or type(exc).__name__}"}
            except Exception as exc:
                outcome = {"error": f"{type(exc).__name__}: {exc}"}
            finished = self.now()
            if "error" in outcome:
                log.warning("backtest %s failed: %s", backtest_id, outcome["error"])
                await self.store.change(
                    backtest_id,
                    status=BacktestStatus.FAILED.value,
                    error=outcome["error"],
                    finished_at_ns=finished,
                )
                return
            await self.store.change(
                backtest_id, status=BacktestStatus.DONE.value, finished_at_ns=finished, **outcome
            )
            log.info("backtest %s done in %.1f s", backtest_id, outcome.get("elapsed_s") or 0)

    def _executor(self) -> Executor:
        if self._pool is None:
            self._pool = self._new_pool()
        return self._pool

    async def list(self, query: BacktestsQuery) -> BacktestsReply:
        """Backtests that match, newest first."""
        return BacktestsReply(backtests=tuple(view_of(r) for r in await self.store.find(query)))

    async def get(self, query: BacktestQuery, max_bytes: int) -> BacktestReply | None:
        """One backtest, with a page of its result or report that keeps the reply within
        ``max_bytes``; None if there is no such backtest."""
        row = await self.store.get(query.backtest_id)
        if row is None:
            return None
        view = view_of(row)
        if query.content == "none":
            return BacktestReply(backtest=view)
        text = await self._text(query.backtest_id, query.content)
        if text is None:
            return BacktestReply(backtest=view)
        size = query.max_chars
        while True:
            page = text[query.offset : query.offset + size]
            end = query.offset + len(page)
            reply = BacktestReply(
                backtest=view,
                content=page,
                offset=query.offset,
                total_chars=len(text),
                next_offset=end if end < len(text) else None,
            )
            if size <= 1_000 or len(reply.model_dump_json().encode()) <= max_bytes:
                return reply
            size //= 2  # escaped quotes and wide characters take more than a byte each

    async def _text(self, backtest_id: uuid.UUID, content: str) -> str | None:
        key = (backtest_id, content)
        text = self._texts.get(key)
        if text is None:
            column = "result" if content == "result" else "report_html"
            value = await self.store.content(backtest_id, column)
            if value is None:
                return None
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            self._texts[key] = text
            while len(self._texts) > _CACHED:
                self._texts.popitem(last=False)
        self._texts.move_to_end(key)
        return text

    async def close(self) -> None:
        """Stop: running backtests are abandoned (run again at the next start)."""
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        pool, self._pool = self._pool, None
        if pool is not None:
            # A worker in the middle of a run would keep the process alive until it ends.
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()
