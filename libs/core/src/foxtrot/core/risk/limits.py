"""Risk limits: what the pre-trade rules and the live limits allow, and how they are named.

Limits are stored and changed by name, one value each, so that every change can be
recorded as who, when, old value, new value. A name is a global limit
(``max_position``), one instrument's own limit (``instrument:BTCUSDT.BINANCE:max_position``,
which overrides the global one for that instrument) or a rule switch (``rule:price_collar``,
``on`` or ``off``). A value of None switches a limit off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Final

from foxtrot.core.enums import TradingState
from foxtrot.core.identifiers import InstrumentId

__all__ = ["InstrumentLimits", "InvalidLimit", "RiskLimits"]


class InvalidLimit(ValueError):
    """A limit's name or value is not one risk understands."""


@dataclass(frozen=True, slots=True)
class InstrumentLimits:
    """One instrument's own limits; None falls back to the global limit."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit risk enforces; None switches one off.

    Quantities are in the instrument's base units, money in its quote currency (one
    settlement currency per account is assumed when exposures and PnL are added up).
    """

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None  # |position| per instrument, after fill, open orders in
    max_gross_exposure: Decimal | None = None  # sum of |position| x price, per account
    max_net_exposure: Decimal | None = None  # |sum of position x price|, per account
    max_open_orders: int | None = None  # per account
    max_open_orders_per_strategy: int | None = None
    max_submits_per_second_strategy: int | None = None
    max_submits_per_second_account: int | None = None
    max_modifies_per_second_strategy: int | None = None
    max_modifies_per_second_account: int | None = None
    duplicate_window_ms: int | None = None  # same order again within this window: denied
    price_collar_bps: Decimal | None = None  # priced orders this far from last or mid: denied
    daily_loss_limit: Decimal | None = None  # today's loss (a positive amount) per scope
    max_drawdown: Decimal | None = None  # fall of PnL from its peak per scope
    breach_action: TradingState = TradingState.HALTED
    instruments: Mapping[InstrumentId, InstrumentLimits] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()  # rules switched off

    def for_instrument(self, instrument_id: InstrumentId) -> InstrumentLimits:
        """The order limits in force for one instrument: its own, else the global ones."""
        own = self.instruments.get(instrument_id)
        if own is None:
            return InstrumentLimits(
                self.max_order_quantity, self.max_order_notional, self.max_position
            )
        return InstrumentLimits(
            _first(own.max_order_quantity, self.max_order_quantity),
            _first(own.max_order_notional, self.max_order_notional),
            _first(own.max_position, self.max_position),
        )

    def values(self) -> dict[str, str | None]:
        """Every limit by name, as stored."""
        out: dict[str, str | None] = {}
        for name in _GLOBAL:
            value = getattr(self, name)
            out[name] = None if value is None else str(value)
        for instrument_id, own in sorted(self.instruments.items(), key=lambda kv: str(kv[0])):
            for name in _PER_INSTRUMENT:
                value = getattr(own, name)
                if value is not None:
                    out[f"instrument:{instrument_id}:{name}"] = str(value)
        for rule in sorted(self.disabled):
            out[f"rule:{rule}"] = "off"
        return out

    def changed(self, changes: Mapping[str, str | None], rules: frozenset[str]) -> RiskLimits:
        """These limits with ``changes`` applied; InvalidLimit names the first bad one.
        ``rules`` are the names a ``rule:`` switch may take."""
        limits = self
        for name, value in changes.items():
            limits = limits._with(name, value, rules)
        return limits

    def _with(self, name: str, value: str | None, rules: frozenset[str]) -> RiskLimits:
        if name.startswith("rule:"):
            rule = name.removeprefix("rule:")
            if rule not in rules:
                raise InvalidLimit(f"{name}: no such rule; rules are {', '.join(sorted(rules))}")
            if value not in ("on", "off", None):
                raise InvalidLimit(f"{name}: must be on or off, was {value!r}")
            off = value == "off"
            return replace(self, disabled=self.disabled | {rule} if off else self.disabled - {rule})
        if name.startswith("instrument:"):
            # The limit's name follows the last colon: a symbol may hold colons itself.
            instrument, _, limit = name.removeprefix("instrument:").rpartition(":")
            if limit not in _PER_INSTRUMENT:
                raise InvalidLimit(
                    f"{name}: an instrument limit is one of {', '.join(_PER_INSTRUMENT)}"
                )
            try:
                instrument_id = InstrumentId.parse(instrument)
            except ValueError as exc:
                raise InvalidLimit(f"{name}: {exc}") from None
            own = self.instruments.get(instrument_id, InstrumentLimits())
            own = replace(own, **{limit: _PARSERS[limit](name, value)})  # type: ignore[arg-type]
            instruments = dict(self.instruments)
            if own == InstrumentLimits():
                instruments.pop(instrument_id, None)
            else:
                instruments[instrument_id] = own
            return replace(self, instruments=instruments)
        if name not in _GLOBAL:
            raise InvalidLimit(f"{name}: no such limit; limits are {', '.join(_GLOBAL)}")
        return replace(self, **{name: _PARSERS[name](name, value)})  # type: ignore[arg-type]

    @classmethod
    def from_values(cls, values: Mapping[str, str | None], rules: frozenset[str]) -> RiskLimits:
        """Limits from stored values; names not given keep their defaults."""
        return cls().changed(values, rules)


def _first(own: Decimal | None, default: Decimal | None) -> Decimal | None:
    return own if own is not None else default


def _positive_decimal(name: str, value: str | None) -> Decimal | None:
    if value is None or value.lower() == "none":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidLimit(f"{name}: must be a decimal number, was {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise InvalidLimit(f"{name}: must be a positive number, was {value!r}")
    return number


def _positive_int(name: str, value: str | None) -> int | None:
    if value is None or value.lower() == "none":
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidLimit(f"{name}: must be a whole number, was {value!r}") from None
    if number <= 0:
        raise InvalidLimit(f"{name}: must be positive, was {value!r}")
    return number


def _action(name: str, value: str | None) -> TradingState:
    if value in (TradingState.REDUCING, TradingState.HALTED):
        return TradingState(value)
    raise InvalidLimit(f"{name}: must be REDUCING or HALTED, was {value!r}")


_Parser = Callable[[str, str | None], object]
_PARSERS: Final[dict[str, _Parser]] = {
    f.name: (
        _action
        if f.name == "breach_action"
        else _positive_int
        if "int" in str(f.type)
        else _positive_decimal
    )
    for f in fields(RiskLimits)
    if f.name not in ("instruments", "disabled")
}
_GLOBAL: Final = tuple(_PARSERS)
_PER_INSTRUMENT: Final = tuple(f.name for f in fields(InstrumentLimits))
