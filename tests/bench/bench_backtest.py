"""The backtester on real data, beside backtrader running the same strategy on the same
bars in the same process.

    .venv/bin/python tests/bench/bench_backtest.py [N]      # best of N runs, 5 by default

1. Bars: the SMA-crossover strategy (foxtrot.core.strategies.sma_cross, fast 10, slow 30,
   trade size 0.01) on the 45,031 real FTX BTC-PERP 1-minute bars in ../shared/data,
   through BacktestEngine: the strategy runtime, risk's RiskBook, the execution engine and
   the simulated venue, as every backtest runs. The bars are parsed into memory first; the
   parse is timed apart, beside pandas.read_csv of the same file.
2. The baseline: backtrader 1.9.78 in this process, the same strategy (bt.indicators.SMA
   10/30, bt.indicators.CrossOver; buy 0.01 when flat on a cross up, close when long on a
   cross down), fed the same bars from a DataFrame built before the clock starts, with
   cerebro's defaults (runonce, preload, standard observers), market orders filling at the
   next bar's open (cheat-on-close off). Both charge the same commission: 4 bps of the
   notional, the simulated venue's default taker fee.
3. Both must give the same signals (signal bar and side; Foxtrot's client order ids carry
   the signal bar's ts_event) and the same trades (entry and exit bar, price and P&L after
   commission). Exits 1 if they differ: the speed of a backtest that trades differently
   says nothing. Every close in the file is a multiple of 1/8, so each SMA window sum is
   exact in a float, both ways (Foxtrot's running sum, backtrader's fsum): fast and slow
   compare the same in both, with no floating-point ties to explain away.
4. Trades: 9,999 real Binance futures trades (Tardis) through the backtester, with a small
   EMA-crossover strategy on trade prices (below) so that orders and fills happen; records
   per second beside the same replay with no strategy.

Runs alternate (Foxtrot, backtrader, Foxtrot, ...) so that a noisy neighbour slows both;
each figure is the best of N runs, the median beside it. Target: Foxtrot at least 25x
backtrader's bars per second.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import backtrader as bt
import pandas as pd
from pydantic import Field

from foxtrot.common.market_files.formats import read_records
from foxtrot.core.backtest import BacktestEngine, BacktestResult
from foxtrot.core.data import Bar, TradeTick
from foxtrot.core.enums import OrderSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.strategies.sma_cross import SmaCross, SmaCrossConfig
from foxtrot.core.strategy import Strategy, StrategyConfig
from foxtrot.core.venue import SimulatedVenue

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BARS = DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
TRADES = DATA / "trades" / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
BAR_IID = InstrumentId("BTC-PERP", "FTX")
TRADE_IID = InstrumentId("BTCUSDT", "BINANCE-FUTURES")
FAST, SLOW = 10, 30
TRADE_SIZE = Decimal("0.01")
FEE = Decimal("0.0004")  # the simulated venue's default taker fee, charged by both
CASH = Decimal(100_000)
TARGET_RATIO = 25.0

Signal = tuple[int, str]  # (signal bar's ts_event, side)
Trade = tuple[int, float, int, float, float]  # entry ts, entry px, exit ts, exit px, P&L


# --- Foxtrot ---------------------------------------------------------------------------------


def parse_bars() -> list[Bar]:
    """The bar file read into memory, as BacktestEngine.run takes it."""
    return cast(list[Bar], list(read_records(BARS, "bars_csv", BAR_IID, "1m")))  # bars_csv: bars


def bar_engine() -> BacktestEngine:
    """A backtest of SmaCross 10/30 on BTC-PERP, as a user would set it up."""
    instrument = Instrument(BAR_IID, "BTC", "USD", Decimal(1), Decimal("0.0001"), Decimal("0.0001"))
    engine = BacktestEngine(
        venue=SimulatedVenue("FTX", "USD", taker_fee=FEE),
        instruments=[instrument],
        starting_balances={"USD": CASH},
    )
    config = SmaCrossConfig(
        strategy_id="sma",
        instrument_id=str(BAR_IID),
        fast_period=FAST,
        slow_period=SLOW,
        trade_size=TRADE_SIZE,
    )
    engine.add_strategy(SmaCross(config))
    return engine


def foxtrot_signals(result: BacktestResult) -> list[Signal]:
    """(signal bar, side) of every order: its client order id is ``sma-{ts_event}-{n}``."""
    out = []
    for order in result.orders:
        _, ts, _ = str(order.client_order_id).rsplit("-", 2)
        out.append((int(ts), order.spec.side.value))
    return sorted(out)


def foxtrot_trades(result: BacktestResult) -> list[Trade]:
    """Round trips from the fills: a buy opens, the sell after it closes."""
    trades: list[Trade] = []
    entry = None
    for fill in result.fills:
        if fill.side is OrderSide.BUY:
            entry = fill
            continue
        assert entry is not None, f"a sell fill {fill.client_order_id} with no buy before it"
        pnl = (fill.last_px - entry.last_px) * fill.last_qty - entry.commission - fill.commission
        trades.append(
            (
                entry.ts_event,
                float(entry.last_px),
                fill.ts_event,
                float(fill.last_px),
                float(pnl),
            )
        )
        entry = None
    return trades


# --- backtrader, the baseline ----------------------------------------------------------------


class BtSmaCross(bt.Strategy):  # type: ignore[misc]
    """SmaCross in backtrader: the same rule, recording its signals and round trips."""

    def __init__(self) -> None:
        fast = bt.indicators.SMA(self.data.close, period=FAST)
        slow = bt.indicators.SMA(self.data.close, period=SLOW)
        self.cross = bt.indicators.CrossOver(fast, slow)
        self.signals: list[tuple[int, str, float]] = []  # (bar index, side, bar time)
        self.fills: list[tuple[int, str, float]] = []  # (bar index, side, price)
        self.pnls: list[float] = []

    def next(self) -> None:
        if self.cross[0] > 0 and not self.position:
            self.buy(size=float(TRADE_SIZE))
            self.signals.append((len(self.data) - 1, "BUY", self.data.datetime[0]))
        elif self.cross[0] < 0 and self.position:
            self.close()
            self.signals.append((len(self.data) - 1, "SELL", self.data.datetime[0]))

    def notify_order(self, order: Any) -> None:
        if order.status == order.Completed:
            side = "BUY" if order.isbuy() else "SELL"
            self.fills.append((len(self.data) - 1, side, order.executed.price))

    def notify_trade(self, trade: Any) -> None:
        if trade.isclosed:
            self.pnls.append(trade.pnlcomm)


def bt_frame(bars: Sequence[Bar]) -> pd.DataFrame:
    """The bars as backtrader's PandasData takes them, indexed by each bar's close time."""
    return pd.DataFrame(
        {
            "open": [float(b.open) for b in bars],
            "high": [float(b.high) for b in bars],
            "low": [float(b.low) for b in bars],
            "close": [float(b.close) for b in bars],
            "volume": [float(b.volume) for b in bars],
        },
        index=pd.to_datetime([b.ts_event for b in bars], unit="ns"),
    )


def bt_cerebro(frame: pd.DataFrame) -> Any:
    cerebro = bt.Cerebro()
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(BtSmaCross)
    cerebro.broker.setcash(float(CASH))
    cerebro.broker.setcommission(commission=float(FEE))
    return cerebro


def bt_signals(strategy: BtSmaCross, bars: Sequence[Bar]) -> list[Signal]:
    """(signal bar, side), the bar found by its index and checked against backtrader's time."""
    for i, _, when in strategy.signals:
        seconds = bt.num2date(when).replace(tzinfo=UTC).timestamp()
        assert abs(seconds - bars[i].ts_event / 1e9) < 1, f"bar {i} is not at {when}"
    return sorted((bars[i].ts_event, side) for i, side, _ in strategy.signals)


def bt_trades(strategy: BtSmaCross, bars: Sequence[Bar]) -> list[Trade]:
    trades: list[Trade] = []
    entry: tuple[int, str, float] | None = None
    for fill in strategy.fills:
        if fill[1] == "BUY":
            entry = fill
            continue
        assert entry is not None, f"a sell at bar {fill[0]} with no buy before it"
        pnl = strategy.pnls[len(trades)]
        trades.append((bars[entry[0]].ts_event, entry[2], bars[fill[0]].ts_event, fill[2], pnl))
        entry = None
    return trades


# --- the trades run --------------------------------------------------------------------------


class TradeEmaCrossConfig(StrategyConfig):
    """Parameters of the trade-price EMA crossover."""

    instrument_id: str = Field(description="SYMBOL.VENUE of the instrument traded")
    fast_period: int = Field(default=20, ge=1, description="trades in the fast EMA")
    slow_period: int = Field(default=100, ge=2, description="trades in the slow EMA")
    trade_size: Decimal = Field(default=Decimal("0.01"), gt=0, description="quantity bought")


class TradeEmaCross(Strategy[TradeEmaCrossConfig]):
    """Long-or-flat crossover of two EMAs of trade prices, traded with market orders."""

    config_class = TradeEmaCrossConfig

    def __init__(self, config: TradeEmaCrossConfig) -> None:
        super().__init__(config)
        self.instrument = InstrumentId.parse(config.instrument_id)
        self._fast_alpha = 2.0 / (config.fast_period + 1)
        self._slow_alpha = 2.0 / (config.slow_period + 1)
        self._fast: float | None = None
        self._slow = 0.0
        self._seen = 0
        self._was_above: bool | None = None

    def on_start(self) -> None:
        self.subscribe_trades(self.instrument)

    def on_trade(self, trade: TradeTick) -> None:
        price = float(trade.price)
        if self._fast is None:
            self._fast = self._slow = price
        self._fast += self._fast_alpha * (price - self._fast)
        self._slow += self._slow_alpha * (price - self._slow)
        self._seen += 1
        if self._seen < self.config.slow_period or self._fast == self._slow:
            return
        above = self._fast > self._slow
        crossed = self._was_above is not None and above != self._was_above
        self._was_above = above
        if not crossed or self.orders_open(self.instrument):
            return
        net = self.net_position(self.instrument)
        if above and net == 0:
            self.market(self.instrument, OrderSide.BUY, self.config.trade_size)
        elif not above and net > 0:
            self.market(self.instrument, OrderSide.SELL, net)


def trade_engine(with_strategy: bool) -> BacktestEngine:
    instrument = Instrument(
        TRADE_IID, "BTC", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001")
    )
    engine = BacktestEngine(
        venue=SimulatedVenue("BINANCE-FUTURES", "USDT", taker_fee=FEE),
        instruments=[instrument],
        starting_balances={"USDT": CASH},
    )
    if with_strategy:
        config = TradeEmaCrossConfig(strategy_id="ema", instrument_id=str(TRADE_IID))
        engine.add_strategy(TradeEmaCross(config))
    return engine


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds per run of one thing, over the repeats."""

    label: str
    seconds: list[float]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def line(self, count: int, unit: str) -> str:
        return (
            f"  {self.label:<42} {count / self.best:>11,.0f} {unit}/s"
            f"  (median {count / self.median:,.0f})"
        )


def timed(run: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds ``run(*args)`` took, and what it returned; the garbage of earlier runs is
    collected first, so that neither side pays for the other's."""
    gc.collect()
    start = time.perf_counter()
    out = run(*args)
    return time.perf_counter() - start, out


def compare(name: str, ours: Sequence[Any], theirs: Sequence[Any], close: bool = False) -> bool:
    """Print whether two lists agree; on a difference, the first few that differ."""

    def same(a: Any, b: Any) -> bool:
        if not close:
            return bool(a == b)
        return (
            a[0] == b[0]
            and a[2] == b[2]
            and all(abs(x - y) <= 1e-6 for x, y in ((a[1], b[1]), (a[3], b[3]), (a[4], b[4])))
        )

    if len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs, strict=True)):
        print(f"  {name}: the same {len(ours):,} in both")
        return True
    print(f"  {name}: DIFFER: Foxtrot {len(ours):,}, backtrader {len(theirs):,}")
    shown = 0
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if not same(a, b):
            print(f"    #{i}: Foxtrot {a}  backtrader {b}")
            shown += 1
            if shown == 5:
                break
    return False


def main(repeats: int) -> int:
    missing = [p for p in (BARS, TRADES) if not p.exists()]
    if missing:
        print(f"needs the market data files {', '.join(map(str, missing))}")
        return 1
    print(
        f"backtests on real data, best of {repeats} runs (median beside it), "
        f"backtrader {bt.__version__} in the same process as the baseline"
    )
    parse = Timings("parse into memory (read_records)", [])
    pandas_parse = Timings("pandas.read_csv of the file (baseline)", [])
    bars: list[Bar] = []
    for _ in range(repeats):
        seconds, records = timed(parse_bars)
        parse.seconds.append(seconds)
        bars = records
        pandas_parse.seconds.append(timed(pd.read_csv, BARS)[0])
    n = len(bars)
    frame = bt_frame(bars)

    ours = Timings("Foxtrot BacktestEngine.run", [])
    theirs = Timings("backtrader cerebro.run (baseline)", [])
    checked: tuple[list[Signal], list[Trade], list[Signal], list[Trade]] | None = None
    orders = fills = 0
    for _ in range(repeats):
        seconds, result = timed(bar_engine().run, bars)
        ours.seconds.append(seconds)
        seconds, strategies = timed(bt_cerebro(frame).run)
        theirs.seconds.append(seconds)
        if checked is None:  # what the runs did, kept from the first; the rest are the same
            orders, fills = len(result.orders), len(result.fills)
            checked = (
                foxtrot_signals(result),
                foxtrot_trades(result),
                bt_signals(strategies[0], bars),
                bt_trades(strategies[0], bars),
            )
        del result, strategies
    assert checked is not None
    ratio = theirs.best / ours.best
    met = ratio >= TARGET_RATIO

    print(f"\nSMA {FAST}/{SLOW} crossover on {n:,} FTX BTC-PERP 1-minute bars ({BARS.name})")
    print(ours.line(n, "bars"))
    print(theirs.line(n, "bars"))
    print(
        f"  Foxtrot / backtrader: {ratio:.1f}x best-of-{repeats} "
        f"({theirs.median / ours.median:.1f}x median); target >= {TARGET_RATIO:.0f}x: "
        f"[{'met' if met else 'NOT met'}]"
    )
    print(f"  orders {orders:,}, fills {fills:,}")
    print(parse.line(n, "bars"))
    print(f"    {parse.best / n * 1e6:.2f} us a bar, {parse.best / ours.best:.2f}x the run's time")
    print(pandas_parse.line(n, "rows"))

    print("\nsignals and trades, next-bar-open fills, 4 bps commission on both")
    our_signals, our_trades, their_signals, their_trades = checked
    agree = compare("signals (bar, side)", our_signals, their_signals)
    agree &= compare(
        "trades (entry, exit: bar and price; P&L after commission)",
        our_trades,
        their_trades,
        close=True,
    )

    trades = list(read_records(TRADES, "tardis_trades", TRADE_IID, ""))
    replay = Timings("replay, no strategy (baseline)", [])
    traded = Timings("EMA 20/100 crossover on trade prices", [])
    trade_result: BacktestResult | None = None
    for _ in range(repeats):
        replay.seconds.append(timed(trade_engine(with_strategy=False).run, trades)[0])
        seconds, trade_result = timed(trade_engine(with_strategy=True).run, trades)
        traded.seconds.append(seconds)
    assert trade_result is not None
    print(f"\ntrades: {len(trades):,} Binance futures BTCUSDT trades ({TRADES.name})")
    print(traded.line(len(trades), "records"))
    print(replay.line(len(trades), "records"))
    print(f"  orders {len(trade_result.orders):,}, fills {len(trade_result.fills):,}")
    if not trade_result.fills:
        print("  FAILED: the trades run traded nothing")
        return 1
    if not agree:
        print("\nFAILED: Foxtrot and backtrader disagree (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
