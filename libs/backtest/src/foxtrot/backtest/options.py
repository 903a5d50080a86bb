"""The ``foxtrot`` command's options turned into a checked BacktestSpec.

``--spec``, ``--config``, ``--param``, ``--grid``, ``--balance``, ``--limit``,
``--instrument`` and ``--instruments`` are parsed here; a bad value raises an
InvalidBacktest whose message names the option and what it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from foxtrot.backtest.instruments import infer_instruments, read_instruments, split_symbol
from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import (
    BacktestSpec,
    FileSource,
    HistorySource,
    InstrumentSpec,
    InvalidBacktest,
    one_line,
)
from foxtrot.core.strategy import StrategyNotFound, resolve_strategy

__all__ = ["SpecOptions", "build_spec", "parse_grid", "spec_options"]

_BAR_SPEC: Final = re.compile(r"^[1-9][0-9]*(s|m|h|d|t|v|q)$")
_ID_MAX: Final = 36
_INSTRUMENT_KEYS: Final = {
    "base": "base_currency",
    "quote": "quote_currency",
    "tick": "tick_size",
    "lot": "lot_size",
    "min_qty": "min_quantity",
    "max_qty": "max_quantity",
}


@dataclass(frozen=True, slots=True)
class SpecOptions:
    """What the shared options say, before it becomes a spec."""

    strategy: str | None
    data: list[Path] | None
    instrument_id: str | None
    bar_spec: str
    file_format: str
    history: list[str] | None
    param: list[str] | None
    config: Path | None
    start: str | None
    end: str | None
    taker_fee: str | None
    maker_fee: str | None
    latency_ms: str | None
    slippage_bps: str | None
    seed: int | None
    currency: str | None
    balance: list[str] | None
    limit: list[str] | None
    instrument: list[str] | None
    instruments: Path | None
    periods_per_year: int | None
    spec: Path | None


def spec_options(values: Mapping[str, Any]) -> SpecOptions:
    """The shared options out of a command's arguments (named as SpecOptions' fields)."""
    return SpecOptions(**{f.name: values[f.name] for f in fields(SpecOptions)})


def build_spec(options: SpecOptions, *, swept: Mapping[str, Any] | None = None) -> BacktestSpec:
    """The spec the options describe (on top of ``--spec`` when given)."""
    base = _load_spec_file(options.spec) if options.spec else {}
    strategy = options.strategy or base.get("strategy")
    if not strategy:
        raise InvalidBacktest("give a STRATEGY (see `foxtrot strategies`) or a --spec")
    sources = _sources(options) or list(base.get("data") or [])
    if not sources:
        raise InvalidBacktest("give the data: --data FILE or --history INSTRUMENT:SPEC")
    parsed = [_source(s) for s in sources]
    sample = BacktestData([s for s in parsed if isinstance(s, FileSource)]).sample(200)
    seen = sorted({str(r.instrument_id) for r in sample})
    seen += [s.instrument_id for s in parsed if isinstance(s, HistorySource)]
    instruments = _instruments(options, base, sample, seen)
    venue = _venue(options, base, _quote_of(seen, instruments))
    balances = {
        k.upper(): _decimal(v, "--balance") for k, v in _pairs(options.balance, "--balance")
    }
    limits = dict(_pairs(options.limit, "--limit"))
    fields_of_spec: dict[str, Any] = {
        "strategy": strategy,
        "config": _config(options, base, strategy, seen, swept or {}),
        "data": sources,
        "instruments": instruments,
        "venue": venue,
        "starting_balances": balances
        or base.get("starting_balances")
        or {venue["settlement_currency"]: Decimal(100_000)},
        "risk_limits": {**(base.get("risk_limits") or {}), **limits},
        "start": options.start if options.start is not None else base.get("start"),
        "end": options.end if options.end is not None else base.get("end"),
    }
    periods = options.periods_per_year or base.get("periods_per_year")
    if periods:
        fields_of_spec["periods_per_year"] = periods
    try:
        return BacktestSpec.model_validate(fields_of_spec)
    except ValidationError as exc:
        raise InvalidBacktest(one_line(exc)) from None


def _config(
    options: SpecOptions,
    base: Mapping[str, Any],
    strategy: str,
    seen: Sequence[str],
    swept: Mapping[str, Any],
) -> dict[str, Any]:
    """The strategy's config: --spec's, then --config, then --param, then defaults."""
    try:
        config_fields = resolve_strategy(strategy).config_class.model_fields
    except StrategyNotFound as exc:
        raise InvalidBacktest(str(exc)) from None
    same = strategy == base.get("strategy")
    config: dict[str, Any] = dict(base.get("config") or {}) if same else {}
    if options.config is not None:
        config.update(_read_json(options.config, "--config"))
    config.update(_pairs(options.param, "--param", _value))
    config.setdefault("strategy_id", _strategy_id(strategy))
    given = {*config, *swept}
    # A strategy's instrument_id and bar_spec default to the data's, so a one-instrument
    # backtest needs neither twice.
    only = options.instrument_id or (seen[0] if len(set(seen)) == 1 else None)
    if "instrument_id" in config_fields and "instrument_id" not in given and only:
        config["instrument_id"] = only
    if "bar_spec" in config_fields and "bar_spec" not in given:
        config["bar_spec"] = options.bar_spec
    return config


def _venue(options: SpecOptions, base: Mapping[str, Any], quote: str) -> dict[str, Any]:
    """The simulated venue: --spec's, with the options given on top."""
    venue = dict(base.get("venue") or {})
    for key, text in (
        ("taker_fee", options.taker_fee),
        ("maker_fee", options.maker_fee),
        ("latency_ms", options.latency_ms),
        ("slippage_bps", options.slippage_bps),
    ):
        if text is not None:
            venue[key] = _decimal(text, f"--{key.replace('_', '-')}")
    if options.seed is not None:
        venue["seed"] = options.seed
    if options.currency:
        venue["settlement_currency"] = options.currency.upper()
    venue.setdefault("settlement_currency", quote)
    return venue


def _sources(options: SpecOptions) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    for path in options.data or []:
        source: dict[str, Any] = {
            "kind": "file",
            "path": str(path),
            "format": options.file_format,
            "bar_spec": options.bar_spec,
        }
        if options.instrument_id:
            source["instrument_id"] = options.instrument_id
        sources.append(source)
    for text in options.history or []:
        instrument, colon, spec = text.rpartition(":")
        if not colon or not _BAR_SPEC.match(spec):
            instrument, spec = text, options.bar_spec
        sources.append({"kind": "history", "instrument_id": instrument, "bar_spec": spec})
    return sources


def _source(value: Mapping[str, Any]) -> FileSource | HistorySource:
    try:
        if value.get("kind", "file") == "history":
            return HistorySource.model_validate(value)
        return FileSource.model_validate(value)
    except ValidationError as exc:
        raise InvalidBacktest(f"data source {dict(value)}: {one_line(exc)}") from None


def _instruments(
    options: SpecOptions, base: Mapping[str, Any], sample: Sequence[Any], seen: Sequence[str]
) -> list[Any]:
    """The instruments' rules: --spec's, replaced by those --instruments lists for the
    instruments in the data, then each --instrument's keys on top of the rules before it."""
    rules: dict[str, Any] = {}
    unnamed: list[Any] = []  # left for BacktestSpec to refuse with its own message
    for item in base.get("instruments") or []:
        if isinstance(item, Mapping) and "instrument_id" in item:
            rules[str(item["instrument_id"])] = dict(item)
        else:
            unnamed.append(item)
    if options.instruments is not None:
        for listed in read_instruments(options.instruments):
            if listed.instrument_id in seen:
                rules[listed.instrument_id] = listed.model_dump(mode="json")
    for text in options.instrument or []:
        given = _instrument(text, sample, rules)
        rules[given.instrument_id] = given.model_dump(mode="json")
    return [*unnamed, *rules.values()]


def _instrument(
    text: str, sample: Sequence[Any], before: Mapping[str, Mapping[str, Any]]
) -> InstrumentSpec:
    """``ID:key=value,...`` on top of the rules ``before`` holds for ID; tick and lot left
    out of both are read off the data."""
    head, eq, _ = text.partition("=")
    instrument_id, colon, _ = head.rpartition(":")
    if not eq or not colon:
        raise InvalidBacktest(f"--instrument must be ID:key=value,..., was {text!r}")
    rules: dict[str, Any] = dict(before.get(instrument_id, {}))
    rules.pop("instrument_id", None)
    for pair in text[len(instrument_id) + 1 :].split(","):
        key, eq, value = pair.partition("=")
        name = _INSTRUMENT_KEYS.get(key.strip(), key.strip())
        if not eq or name not in InstrumentSpec.model_fields or name == "instrument_id":
            keys = ", ".join([*_INSTRUMENT_KEYS, "min_notional"])
            raise InvalidBacktest(f"--instrument {instrument_id}: keys are {keys}, was {key!r}")
        rules[name] = value.strip()
    mine = [r for r in sample if str(r.instrument_id) == instrument_id]
    return infer_instruments(mine, given={instrument_id: rules})[0]


def _quote_of(instrument_ids: Sequence[str], instruments: Sequence[Any]) -> str:
    """The one quote currency of the instruments traded, else USD."""
    rules = [i for i in instruments if isinstance(i, Mapping)]
    quotes = {str(i["quote_currency"]).upper() for i in rules if "quote_currency" in i}
    listed = {str(i.get("instrument_id")) for i in rules}
    for name in instrument_ids:
        if name in listed:
            continue
        pair = split_symbol(name.rpartition(".")[0])
        if pair is not None:
            quotes.add(pair[1])
    return quotes.pop() if len(quotes) == 1 else "USD"


def _load_spec_file(path: Path) -> dict[str, Any]:
    document = _read_json(path, "--spec")
    for key in ("settings", "spec"):  # a result.json or a sweep.json: the spec it ran
        inner = document.get(key)
        if isinstance(inner, dict) and "strategy" in inner:
            return inner
    return document


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InvalidBacktest(f"{what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidBacktest(f"{what} {path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidBacktest(f"{what} {path} must hold a JSON object")
    return document


def _pairs(items: Sequence[str] | None, what: str, parse: Any = str.strip) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InvalidBacktest(f"{what} must be key=value, was {item!r}")
        pairs.append((key.strip(), parse(value)))
    return pairs


def _value(text: str) -> Any:
    """JSON when it parses (numbers as exact decimals), else the text itself."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return text


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    if not items:
        raise InvalidBacktest("give at least one --grid name=value1,value2,...")
    grid: dict[str, list[Any]] = {}
    for name, values in _pairs(items, "--grid"):
        grid[name] = [_value(v.strip()) for v in values.split(",") if v.strip()]
        if not grid[name]:
            raise InvalidBacktest(f"--grid {name} needs at least one value")
    return grid


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidBacktest(f"{what} must be a decimal number, was {text!r}") from None
    if not value.is_finite():
        raise InvalidBacktest(f"{what} must be a finite number, was {text!r}")
    return value


def _strategy_id(strategy: str) -> str:
    name = strategy.rpartition(":")[2] if ":" in strategy else strategy
    return re.sub(r"[^A-Za-z0-9_\-]", "-", name)[:_ID_MAX] or "strategy"
