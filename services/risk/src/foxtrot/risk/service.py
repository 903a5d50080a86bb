"""Risk's use cases: judge orders and modifies, keep what risk knows current, switch
trading states, change limits, and watch the live limits.

The rules and the state they read are the domain's (foxtrot.core.risk); this module feeds
them from messages, records every decision and change in PostgreSQL, and says what to
publish. A decision is recorded before its command is acknowledged, and one made before
(the same command delivered again after a crash) is repeated, not made anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.execution_views import position_of, spec_of
from foxtrot.common.messages.v1 import (
    AccountState,
    DecisionsQuery,
    DecisionsReply,
    LimitBreached,
    LimitChangesQuery,
    LimitChangesReply,
    LimitsReply,
    Message,
    ModifyOrder,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
    RiskStatusReply,
    ScopeExposure,
    SetRiskLimits,
    SubmitOrder,
    SubmitOrderList,
    TradingStateChanged,
    TradingStatesReply,
    TradingStateView,
)
from foxtrot.common.publishing import derived_id, now_ns
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec
from foxtrot.core.risk import (
    SWITCHABLE,
    Breach,
    Decision,
    Denial,
    LiveLimits,
    RiskBook,
    RiskLimits,
    list_denial,
)
from foxtrot.risk import metrics
from foxtrot.risk.adapters.execution_state import ExecutionSnapshot
from foxtrot.risk.adapters.repository import DecisionRow, RiskRepository

__all__ = ["Judged", "RiskService"]

M = TypeVar("M", bound=Message)

log = logging.getLogger(__name__)
_REMEMBERED: Final = 100_000  # decisions kept to answer a redelivered command alike
_SYSTEM: Final = "risk"


@dataclass(frozen=True, slots=True)
class Judged:
    """What a batch of submits comes to: approvals to pass on, events to publish, rows to
    record."""

    approved: list[SubmitOrder]
    denied: list[OrderDenied]
    rows: list[DecisionRow]


class RiskService:
    """Judges orders against the limits and what risk knows."""

    def __init__(self, engine: AsyncEngine, account_id: str) -> None:
        self.engine = engine
        self.book = RiskBook(RiskLimits(), AccountId(account_id))
        self.live = LiveLimits(self.book)
        # Who switched each scope out of ACTIVE, and when (its state and reason: the book's).
        self.switched_by: dict[tuple[RiskScope, str], tuple[str, int]] = {}
        self._decided: OrderedDict[UUID, Denial | None] = OrderedDict()
        # The rows of decisions made but not written yet, by command: a command delivered
        # again because writing them failed gets its answer again and its rows written.
        self._unrecorded: dict[UUID, list[DecisionRow]] = {}
        # Positions execution's snapshot gave: fills up to their ts_last are in them already.
        self._snapshot_ts: dict[tuple[StrategyId, InstrumentId], int] = {}
        self._known = asyncio.Event()
        self.following = False  # execution's events are followed from the snapshot on

    # -- start ------------------------------------------------------------------------------

    async def load(self, initial_limits: dict[str, str | None]) -> None:
        """Limits, trading states and recent decisions from the database; an empty limits
        table is seeded with ``initial_limits`` (recorded as set by ``settings``)."""
        async with self.engine.begin() as conn:
            repo = RiskRepository(conn)
            stored = await repo.load_limits()
            if not stored:
                await repo.change_limits(initial_limits, {}, "settings", "first start", now_ns())
                stored = dict(initial_limits)
            states = await repo.load_trading_states()
            recent = await repo.recent_decisions(_REMEMBERED)
        self.book.limits = RiskLimits.from_values(stored, SWITCHABLE)
        for view in states:
            self._apply_state(
                view.scope, view.key, view.state, view.reason, view.changed_by, view.ts_changed
            )
        for decision in recent:  # a list's refused order comes last of its decisions
            denial = decision.denial
            if decision.in_list and denial is not None:
                denial = list_denial(decision.client_order_id, denial)
            self._decided[decision.command_id] = denial
        log.info(
            "risk loaded %d limits, %d trading states not ACTIVE, %d recent decisions",
            len(stored),
            len(self.book.states),
            len(recent),
        )

    def learn(self, snapshot: ExecutionSnapshot) -> None:
        """Positions, open orders and balances as execution has them: from now on risk
        knows enough to approve orders."""
        for view in snapshot.positions:
            position = position_of(view)
            self.book.set_position(position)
            if position.ts_last is not None:
                self._snapshot_ts[(position.strategy_id, position.instrument_id)] = position.ts_last
        for order in snapshot.orders:
            spec = spec_of(order)
            if spec is not None:
                self.book.learn_open(spec, spec.quantity - Decimal(order.filled_qty))
        for account in snapshot.accounts:
            self.book.set_balances(
                account.account_id, [(b.currency, b.free) for b in account.balances]
            )
        for flag in self.book.known:
            self.book.known[flag] = True
        self._known.set()
        log.info(
            "risk knows %d positions, %d open orders and %d accounts from execution",
            len(snapshot.positions),
            len(snapshot.orders),
            len(snapshot.accounts),
        )

    # -- orders -----------------------------------------------------------------------------

    async def known(self, wait_s: float) -> None:
        """Give execution's state up to ``wait_s`` to arrive (at start, commands wait for it
        rather than being denied at once); after that, judging denies STATE_UNKNOWN."""
        if not self._known.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await self._known.wait()

    def judge(self, commands: Sequence[SubmitOrder]) -> Judged:
        """Judge new orders in stream order; each approved one counts at once for the next."""
        out = Judged([], [], [])
        for command in commands:
            now = now_ns()
            if command.message_id in self._decided:  # delivered again: the same answer
                denial = self._decided[command.message_id]
                if denial is None:
                    out.approved.append(_approved(command, now))
                else:
                    out.denied.append(self._denied(command, denial, now))
                out.rows.extend(self._unrecorded.get(command.message_id, ()))
                continue
            try:
                spec = command.to_core()
            except ValueError as exc:
                invalid = Decision(Denial("INVALID_ORDER", str(exc)), (("order", "INVALID_ORDER"),))
                decision, row = invalid, _recorded(command, command.message_id, invalid, 0, now)
            else:
                decision, row = self._check(command, spec, now)
                if decision.approved:
                    self.book.approved(spec, now)
                else:
                    self.book.denied(spec)
            self._remember(command.message_id, decision.denial, [row])
            if decision.denial is None:
                out.approved.append(_approved(command, now))
            else:
                out.denied.append(self._denied(command, decision.denial, now))
            out.rows.append(row)
        return out

    def _check(
        self, command: SubmitOrder, spec: OrderSpec, now: int, command_id: UUID | None = None
    ) -> tuple[Decision, DecisionRow]:
        """The rules' decision on one order (of the command ``command_id``, if not its
        own), timed, counted and made a row to record."""
        started = time.perf_counter_ns()
        decision = self.book.check(spec, now)
        latency = time.perf_counter_ns() - started
        return decision, _recorded(
            command, command_id or command.message_id, decision, latency, now
        )

    def judge_list(
        self, command: SubmitOrderList
    ) -> tuple[SubmitOrderList | None, list[OrderDenied], list[DecisionRow]]:
        """A list stands or falls together. Its orders are judged in turn, each counting
        for the next (a bracket's entry is open when its stop is judged); if one is
        denied, every one is, naming it, and those counted are taken back."""
        now = now_ns()
        if command.message_id in self._decided:
            denial = self._decided[command.message_id]
            unrecorded = self._unrecorded.get(command.message_id, [])
            if denial is None:
                return _approved(command, now), [], unrecorded
            return None, self._list_denied(command, denial, now), unrecorded
        rows: list[DecisionRow] = []
        members = {member.client_order_id: member for member in command.orders}

        def recorded(spec: OrderSpec, at: int) -> Decision:
            decision, row = self._check(members[spec.client_order_id], spec, at, command.message_id)
            rows.append(row)
            return decision

        specs = [member.to_core() for member in command.orders]
        _, refused = self.book.judge_list(specs, now, recorded)
        self._remember(command.message_id, refused, rows)
        if refused is None:
            return _approved(command, now), [], rows
        return None, self._list_denied(command, refused, now), rows

    def _list_denied(self, command: SubmitOrderList, denial: Denial, now: int) -> list[OrderDenied]:
        return [
            _refusal(OrderDenied, member, denial, command, f"denied-{index}", now)
            for index, member in enumerate(command.orders)
        ]

    def judge_modify(
        self, command: ModifyOrder
    ) -> tuple[ModifyOrder | OrderModifyRejected, DecisionRow | None]:
        """A modify passed on to execution, or its rejection."""
        now = now_ns()
        if command.message_id in self._decided:
            denial = self._decided[command.message_id]
            unrecorded = self._unrecorded.get(command.message_id)
            return (
                _approved(command, now)
                if denial is None
                else self._modify_rejected(command, denial, now)
            ), unrecorded[0] if unrecorded else None
        started = time.perf_counter_ns()
        client_order_id = ClientOrderId(command.client_order_id)
        decision = self.book.check_modify(
            client_order_id, now, command.quantity, command.price, command.trigger_price
        )
        latency = time.perf_counter_ns() - started
        open_order = self.book.orders.get(client_order_id)
        if decision.approved and open_order is not None:
            changed = open_order.spec
            if command.quantity is not None:  # a rise counts at once, until the venue answers
                changed = replace(changed, quantity=command.quantity)
            self.book.modified(changed, now)
        account_id = open_order.spec.account_id if open_order else ""
        row = _recorded(command, command.message_id, decision, latency, now, account_id)
        self._remember(command.message_id, decision.denial, [row])
        if decision.denial is None:
            return _approved(command, now), row
        return self._modify_rejected(command, decision.denial, now), row

    async def record(self, rows: Sequence[DecisionRow]) -> None:
        """Write decisions (before their commands are acknowledged)."""
        if rows:
            async with self.engine.begin() as conn:
                await RiskRepository(conn).record_decisions(rows)
            for row in rows:
                self._unrecorded.pop(row.command_id, None)

    def _remember(self, message_id: UUID, denial: Denial | None, rows: list[DecisionRow]) -> None:
        self._decided[message_id] = denial
        self._unrecorded[message_id] = rows
        if len(self._decided) > _REMEMBERED:
            forgotten, _ = self._decided.popitem(last=False)
            self._unrecorded.pop(forgotten, None)

    @staticmethod
    def _denied(command: SubmitOrder, denial: Denial, now: int) -> OrderDenied:
        return _refusal(OrderDenied, command, denial, command, "denied", now)

    @staticmethod
    def _modify_rejected(command: ModifyOrder, denial: Denial, now: int) -> OrderModifyRejected:
        return _refusal(OrderModifyRejected, command, denial, command, "denied", now)

    # -- what happens -------------------------------------------------------------------------

    def on_order_event(self, event: OrderEvent) -> list[Breach]:
        """Execution's news of an order: open orders and positions follow it."""
        book = self.book
        client_order_id = ClientOrderId(event.client_order_id)
        if isinstance(event, OrderFilled):
            strategy_id = StrategyId(event.strategy_id)
            instrument_id = InstrumentId.parse(event.instrument_id)
            known_until = self._snapshot_ts.get((strategy_id, instrument_id))
            if known_until is not None and event.ts_event <= known_until:
                return []  # in the snapshot execution gave already
            book.on_fill(
                client_order_id,
                strategy_id,
                instrument_id,
                event.side,
                event.last_qty,
                event.last_px,
                event.commission,
                event.ts_event,
            )
            return self.watch(self.live.scopes_of_fill(strategy_id, instrument_id))
        if isinstance(event, OrderAccepted):
            book.on_accepted(client_order_id)
        elif isinstance(event, OrderUpdated):
            book.on_updated(client_order_id, event.quantity, event.price)
        elif isinstance(event, OrderCanceled | OrderExpired | OrderRejected):
            book.on_done(client_order_id)
        return []

    def on_account(self, state: AccountState) -> None:
        self.book.set_balances(state.account_id, [(b.currency, b.free) for b in state.balances])

    def on_price(self, instrument_id: InstrumentId, price: Decimal) -> list[Breach]:
        """A new market price: revalue the scopes that hold the instrument."""
        self.book.prices[instrument_id] = price
        scopes = self.live.scopes_of_price(instrument_id)
        return self.watch(scopes) if scopes else []

    def watch(self, scopes: list[tuple[RiskScope, str]]) -> list[Breach]:
        """Revalue scopes, update the gauges, and return the limits newly crossed."""
        breaches = self.live.update(scopes, now_ns())
        for scope in scopes:
            metrics.show_pnl(self.live.scopes[scope])
        return breaches

    # -- trading states and limits ------------------------------------------------------------

    async def switch(
        self, scope: RiskScope, key: str, state: TradingState, reason: str, by: str, cause: Message
    ) -> TradingStateChanged | None:
        """Put a scope in a trading state (persisted first); None when it already was."""
        old = self.book.states.get((scope, key), TradingState.ACTIVE)
        if old is state:
            log.info("%s %s is %s already; nothing to switch", scope, key, state)
            return None
        now = now_ns()
        async with self.engine.begin() as conn:
            await RiskRepository(conn).set_trading_state(scope, key, old, state, reason, by, now)
        self._apply_state(scope, key, state, reason, by, now)
        log.warning("%s %s switched %s -> %s by %s: %s", scope, key, old, state, by, reason)
        return TradingStateChanged(
            scope=scope,
            key=key,
            old_state=old,
            new_state=state,
            reason=reason,
            changed_by=by,
            **cause.caused(
                message_id=derived_id(cause.message_id, f"state-{scope}-{key}"),
                ts_event=now,
                ts_init=now,
            ),
        )

    async def breached(self, breach: Breach, cause: Message) -> list[Message]:
        """LimitBreached, and the scope switched to the breach's action if that is stricter."""
        now = now_ns()
        events: list[Message] = [
            LimitBreached(
                scope=breach.scope,
                key=breach.key,
                limit=breach.limit,
                threshold=breach.threshold,
                value=breach.value,
                action=breach.action,
                ts_cause=cause.ts_init,
                **cause.caused(
                    message_id=derived_id(
                        cause.message_id, f"breach-{breach.scope}-{breach.key}-{breach.limit}"
                    ),
                    ts_event=now,
                    ts_init=now,
                ),
            )
        ]
        current = self.book.states.get((breach.scope, breach.key), TradingState.ACTIVE)
        if breach.action.rank > current.rank:
            reason = f"{breach.limit} {breach.threshold} breached: {breach.value}"
            changed = await self.switch(
                breach.scope, breach.key, breach.action, reason, _SYSTEM, cause
            )
            if changed is not None:
                events.append(changed)
        return events

    async def set_limits(self, command: SetRiskLimits) -> dict[str, str | None]:
        """Apply limit changes (all or none; InvalidLimit names the bad one), recorded with
        who, when, the old and the new value. Returns the values that changed."""
        limits = self.book.limits.changed(command.changes, SWITCHABLE)
        old = self.book.limits.values()
        new = limits.values()
        changed = {
            name: new.get(name) for name in command.changes if old.get(name) != new.get(name)
        }
        if not changed:
            return {}
        async with self.engine.begin() as conn:
            await RiskRepository(conn).change_limits(
                changed, old, command.requested_by, command.reason, now_ns()
            )
        self.book.limits = limits
        log.warning("limits changed by %s (%s): %s", command.requested_by, command.reason, changed)
        return changed

    def _apply_state(
        self, scope: RiskScope, key: str, state: TradingState, reason: str, by: str, ts: int
    ) -> None:
        self.book.set_state(scope, key, state, reason)
        if state is TradingState.ACTIVE:
            self.switched_by.pop((scope, key), None)
        else:
            self.switched_by[(scope, key)] = (by, ts)
        metrics.show_state(scope, key, state)

    # -- queries ------------------------------------------------------------------------------

    def limits(self) -> LimitsReply:
        return LimitsReply(limits=self.book.limits.values())

    def trading_states(self) -> TradingStatesReply:
        return TradingStatesReply(
            states=tuple(
                TradingStateView(
                    scope=scope,
                    key=key,
                    state=self.book.states[(scope, key)],
                    reason=self.book.state_reasons[(scope, key)],
                    changed_by=by,
                    ts_changed=ts,
                )
                for (scope, key), (by, ts) in sorted(self.switched_by.items())
            )
        )

    async def limit_changes(self, query: LimitChangesQuery) -> LimitChangesReply:
        async with self.engine.connect() as conn:
            changes = await RiskRepository(conn).limit_changes(query.name, query.limit)
        return LimitChangesReply(changes=tuple(changes))

    async def decisions(self, query: DecisionsQuery) -> DecisionsReply:
        async with self.engine.connect() as conn:
            found = await RiskRepository(conn).decisions(query)
        return DecisionsReply(decisions=tuple(found))

    def status(self) -> RiskStatusReply:
        scopes = []
        for (scope, key), pnl in sorted(self.live.scopes.items()):
            scopes.append(
                ScopeExposure(
                    scope=scope,
                    key=key,
                    state=self.book.states.get((scope, key), TradingState.ACTIVE),
                    realized_pnl=pnl.realized,
                    unrealized_pnl=pnl.unrealized,
                    pnl=pnl.day_pnl,
                    peak_pnl=pnl.peak or Decimal(0),
                    drawdown=pnl.drawdown,
                    gross_exposure=pnl.gross,
                    net_exposure=pnl.net,
                )
            )
        return RiskStatusReply(known=not self.book.unknown(), scopes=tuple(scopes))


R = TypeVar("R", OrderDenied, OrderModifyRejected)


def _refusal(
    kind: type[R],
    order: SubmitOrder | ModifyOrder,
    denial: Denial,
    cause: Message,
    suffix: str,
    now: int,
) -> R:
    """Risk's refusal of an order (or of a change to one), caused by ``cause``, with an id
    derived from it so that refusing the same command again is the same message."""
    return kind(
        client_order_id=order.client_order_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        reason_code=denial.code,
        reason=denial.message,
        **cause.caused(message_id=derived_id(cause.message_id, suffix), ts_event=now, ts_init=now),
    )


def _approved(command: M, now: int) -> M:
    """The command as risk passes it on to execution: a new id caused by the original."""
    return command.model_copy(
        update={
            "message_id": derived_id(command.message_id, "approved"),
            "causation_id": command.message_id,
            "ts_init": now,
        }
    )


def _recorded(
    command: SubmitOrder | ModifyOrder,
    command_id: UUID,
    decision: Decision,
    latency: int,
    now: int,
    account_id: str | None = None,
) -> DecisionRow:
    """A decision counted in the metrics, as the row that records it."""
    metrics.count_decision(decision)
    kind = "SubmitOrder" if isinstance(command, SubmitOrder) else "ModifyOrder"
    denial = decision.denial
    rules = json.dumps([{"rule": rule, "code": code} for rule, code in decision.results])
    return DecisionRow(
        client_order_id=command.client_order_id,
        strategy_id=command.strategy_id,
        account_id=account_id if account_id is not None else getattr(command, "account_id", ""),
        instrument_id=command.instrument_id,
        command=kind,
        order_json=command.model_dump_json(),
        approved=denial is None,
        code=denial.code if denial else None,
        reason=denial.message if denial else None,
        rules_json=rules,
        latency_ns=latency,
        ts_decided=now,
        command_id=command_id,
    )
