"""The foxtrot command as a user runs it: a backtest writes its result and report, a sweep
its ranked table, and bad input ends with one line on stderr and exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from foxtrot.backtest.cli import app

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = SHARED_DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
CME_BARS = SHARED_DATA / "bars" / "intraday" / "cme_6EH4_1m_2024-01.csv.gz"
TARDIS_TRADES = SHARED_DATA / "trades" / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
needs_shared_data = pytest.mark.skipif(not FTX_BARS.exists(), reason="no ../shared/data")

FTX = ["--data", str(FTX_BARS), "--instrument-id", "BTC-PERP.FTX"]
CME = ["--data", str(CME_BARS), "--instrument-id", "6EH4.CME"]
WINDOW = ["--start", "2022-01-05", "--end", "2022-01-08"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@needs_shared_data
def test_backtest_writes_result_json_and_report_html(tmp_path: Path) -> None:
    code, out, err = _run(
        "backtest", "sma_cross", *FTX, *WINDOW, "--param", "trade_size=0.5",
        "--taker-fee", "0.0005", "--output", str(tmp_path), "--json",
    )  # fmt: skip

    assert code == 0, err
    outcome = json.loads(out)
    document = json.loads((tmp_path / "result.json").read_text())
    assert (tmp_path / "report.html").stat().st_size > 0
    assert outcome["fills"] > 0
    assert outcome["fills"] == len(document["fills"]) == document["statistics"]["fills"]
    assert outcome["records"] == document["run"]["records"] == 3 * 24 * 60
    settings = document["settings"]
    assert settings["config"] == {
        "strategy_id": "sma_cross",
        "instrument_id": "BTC-PERP.FTX",
        "bar_spec": "1m",
        "trade_size": "0.5",
    }
    assert settings["venue"]["taker_fee"] == "0.0005"
    assert settings["venue"]["settlement_currency"] == "USD"
    assert settings["starting_balances"] == {"USD": "100000"}


@needs_shared_data
def test_backtest_prints_a_summary_table_and_where_the_files_are(tmp_path: Path) -> None:
    code, out, err = _run("backtest", "sma_cross", *FTX, *WINDOW, "--output", str(tmp_path))

    assert code == 0, err
    assert "Sharpe" in out
    assert "max drawdown" in out
    assert f"report: {tmp_path / 'report.html'}" in out


@needs_shared_data
def test_a_backtest_repeated_from_its_result_json_gives_the_same_fills(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    code, _, err = _run("backtest", "sma_cross", *FTX, *WINDOW, "--output", str(first), "--json")
    assert code == 0, err

    code, _, err = _run("backtest", "--spec", str(first / "result.json"), "--output",
                        str(second), "--json")  # fmt: skip

    assert code == 0, err
    fills = [json.loads((d / "result.json").read_text())["fills"] for d in (first, second)]
    assert fills[0] == fills[1]


@needs_shared_data
def test_trades_of_a_usdt_pair_settle_in_usdt(tmp_path: Path) -> None:
    code, _, err = _run(
        "backtest", "sma_cross", "--data", str(TARDIS_TRADES), "--bar-spec", "1m",
        "--param", "trade_size=0.01", "--output", str(tmp_path), "--json",
    )  # fmt: skip

    assert code == 0, err
    settings = json.loads((tmp_path / "result.json").read_text())["settings"]
    assert settings["config"]["instrument_id"] == "BTCUSDT.BINANCE-FUTURES"
    assert settings["venue"]["settlement_currency"] == "USDT"
    assert settings["starting_balances"] == {"USDT": "100000"}


@needs_shared_data
def test_instrument_rules_given_in_part_are_completed_from_the_data(tmp_path: Path) -> None:
    code, _, err = _run(
        "backtest", "sma_cross", "--data", str(CME_BARS), "--instrument-id", "6EH4.CME",
        "--instrument", "6EH4.CME:base=EUR,quote=USD,lot=1", "--param", "trade_size=1",
        "--end", "2024-01-03", "--output", str(tmp_path), "--json",
    )  # fmt: skip

    assert code == 0, err
    settings = json.loads((tmp_path / "result.json").read_text())["settings"]
    (rules,) = settings["instruments"]
    assert (rules["base_currency"], rules["quote_currency"]) == ("EUR", "USD")
    assert (rules["tick_size"], rules["lot_size"]) == ("0.00001", "1")


def test_history_out_of_reach_exits_1_with_one_line(tmp_path: Path) -> None:
    code, _, err = _run(
        "backtest", "sma_cross", "--history", "BTC-PERP.FTX:1m",
        "--nats-url", "nats://127.0.0.1:1", "--output", str(tmp_path),
    )  # fmt: skip

    assert code == 1
    assert err.startswith("foxtrot: error: cannot connect to NATS at 127.0.0.1:1")
    assert err.count("\n") == 1


@needs_shared_data
def test_sweep_prints_the_ranked_table_and_writes_json_and_csv(tmp_path: Path) -> None:
    code, out, err = _run(
        "sweep", "sma_cross", *FTX, *WINDOW, "--grid", "fast_period=5,40",
        "--grid", "slow_period=30", "--workers", "2", "--output", str(tmp_path),
    )  # fmt: skip

    assert code == 0, err
    assert "sweep ranked by sharpe" in out
    document = json.loads((tmp_path / "sweep.json").read_text())
    assert [row["ok"] for row in document["rows"]] == [True, False]
    with (tmp_path / "sweep.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rank"], r["fast_period"]) for r in rows] == [("1", "5"), ("2", "40")]
    assert "need fast_period < slow_period" in rows[1]["error"]


def test_strategies_lists_the_installed_ones() -> None:
    code, out, _ = _run("strategies")

    assert code == 0
    assert "sma_cross" in out
    assert "foxtrot.core.strategies.sma_cross:SmaCross" in out
    assert "fast_period=10" in out


@needs_shared_data
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "no_such", *FTX], "strategy must be an entry point name"),
        (["backtest", "sma_cross", *FTX, "--param", "fast_period=99"], "need fast_period <"),
        (["backtest", "sma_cross", *FTX, "--param", "speed=3"], "speed: Extra inputs"),
        (["backtest", "sma_cross", *FTX, "--param", "fast"], "--param must be key=value"),
        (["backtest", "sma_cross", "--data", "/nowhere.csv"], "/nowhere.csv does not exist"),
        (["backtest", "sma_cross", "--data", str(FTX_BARS)], "names no instrument"),
        (["backtest", "sma_cross", *CME], "--instrument 6EH4.CME:base="),
        (["backtest", "sma_cross", *FTX, "--limit", "max_sizes=1"], "max_sizes: no such limit"),
        (["backtest", "sma_cross", *FTX, "--taker-fee", "cheap"], "--taker-fee must be a decimal"),
        (["backtest", "sma_cross"], "give the data"),
        (["backtest", "sma_cross", *FTX, "--config", "/nowhere.json"], "--config /nowhere.json"),
        (["sweep", "sma_cross", *FTX, "--grid", "fast_period=5", "--metric", "luck"], "metric"),
        (["sweep", "sma_cross", *FTX], "give at least one --grid"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(args: list[str], message: str) -> None:
    code, out, err = _run(*args)

    assert code == 2
    assert err.startswith("foxtrot: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in out + err


def _instruments_file(path: Path, rules: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps(rules))
    return path


BTC_PERP_RULES = {
    "instrument_id": "BTC-PERP.FTX",
    "base_currency": "BTC-PERP",
    "quote_currency": "USD",
    "tick_size": "0.01",
    "lot_size": "0.0001",
    "min_quantity": "0.0001",
}
ETH_RULES = {**BTC_PERP_RULES, "instrument_id": "ETHUSDT.BINANCE", "quote_currency": "USDT"}


@needs_shared_data
def test_instruments_file_gives_the_rules_of_the_instruments_in_the_data(tmp_path: Path) -> None:
    rules = _instruments_file(tmp_path / "instruments.json", [ETH_RULES, BTC_PERP_RULES])

    code, _, err = _run(
        "backtest", "sma_cross", *FTX, *WINDOW, "--instruments", str(rules),
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip

    assert code == 0, err
    settings = json.loads((tmp_path / "out" / "result.json").read_text())["settings"]
    (listed,) = settings["instruments"]  # ETHUSDT.BINANCE is not in the data
    assert listed == {**BTC_PERP_RULES, "max_quantity": None, "min_notional": None}
    assert settings["venue"]["settlement_currency"] == "USD"


@needs_shared_data
def test_an_instrument_option_overrides_the_instruments_file_for_its_id(tmp_path: Path) -> None:
    rules = _instruments_file(tmp_path / "instruments.json", [BTC_PERP_RULES])

    code, _, err = _run(
        "backtest", "sma_cross", *FTX, *WINDOW, "--instruments", str(rules),
        "--instrument", "BTC-PERP.FTX:min_qty=0.01,lot=0.01", "--param", "trade_size=0.5",
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip

    assert code == 0, err
    settings = json.loads((tmp_path / "out" / "result.json").read_text())["settings"]
    (listed,) = settings["instruments"]
    assert (listed["min_quantity"], listed["lot_size"]) == ("0.01", "0.01")
    assert (listed["base_currency"], listed["tick_size"]) == ("BTC-PERP", "0.01")  # the file's


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"instrument_id": ', "is not JSON"),
        (json.dumps([{**BTC_PERP_RULES, "tick_size": "fine"}]), "tick_size: Input should be"),
        (json.dumps([{**BTC_PERP_RULES, "colour": "red"}]), "colour: Extra inputs"),
    ],
)
def test_a_bad_instruments_file_exits_2_with_one_line_naming_it(
    tmp_path: Path, content: str, message: str
) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text("ts_event,instrument_id,price,size,aggressor_side\n1,BTCUSD.X,1,1,BUYER\n")
    rules = tmp_path / "instruments.json"
    rules.write_text(content)

    code, out, err = _run("backtest", "sma_cross", "--data", str(trades), "--instruments",
                          str(rules), "--output", str(tmp_path / "out"))  # fmt: skip

    assert code == 2
    assert err.startswith(f"foxtrot: error: instruments file {rules}")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in out + err
