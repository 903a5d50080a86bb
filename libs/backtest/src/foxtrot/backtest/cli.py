"""The ``foxtrot`` command: ``backtest``, ``sweep`` and ``strategies``.

Bad input (an unknown strategy, a parameter its config refuses, a file that cannot be
read, a limit risk does not know) ends with one line on stderr and exit code 2; market
data's history out of reach with one line and exit code 1. Never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from foxtrot.backtest.history import HistoryConnection, HistoryUnavailable
from foxtrot.backtest.options import build_spec, parse_grid, spec_options
from foxtrot.backtest.report import write_result, write_sweep
from foxtrot.backtest.runner import BacktestRun, run_backtest
from foxtrot.backtest.sources import parse_bound
from foxtrot.backtest.spec import BacktestSpec, InvalidBacktest
from foxtrot.backtest.summary import iso_minute, print_summary, print_sweep, run_json
from foxtrot.backtest.sweep import METRICS, combinations, sweep
from foxtrot.common.errors import FoxtrotError
from foxtrot.core.strategy import StrategyNotFound, available_strategies, resolve_strategy

__all__ = ["app", "main"]

app = typer.Typer(
    name="foxtrot",
    help="Foxtrot's backtester: strategies over market data files or market_data's history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)

# --- options shared by backtest and sweep ---------------------------------------------------

StrategyArg = Annotated[
    str | None,
    typer.Argument(help="entry point name (see `foxtrot strategies`) or module:Class path"),
]
DataOpt = Annotated[
    list[Path] | None, typer.Option("--data", "-d", help="market data file; repeat for more")
]
InstrumentIdOpt = Annotated[
    str | None,
    typer.Option(
        help="SYMBOL.VENUE of --data files that name no instrument; "
        "also the strategy's instrument_id unless given"
    ),
]
BarSpecOpt = Annotated[
    str,
    typer.Option(help="interval of bar files' bars (1m, 1h, 1d); also the strategy's bar_spec"),
]
FormatOpt = Annotated[str, typer.Option("--format", help="file format, or auto to detect it")]
HistoryOpt = Annotated[
    list[str] | None,
    typer.Option(help="bars from market_data's history: INSTRUMENT:SPEC (BTC-PERP.FTX:1m)"),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="strategy parameter key=value (value as JSON if it parses)"),
]
ConfigOpt = Annotated[Path | None, typer.Option(help="the strategy's config as a JSON file")]
StartOpt = Annotated[str | None, typer.Option(help="skip records before (ISO-8601 UTC or ns)")]
EndOpt = Annotated[str | None, typer.Option(help="skip records from (ISO-8601 UTC or ns)")]
TakerFeeOpt = Annotated[str | None, typer.Option(help="taker fee rate (0.0004 = 4 bps)")]
MakerFeeOpt = Annotated[str | None, typer.Option(help="maker fee rate (negative: rebate)")]
LatencyOpt = Annotated[str | None, typer.Option(help="order latency to the venue, ms")]
SlippageOpt = Annotated[str | None, typer.Option(help="slippage of taker fills, bps")]
SeedOpt = Annotated[int | None, typer.Option(help="seed of the fill model's randomness")]
CurrencyOpt = Annotated[
    str | None, typer.Option(help="settlement currency (default: the instruments' quote)")
]
BalanceOpt = Annotated[
    list[str] | None, typer.Option(help="starting balance CURRENCY=amount; repeat for more")
]
LimitOpt = Annotated[
    list[str] | None, typer.Option(help="risk limit name=value (see docs/risk.md)")
]
InstrumentOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="rules of an instrument: ID:base=EUR,quote=USD[,tick=0.0001,lot=1,min_qty=..]"
    ),
]
InstrumentsOpt = Annotated[
    Path | None,
    typer.Option(
        help="JSON file of instrument rules (e.g. deploy/instruments.json), used for the "
        "instruments in the data; an --instrument overrides the keys it gives"
    ),
]
PeriodsOpt = Annotated[int | None, typer.Option(help="days per year: 365 crypto, 252 stocks")]
SpecOpt = Annotated[
    Path | None, typer.Option(help="a spec (or a result.json) to start from; options override")
]
NatsUrlOpt = Annotated[str | None, typer.Option(help="NATS for --history (default: NATS_URL)")]
NatsUserOpt = Annotated[
    str | None, typer.Option(help="NATS user that may ask market_data (gateway, strategy, admin)")
]
NatsPasswordOpt = Annotated[str | None, typer.Option(help="that user's password")]


# --- commands -------------------------------------------------------------------------------


@app.command()
def backtest(
    strategy: StrategyArg = None,
    data: DataOpt = None,
    instrument_id: InstrumentIdOpt = None,
    bar_spec: BarSpecOpt = "1m",
    file_format: FormatOpt = "auto",
    history: HistoryOpt = None,
    param: ParamOpt = None,
    config: ConfigOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    taker_fee: TakerFeeOpt = None,
    maker_fee: MakerFeeOpt = None,
    latency_ms: LatencyOpt = None,
    slippage_bps: SlippageOpt = None,
    seed: SeedOpt = None,
    currency: CurrencyOpt = None,
    balance: BalanceOpt = None,
    limit: LimitOpt = None,
    instrument: InstrumentOpt = None,
    instruments: InstrumentsOpt = None,
    periods_per_year: PeriodsOpt = None,
    spec: SpecOpt = None,
    nats_url: NatsUrlOpt = None,
    nats_user: NatsUserOpt = None,
    nats_password: NatsPasswordOpt = None,
    output: Annotated[
        Path | None, typer.Option(help="directory (default ./backtests/<strategy_id>-<time>)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the outcome as JSON, no progress or table")
    ] = False,
) -> None:
    """Run one backtest; write result.json and report.html and print a summary."""
    options = spec_options(locals())
    with _reported():
        the_spec = build_spec(options)
        connection = HistoryConnection.from_env(nats_url, nats_user, nats_password)
        if as_json:
            run = run_backtest(the_spec, connection=connection)
        else:
            run = _run_with_progress(the_spec, connection)
        directory = output or _default_output(str(the_spec.config["strategy_id"]))
        json_path, html_path = write_result(
            run.result, run.statistics, directory, prices=run.prices
        )
        if as_json:
            # Plain print: rich would wrap long lines to the terminal, breaking the JSON.
            typer.echo(json.dumps(run_json(run, json_path, html_path), indent=2))
        else:
            print_summary(_out, run, json_path, html_path)


@app.command("sweep")
def sweep_command(
    strategy: StrategyArg = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(help="parameter and its values: fast_period=5,10,20; repeat for more"),
    ] = None,
    metric: Annotated[str, typer.Option(help="statistic to rank by")] = "sharpe",
    ascending: Annotated[
        bool, typer.Option(help="lower is better (e.g. for max_drawdown)")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="processes (default: CPUs)")] = None,
    data: DataOpt = None,
    instrument_id: InstrumentIdOpt = None,
    bar_spec: BarSpecOpt = "1m",
    file_format: FormatOpt = "auto",
    history: HistoryOpt = None,
    param: ParamOpt = None,
    config: ConfigOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    taker_fee: TakerFeeOpt = None,
    maker_fee: MakerFeeOpt = None,
    latency_ms: LatencyOpt = None,
    slippage_bps: SlippageOpt = None,
    seed: SeedOpt = None,
    currency: CurrencyOpt = None,
    balance: BalanceOpt = None,
    limit: LimitOpt = None,
    instrument: InstrumentOpt = None,
    instruments: InstrumentsOpt = None,
    periods_per_year: PeriodsOpt = None,
    spec: SpecOpt = None,
    nats_url: NatsUrlOpt = None,
    nats_user: NatsUserOpt = None,
    nats_password: NatsPasswordOpt = None,
    output: Annotated[
        Path | None, typer.Option(help="directory (default ./backtests/sweep-<id>-<time>)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the rows as JSON")] = False,
) -> None:
    """Run a backtest per combination of --grid values in parallel; rank them by --metric."""
    options = spec_options(locals())
    with _reported():
        values = parse_grid(grid or [])
        if metric not in METRICS:
            raise InvalidBacktest(f"--metric must be one of {', '.join(METRICS)}, was {metric!r}")
        the_spec = build_spec(options, swept=values)
        connection = HistoryConnection.from_env(nats_url, nats_user, nats_password)
        total = len(combinations(values))
        kwargs: dict[str, Any] = {"metric": metric, "descending": not ascending}
        if workers is not None:
            kwargs["workers"] = workers
        if as_json:
            rows = sweep(the_spec, values, connection=connection, **kwargs)
        else:
            with _progress(counted=True) as bar:
                task = bar.add_task("sweep", total=total)
                rows = sweep(
                    the_spec,
                    values,
                    connection=connection,
                    progress=lambda _row: bar.advance(task),
                    **kwargs,
                )
        directory = output or _default_output(f"sweep-{the_spec.config['strategy_id']}")
        json_path, csv_path = write_sweep(rows, list(values), metric, the_spec, directory)
        if as_json:
            document: dict[str, Any] = {"sweep": str(json_path), "csv": str(csv_path)}
            document.update(metric=metric, rows=[r.to_dict() for r in rows])
            typer.echo(json.dumps(document, indent=2, default=str))
        else:
            print_sweep(_out, rows, list(values), metric, json_path, csv_path)


@app.command()
def strategies() -> None:
    """List the strategies installed (entry points of group foxtrot.strategies)."""
    table = Table(title="strategies")
    for column in ("name", "class", "parameters"):
        table.add_column(column, overflow="fold")
    for name, path in sorted(available_strategies().items()):
        try:
            config_fields = resolve_strategy(name).config_class.model_fields
            params = ", ".join(
                f"{key}={'' if f.is_required() else f.default}"
                for key, f in config_fields.items()
                if key not in ("strategy_id", "account_id")
            )
        except StrategyNotFound as exc:
            params = f"[red]cannot load: {exc}[/red]"
        table.add_row(name, path, params)
    _out.print(table)


def main() -> None:
    """The ``foxtrot`` console script."""
    app()


# --- running and printing -------------------------------------------------------------------


@contextmanager
def _reported() -> Iterator[None]:
    """Turn the errors a user can cause or meet into one line on stderr and an exit code."""
    try:
        yield
    except InvalidBacktest as exc:
        _fail(str(exc), 2)
    except HistoryUnavailable as exc:
        _fail(str(exc), 1)
    except FoxtrotError as exc:
        _fail(f"{type(exc).__name__}: {exc}", 1)
    except OSError as exc:
        _fail(f"{exc.filename or ''} {exc.strerror or exc}".strip(), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail(message: str, code: int) -> NoReturn:
    # Plain text, not rich: one line however narrow the terminal.
    typer.echo(f"foxtrot: error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def _progress(*, counted: bool) -> Progress:
    """A bar on stderr: of combinations done (counted), or of records and simulated time."""
    middle = (
        MofNCompleteColumn()
        if counted
        else TextColumn("{task.fields[records]:>12,} records  {task.fields[date]}")
    )
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        middle,
        TimeElapsedColumn(),
        console=_err,
        transient=True,
        disable=not _err.is_terminal,  # a log file gets the summary, not redraws
    )


def _run_with_progress(spec: BacktestSpec, connection: HistoryConnection) -> BacktestRun:
    start = parse_bound(spec.start, "start")
    end = parse_bound(spec.end, "end")
    with _progress(counted=False) as bar:
        # The records' count is not known ahead; simulated time is when both ends are.
        total = (end - start) // 1_000_000_000 if start is not None and end is not None else None
        task = bar.add_task(str(spec.config["strategy_id"]), total=total, records=0, date="")

        def progress(records: int, ts: int) -> None:
            done = (ts - start) // 1_000_000_000 if total is not None and start else None
            bar.update(task, completed=done, records=records, date=iso_minute(ts))

        return run_backtest(spec, progress=progress, connection=connection)


def _default_output(name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = Path("backtests") / f"{name}-{stamp}"
    n = 2
    while directory.exists():
        directory = Path("backtests") / f"{name}-{stamp}-{n}"
        n += 1
    return directory


if __name__ == "__main__":  # pragma: no cover
    main()
