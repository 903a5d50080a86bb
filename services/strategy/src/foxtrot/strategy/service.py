"""Strategy's use cases: host many strategy instances, control them over request/reply,
restore them at start, keep their state saved and their timers firing.

Each instance lives in :mod:`foxtrot.strategy.instance`; this module creates, starts,
stops, reloads, resets and removes them, and answers what they are. A request that cannot
be served raises :class:`Refused` with a code the gateway maps to an HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import ValidationError

from foxtrot.common.consumers import describe_error
from foxtrot.common.errors import FoxtrotError, InfrastructureError, QueryError
from foxtrot.common.messages.v1 import (
    AvailableStrategiesReply,
    AvailableStrategy,
    ReloadStrategy,
    RemoveStrategy,
    ResetStrategy,
    StartStrategy,
    StopStrategy,
    StrategyInstancesQuery,
    StrategyInstancesReply,
    StrategyInstanceView,
    StrategyReloaded,
    StrategyRemoved,
    StrategyReset,
)
from foxtrot.core.strategy import (
    Strategy,
    StrategyFaulted,
    StrategyNotFound,
    StrategyRuntime,
    StrategyState,
    available_strategies,
    resolve_strategy,
    strategy_path,
)
from foxtrot.strategy.adapters.instance_store import InstanceRecord
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.instance import Hosting, Instance

__all__ = ["Refused", "StrategyService"]

log = logging.getLogger(__name__)
Code = Literal["NOT_FOUND", "INVALID", "CONFLICT"]
_TIMER_POLL_S: Final = 0.2  # the longest a timer set meanwhile may wait to be noticed


class Refused(FoxtrotError):
    """A control request that cannot be served: what it named does not exist (NOT_FOUND),
    what it sent is wrong (INVALID), or the instance's state forbids it (CONFLICT); no code
    when the service itself could not do it."""

    def __init__(self, message: str, code: Code | None) -> None:
        super().__init__(message)
        self.code = code


class StrategyService:
    """The hosted instances, by id."""

    def __init__(self, hosting: Hosting, settings: StrategySettings) -> None:
        self.hosting = hosting
        self.settings = settings
        self.instances: dict[str, Instance] = {}
        self.restored = asyncio.Event()
        self.waiting: set[str] = set()  # instances waiting for execution's snapshot
        self._registry = asyncio.Lock()  # creating and removing instances

    # --- start and stop of the service ----------------------------------------------------

    async def restore_all(self) -> None:
        """Rebuild every stored instance (creating the settings' one when none is stored),
        learn each one's orders and positions from execution, and start those meant to
        run. An instance whose snapshot execution cannot give yet is tried again until it
        can; the others do not wait for it."""
        store = self.hosting.store
        records = await store.load_all()
        seeded: set[str] = set()
        if not records and self.settings.seed_instance:
            strategy, config = self.settings.seed()
            record = self._record(strategy, _built(strategy, config).config.model_dump(mode="json"))
            record.desired_state = "RUNNING"
            await store.insert(record)
            records, seeded = [record], {record.strategy_id}
            log.info("created strategy instance %s from the settings", record.strategy_id)
        pending = []
        for record in records:
            instance = Instance(record, self.hosting, from_stored=record.strategy_id in seeded)
            self.instances[record.strategy_id] = instance
            pending.append(instance)
        self.waiting = {i.strategy_id for i in pending}
        while True:
            later: list[Instance] = []
            for instance in pending:
                async with instance.lock:
                    try:
                        await instance.restore()
                    except (InfrastructureError, QueryError) as exc:
                        log.warning(
                            "strategy %s waits for execution's orders and positions: %s",
                            instance.strategy_id,
                            exc,
                        )
                        later.append(instance)
                        continue
                    except Exception as exc:
                        # Its own failure (its state, the database, a publish): it is set
                        # aside as faulted, and the other instances are restored regardless.
                        log.exception("restoring strategy %s failed", instance.strategy_id)
                        await instance.set_aside(exc)
                self.waiting.discard(instance.strategy_id)
            pending = later
            # Control goes ahead once each instance was tried; those still waiting refuse it.
            self.restored.set()
            if not pending:
                break
            await asyncio.sleep(self.settings.snapshot_retry_s)
        log.info("strategy instances restored: %s", ", ".join(sorted(self.instances)) or "none")

    async def close(self) -> None:
        """Save every instance and stop reading (its consumers stay for the next start)."""
        for instance in list(self.instances.values()):
            try:
                await instance.close()
            except Exception:
                log.exception("closing strategy %s failed", instance.strategy_id)

    async def save_changed(self) -> None:
        """Save the instances that took in messages since their last save."""
        for instance in list(self.instances.values()):
            if not instance.needs_saving():
                continue
            async with instance.lock:
                if not instance.needs_saving():
                    continue
                try:
                    await instance.save()
                except Exception:
                    # One instance's failing save (say a state PostgreSQL refuses) must
                    # not keep the others from being saved and acknowledged.
                    log.exception("saving strategy %s failed; trying again", instance.strategy_id)

    async def run_saves(self) -> None:
        """Save what changed every ``save_interval_s``, until cancelled."""
        while True:
            await asyncio.sleep(self.settings.save_interval_s)
            try:
                await self.save_changed()
            except Exception:
                log.exception("saving strategy instances failed; trying again")

    async def run_timers(self) -> None:
        """Fire each running instance's timers when they come due, until cancelled."""
        while True:
            now = self.hosting.now()
            wait_s = _TIMER_POLL_S
            for instance in list(self.instances.values()):
                due = instance.next_timer_ns()
                if due is None:
                    continue
                if due <= now:
                    try:
                        await instance.fire_timers()
                    except Exception:
                        log.exception("timers of strategy %s failed", instance.strategy_id)
                else:
                    wait_s = min(wait_s, (due - now) / 1e9)
            await asyncio.sleep(max(wait_s, 0.001))

    # --- control ----------------------------------------------------------------------------

    async def start(self, request: StartStrategy) -> StrategyInstanceView:
        """Create and start an instance, or start an existing one again."""
        await self._ready()
        sid = request.instance_id
        async with self._registry:
            if sid not in self.instances:
                return await self._create(request, sid)
        instance = await self._instance(sid)
        if request.strategy is not None:
            assert request.config is not None  # StartStrategy says so
            path = _path(request.strategy)
            config = _built(path, {**request.config, "strategy_id": sid}).config
            record = instance.record
            if path != record.strategy_path or config.model_dump(mode="json") != record.config:
                raise Refused(
                    f"strategy instance {sid} exists already, as {record.strategy} with "
                    f"{record.config}: remove it first, or reload it with the new config",
                    "CONFLICT",
                )
        async with instance.lock:
            self._still_hosted(instance)
            runtime = self._runtime(instance)
            if runtime.state is StrategyState.FAULTED:
                raise Refused(
                    f"strategy instance {sid} is faulted ({runtime.fault}): reset or reload it "
                    "before starting it",
                    "CONFLICT",
                )
            if not runtime.running:
                await instance.start(request.requested_by)
            return instance.view()

    async def _create(self, request: StartStrategy, sid: str) -> StrategyInstanceView:
        if request.strategy is None or request.config is None:
            raise Refused(
                f"no strategy instance {sid}; to create one, give its strategy and config",
                "NOT_FOUND",
            )
        path = _path(request.strategy)
        strategy = _built(path, {**request.config, "strategy_id": sid})
        record = self._record(request.strategy, strategy.config.model_dump(mode="json"), path)
        record.desired_state = "RUNNING"
        await self.hosting.store.insert(record)
        instance = Instance(record, self.hosting)
        self.instances[sid] = instance
        async with instance.lock:
            try:
                await instance.restore(strategy, request.requested_by)
            except Exception as exc:
                del self.instances[sid]
                await instance.undo()
                if not isinstance(exc, InfrastructureError | QueryError):
                    raise
                raise Refused(
                    f"cannot start {sid}: execution did not say which orders and positions "
                    f"strategy {sid} has ({exc})",
                    None,
                ) from None
        log.info("created strategy instance %s (%s)", sid, path)
        return instance.view()

    async def stop(self, request: StopStrategy) -> StrategyInstanceView:
        """Stop a running instance (a stopped one stays stopped)."""
        instance = await self._instance(request.strategy_id)
        async with instance.lock:
            self._still_hosted(instance)
            await instance.stop(request.requested_by)
            return instance.view()

    async def reset(self, request: ResetStrategy) -> StrategyInstanceView:
        """Clear a fault and what the strategy learnt: READY to start."""
        instance = await self._instance(request.strategy_id)
        async with instance.lock:
            self._still_hosted(instance)
            runtime = instance.runtime
            record = instance.record
            if runtime is not None and runtime.running:
                raise Refused(
                    f"strategy instance {record.strategy_id} is running: stop it before a reset",
                    "CONFLICT",
                )
            record.desired_state = "STOPPED"
            record.fault = None
            record.state = StrategyState.READY
            if runtime is None:  # it could not be built: try again
                await self._restore_or_refuse(instance)
                if instance.runtime is None:
                    raise Refused(
                        f"strategy instance {record.strategy_id} still cannot be built "
                        f"({record.fault}): reload it once its code is fixed",
                        "CONFLICT",
                    )
            else:
                try:
                    runtime.reset()
                except StrategyFaulted as fault:
                    await instance._faulted(fault, None)
                    return instance.view()
                await instance.route(remove=True)
                await instance.save()
            now = self.hosting.now()
            await instance.announce(
                StrategyReset(
                    strategy_id=record.strategy_id,
                    strategy_path=record.strategy_path,
                    requested_by=request.requested_by,
                    ts_event=now,
                    ts_init=now,
                )
            )
            return instance.view()

    async def reload(self, request: ReloadStrategy) -> StrategyInstanceView:
        """Import the strategy's code afresh (with a new config, when given) and put the
        instance back as it was: running if it ran, its state, orders and positions kept."""
        instance = await self._instance(request.strategy_id)
        sid = instance.strategy_id
        async with instance.lock:
            self._still_hosted(instance)
            record = instance.record
            config: Mapping[str, Any] = record.config
            if request.config is not None:
                named = request.config.get("strategy_id", sid)
                if named != sid:
                    raise Refused(
                        f"a reload keeps the instance's id {sid}, config.strategy_id was {named}",
                        "INVALID",
                    )
                config = {**request.config, "strategy_id": sid}
            strategy = _built(record.strategy_path, config, reload=True)
            account = strategy.config.account_id
            if account != record.config.get("account_id", account):
                # Its balances, its account consumer and execution's orders and positions
                # all belong to the account it was created with.
                raise Refused(
                    f"a reload keeps the instance's account {record.config['account_id']}, "
                    f"config.account_id was {account}: remove it and create it again",
                    "INVALID",
                )
            new = instance.build(strategy)
            old = instance.runtime
            state = _state_to_carry(old, record.saved_state)
            if state is not None:
                try:
                    new.load(state)
                except Exception as exc:
                    raise Refused(
                        f"the reloaded {record.strategy_path} cannot load the state {sid} "
                        f"saved: {type(exc).__name__}: {exc}",
                        "INVALID",
                    ) from None
            was_running = old is not None and old.running
            if old is not None and was_running:
                now = self.hosting.now()
                old.clock.set_time(now)
                with contextlib.suppress(StrategyFaulted):  # it is being replaced anyway
                    old.stop()
                instance._queue(old.drain(), None, now)
                await instance._flush()
            new_config = strategy.config.model_dump(mode="json")
            changed = new_config != record.config
            record.config = new_config
            if not was_running:
                record.desired_state = "STOPPED"
            if old is None:  # it could not be built before: restore it as new
                record.state, record.fault = StrategyState.READY, None
                await self._restore_or_refuse(instance, strategy)
            else:
                await instance.replace(new, start=was_running)
            now = self.hosting.now()
            await instance.announce(
                StrategyReloaded(
                    strategy_id=sid,
                    strategy_path=record.strategy_path,
                    config_changed=changed,
                    requested_by=request.requested_by,
                    ts_event=now,
                    ts_init=now,
                )
            )
            log.info("reloaded strategy %s (config %s)", sid, "changed" if changed else "kept")
            return instance.view()

    async def remove(self, request: RemoveStrategy) -> StrategyInstanceView:
        """Delete a stopped instance, its consumers and its saved state."""
        async with self._registry:
            instance = await self._instance(request.strategy_id)
            async with instance.lock:
                if instance.running:
                    raise Refused(
                        f"strategy instance {instance.strategy_id} is running: stop it before "
                        "removing it",
                        "CONFLICT",
                    )
                view = instance.view()
                await instance.delete_feeds()
                await self.hosting.store.delete(instance.strategy_id)
                del self.instances[instance.strategy_id]
                now = self.hosting.now()
                await instance.announce(
                    StrategyRemoved(
                        strategy_id=instance.strategy_id,
                        strategy_path=instance.record.strategy_path,
                        requested_by=request.requested_by,
                        ts_event=now,
                        ts_init=now,
                    )
                )
                log.info("removed strategy instance %s", instance.strategy_id)
                return view

    # --- queries ----------------------------------------------------------------------------

    async def list(self, query: StrategyInstancesQuery) -> StrategyInstancesReply:
        """The instances that match, by id (once the service has restored them)."""
        await self._ready()
        views = [self.instances[sid].view() for sid in sorted(self.instances)]
        return StrategyInstancesReply(
            instances=tuple(
                v
                for v in views
                if (query.strategy_id is None or v.strategy_id == query.strategy_id)
                and (query.state is None or v.state is query.state)
            )
        )

    @staticmethod
    def available() -> AvailableStrategiesReply:
        """The strategies installed packages offer by name, with their config's schema."""
        offered = []
        for name, path in sorted(available_strategies().items()):
            try:
                cls = resolve_strategy(path)
            except Exception as exc:
                offered.append(AvailableStrategy(name=name, path=path, error=str(exc)))
                continue
            doc = (cls.__doc__ or "").strip().splitlines()
            offered.append(
                AvailableStrategy(
                    name=name,
                    path=path,
                    description=doc[0] if doc else None,
                    config_schema=cls.config_class.model_json_schema(),
                )
            )
        return AvailableStrategiesReply(strategies=tuple(offered))

    # --- plumbing ---------------------------------------------------------------------------

    def _record(
        self, strategy: str, config: dict[str, Any], path: str | None = None
    ) -> InstanceRecord:
        now = self.hosting.now()
        return InstanceRecord(
            strategy_id=str(config["strategy_id"]),
            strategy=strategy,
            strategy_path=path or _path(strategy),
            config=config,
            desired_state="STOPPED",
            state=StrategyState.READY,
            fault=None,
            saved_state=None,
            created_at_ns=now,
            started_at_ns=None,
            updated_at_ns=now,
        )

    async def _ready(self) -> None:
        try:
            await asyncio.wait_for(self.restored.wait(), self.settings.control_wait_s)
        except TimeoutError:
            raise Refused(
                "the strategy service is still restoring its instances; try again", None
            ) from None

    async def _instance(self, strategy_id: str) -> Instance:
        await self._ready()
        instance = self.instances.get(strategy_id)
        if instance is None:
            raise Refused(f"no strategy instance {strategy_id}", "NOT_FOUND")
        if strategy_id in self.waiting:
            raise Refused(
                f"strategy instance {strategy_id} is waiting for execution's snapshot of its "
                "orders and positions; try again",
                None,
            )
        return instance

    def _still_hosted(self, instance: Instance) -> None:
        """Refuse to act on an instance removed while the caller waited for its lock."""
        if self.instances.get(instance.strategy_id) is not instance:
            raise Refused(f"no strategy instance {instance.strategy_id}", "NOT_FOUND")

    @staticmethod
    def _runtime(instance: Instance) -> StrategyRuntime:
        if instance.runtime is None:
            raise Refused(
                f"strategy instance {instance.strategy_id} cannot be built "
                f"({instance.record.fault}): reload it once its code is fixed",
                "CONFLICT",
            )
        return instance.runtime

    async def _restore_or_refuse(
        self, instance: Instance, strategy: Strategy[Any] | None = None
    ) -> None:
        try:
            await instance.restore(strategy)
        except (InfrastructureError, QueryError) as exc:
            raise Refused(
                f"execution did not say which orders and positions {instance.strategy_id} "
                f"has ({exc}); try again",
                None,
            ) from None


def _path(name_or_path: str) -> str:
    try:
        return strategy_path(name_or_path)
    except StrategyNotFound as exc:
        raise Refused(str(exc), "INVALID") from None


def _built(path: str, config: Mapping[str, Any], *, reload: bool = False) -> Strategy[Any]:
    """The strategy of ``path`` with ``config``; Refused naming what is wrong."""
    try:
        cls = resolve_strategy(path, reload=reload)
    except StrategyNotFound as exc:
        raise Refused(str(exc), "INVALID") from None
    except Exception as exc:  # its module raised on import
        raise Refused(f"cannot import {path}: {type(exc).__name__}: {exc}", "INVALID") from None
    try:
        validated = cls.config_class.model_validate(dict(config))
    except ValidationError as exc:
        raise Refused(f"invalid config for {path}: {describe_error(exc)}", "INVALID") from None
    try:
        return cls(validated)
    except Exception as exc:
        raise Refused(
            f"{path} could not be built with that config: {type(exc).__name__}: {exc}", "INVALID"
        ) from None


def _state_to_carry(
    runtime: StrategyRuntime | None, saved: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """What a reload hands the new code: the runtime's state now, or (from a faulted or
    unbuilt one) what it saved last."""
    if runtime is not None and runtime.state is not StrategyState.FAULTED:
        with contextlib.suppress(Exception):
            return runtime.save()
    state = (saved or {}).get("runtime")
    return state if isinstance(state, Mapping) else None
