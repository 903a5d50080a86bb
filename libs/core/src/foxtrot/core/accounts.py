"""Cash accounts: one balance per currency, moved by fills and held by open orders.

A fill settles both legs of the instrument: buying 2 BTCUSDT at 100 adds 2 BTC and takes
200 USDT; the commission leaves in the currency the venue charged it in. What open orders
could still spend is *locked* (a buy's quote at its limit price, or at the last price for a
market or stop order; a sell's base quantity), and *free* is what remains. Derivatives and
margin are not modelled: every instrument settles as spot cash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.enums import OrderSide
from foxtrot.core.events import OrderFilled
from foxtrot.core.identifiers import ClientOrderId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import Order

__all__ = ["Balance", "CashAccount", "Legs"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Legs:
    """The two currencies an instrument trades: quantities in ``base``, prices in ``quote``."""

    base: str
    quote: str

    @classmethod
    def of(cls, instrument: Instrument) -> Legs:
        """The legs of a known instrument."""
        return cls(instrument.base_currency, instrument.quote_currency)


@dataclass(frozen=True, slots=True)
class Balance:
    """One currency's balance: what the account holds and how much open orders hold back."""

    currency: str
    total: Decimal
    locked: Decimal = _ZERO

    @property
    def free(self) -> Decimal:
        """What new orders may still spend."""
        return self.total - self.locked


class CashAccount:
    """The balances of one cash account, per currency."""

    def __init__(self, account_id: str, totals: Mapping[str, Decimal] | None = None) -> None:
        self.account_id = account_id
        self.totals: dict[str, Decimal] = dict(totals or {})
        self.locked: dict[str, Decimal] = {}
        self._holds: dict[ClientOrderId, tuple[str, Decimal]] = {}
        # The Balance last given per currency: given again while its amounts are the same
        # objects, as the account is asked for its balances after nearly every order event.
        self._given: dict[str, Balance] = {}

    def balances(self) -> list[Balance]:
        """Every currency the account holds or has locked, sorted by currency."""
        totals, locked, given = self.totals, self.locked, self._given
        out: list[Balance] = []
        for currency in sorted(totals.keys() | locked.keys()):
            total = totals.get(currency, _ZERO)
            held = locked.get(currency, _ZERO)
            balance = given.get(currency)
            if balance is None or balance.total is not total or balance.locked is not held:
                balance = given[currency] = Balance(currency, total, held)
            out.append(balance)
        return out

    def apply_fill(self, fill: OrderFilled, legs: Legs) -> dict[str, Decimal]:
        """Settle a fill into the account; returns the change per currency."""
        notional = fill.last_qty * fill.last_px
        base_delta, quote_delta = (
            (fill.last_qty, -notional) if fill.side is OrderSide.BUY else (-fill.last_qty, notional)
        )
        deltas: dict[str, Decimal] = {}
        for currency, delta in (
            (legs.base, base_delta),
            (legs.quote, quote_delta),
            (fill.commission_currency, -fill.commission),
        ):
            if delta:
                deltas[currency] = deltas.get(currency, _ZERO) + delta
        for currency, delta in deltas.items():
            self.totals[currency] = self.totals.get(currency, _ZERO) + delta
        return deltas

    def hold(self, order: Order, legs: Legs | None, last_price: Decimal | None) -> bool:
        """Recompute what one order holds back; returns True if the locked amounts changed.

        An order whose instrument's legs are unknown, or a market buy with no price seen
        yet, holds nothing: the account cannot say what it would cost.
        """
        held = self._held_by(order, legs, last_price)
        before = self._holds.pop(order.client_order_id, None)
        if held is not None:
            self._holds[order.client_order_id] = held
        if held == before:
            return False
        for entry, sign in ((before, -1), (held, 1)):
            if entry is not None:
                currency, amount = entry
                left = self.locked.get(currency, _ZERO) + sign * amount
                if left:
                    self.locked[currency] = left
                else:
                    self.locked.pop(currency, None)
        return True

    @staticmethod
    def _held_by(
        order: Order, legs: Legs | None, last_price: Decimal | None
    ) -> tuple[str, Decimal] | None:
        leaves = order.leaves_qty
        if legs is None or leaves <= 0 or not order.status.is_open:
            return None
        if order.spec.side is OrderSide.SELL:
            return legs.base, leaves
        price = order.spec.price or order.spec.trigger_price or last_price
        return (legs.quote, leaves * price) if price is not None else None
