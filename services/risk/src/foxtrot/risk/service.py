"""Risk's use cases: keep the last price of each instrument and judge each order."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from foxtrot.common.messages.v1 import Message, OrderDenied, SubmitOrder, SubmitOrderList
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.risk import Denial, PreTradeContext, RiskLimits, evaluate

__all__ = ["RiskGate"]


@dataclass
class RiskGate:
    """Approves an order or says why not, from the limits and the last known prices."""

    limits: RiskLimits
    last_prices: dict[InstrumentId, Decimal] = field(default_factory=dict)

    def on_price(self, instrument_id: InstrumentId, price: Decimal) -> None:
        """Remember the latest traded (or bar close) price of an instrument."""
        self.last_prices[instrument_id] = price

    def check(self, command: SubmitOrder) -> Denial | None:
        """The first rule the order fails, or None when it may go to execution."""
        spec = command.to_core()
        ctx = PreTradeContext(self.limits, self.last_prices.get(spec.instrument_id))
        return evaluate(spec, ctx)

    def check_list(self, command: SubmitOrderList) -> Denial | None:
        """The first rule any order of the list fails (naming that order), or None when the
        whole list may go to execution: a list stands or falls together."""
        for order in command.orders:
            denial = self.check(order)
            if denial is not None:
                return Denial(denial.code, f"order {order.client_order_id}: {denial.message}")
        return None

    @staticmethod
    def denied(
        command: SubmitOrder, denial: Denial, ts: int, cause: Message | None = None
    ) -> OrderDenied:
        """The OrderDenied event for a refused order, caused by the order's command or, for
        an order inside a list, by the list's ``cause``."""
        return OrderDenied(
            client_order_id=command.client_order_id,
            strategy_id=command.strategy_id,
            instrument_id=command.instrument_id,
            reason_code=denial.code,
            reason=denial.message,
            **(cause or command).caused(ts_event=ts, ts_init=ts),
        )
