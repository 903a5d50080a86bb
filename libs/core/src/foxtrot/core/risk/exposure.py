"""The account's exposure, kept up to date as net positions and last prices change.

An order's exposure check then takes one instrument out of the totals and puts it back at
the position the order would leave, instead of valuing every instrument held again.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Final, NoReturn

from foxtrot.core.identifiers import InstrumentId

__all__ = ["Exposure", "LastPrices"]

_ZERO: Final = Decimal(0)
# The totals are added to and taken from all day: exact arithmetic, so that they cannot
# drift from the sum of the values they stand for (and quiet, like a sum with a NaN in it).
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


class Exposure:
    """Each instrument's net position valued at its last price, and the account's gross
    (the sum of their absolute values) and net (the sum of their values) exposure."""

    def __init__(self) -> None:
        self.values: dict[InstrumentId, Decimal] = {}
        self.gross = _ZERO
        self.net = _ZERO

    def revalue(
        self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal | None
    ) -> None:
        """The instrument's net position or its last price changed (None: no price known)."""
        old = self.values.pop(instrument_id, _ZERO)
        value = quantity * price if quantity and price is not None else _ZERO
        if not value and not old:
            return
        if value:
            self.values[instrument_id] = value
        if value.is_finite() and old.is_finite():
            self.gross = _EXACT.add(self.gross, _EXACT.subtract(abs(value), abs(old)))
            self.net = _EXACT.add(self.net, _EXACT.subtract(value, old))
        else:  # a NaN or an infinity cannot be taken back out of a sum: add them up again
            self.gross = self.net = _ZERO
            for each in self.values.values():
                self.gross = _EXACT.add(self.gross, abs(each))
                self.net = _EXACT.add(self.net, each)

    def with_position(
        self, instrument_id: InstrumentId, quantity: Decimal, price: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Gross and net exposure if the instrument's net position were ``quantity``
        valued at ``price``."""
        held = self.values.get(instrument_id, _ZERO)
        return (
            self.gross - abs(held) + abs(quantity) * price,
            self.net - held + quantity * price,
        )


class LastPrices(dict[InstrumentId, Decimal]):
    """The last price (or quote mid) of each instrument, set and deleted like a dict's
    items; each change is passed to ``changed``, which revalues what is held of it."""

    def __init__(self, changed: Callable[[InstrumentId], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, instrument_id: InstrumentId, price: Decimal) -> None:
        super().__setitem__(instrument_id, price)
        self._changed(instrument_id)

    def __delitem__(self, instrument_id: InstrumentId) -> None:
        super().__delitem__(instrument_id)
        self._changed(instrument_id)

    def _one_at_a_time(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            "last prices are set and deleted one at a time (prices[instrument_id] = price, "
            "del prices[instrument_id]), so that none is left out of the exposure"
        )

    # dict's other writes would not pass through the two above.
    clear = pop = popitem = setdefault = update = __ior__ = _one_at_a_time
