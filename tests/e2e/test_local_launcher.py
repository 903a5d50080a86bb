"""`make run`'s launcher on its embedded defaults: up, serving, and Ctrl-C leaves nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nats
import psutil
import pytest

from foxtrot.common.local.processes import free_port

pytestmark = pytest.mark.e2e

LAUNCHER = Path(sys.executable).parent / "foxtrot-local"


def test_cli_lists_the_run_command() -> None:
    result = subprocess.run([str(LAUNCHER), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout


def _ours(state_dir: Path, launcher_pid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid", "ppid", "cmdline", "environ"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            env = proc.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        launched = launcher_pid in (proc.pid, proc.info["ppid"])
        if launched or str(state_dir) in cmdline or str(state_dir) in " ".join(env.values()):
            found.append(proc)
    return [p for p in found if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_launcher_serves_orders_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    state_dir = tmp_path / "run"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    launcher = subprocess.Popen(
        [
            str(LAUNCHER),
            "run",
            "--replay",
            "synthetic",
            "--speed",
            "0",
            "--limit",
            "400",
            "--state-dir",
            str(state_dir),
            "--gateway-port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        assert launcher.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            lines.append(line)
            if "Foxtrot is up" in line or not line:
                break
        assert any("Foxtrot is up" in line for line in lines), "".join(lines)
        assert f"http://127.0.0.1:{port}" in "".join(lines)

        orders: list[dict[str, object]] = []
        while time.monotonic() < deadline and not orders:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/orders") as response:
                orders = json.load(response)
            time.sleep(0.5)
        assert orders
        # A market order fills at the next bar's open: the newest may still be waiting.
        assert all(o["status"] in ("FILLED", "ACCEPTED") for o in orders), orders
        assert any(o["status"] == "FILLED" for o in orders) or len(orders) == 1
        env_file = (state_dir / "nats.env").read_text()
        assert asyncio.run(_ingest_with_the_written_urls(env_file)) == "7.5"

        running = _ours(state_dir, launcher.pid)
        names = " ".join(" ".join(p.cmdline()) for p in running)
        for expected in ("nats-server", "postgres", "foxtrot.gateway", "foxtrot.execution"):
            assert expected in names

        launcher.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output, _ = launcher.communicate(timeout=60)
        assert launcher.returncode == 0, output
        assert "stopped; no process left behind" in output
        _, alive = psutil.wait_procs(running, timeout=10)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_a_service_still_waiting_for_nats_stops_at_once_on_sigterm() -> None:
    env = {
        **os.environ,
        "NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "DATABASE_URL": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none",
        "FOXTROT_HTTP_PORT": str(free_port()),
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "foxtrot.risk"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert service.stderr is not None
        started = ""
        while "Waiting for application startup" not in started:
            line = service.stderr.readline()
            assert line, "the service exited before starting"
            started += line
        time.sleep(1.5)  # connecting, and retrying: nothing listens there
        assert service.poll() is None
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=5)
        assert service.returncode == 128 + signal.SIGTERM
        assert "during start-up" in err
    finally:
        if service.poll() is None:
            service.kill()


async def _ingest_with_the_written_urls(env_file: str) -> str:
    """What the README does with nats.env: publish a trade as the ingest user, read it back
    from its trade batch with the admin URL; the trade's price."""
    urls = dict(
        line.removeprefix("export ").replace("'", "").split("=", 1)
        for line in env_file.splitlines()
    )
    reader, ingest = (
        await nats.connect(urls["FOXTROT_NATS_URL"]),
        await nats.connect(urls["FOXTROT_NATS_INGEST_URL"]),
    )
    try:
        batches = await reader.subscribe("md.v1.trades.LOCAL.TEST")
        await reader.flush()
        trade = {"price": "7.5", "size": "1", "ts_event": time.time_ns(), "trade_id": "r1"}
        await ingest.publish("md.v1.ingest.trade.LOCAL.TEST", json.dumps(trade).encode())
        batch = json.loads((await batches.next_msg(timeout=20)).data)
        return str(batch["trades"][0]["price"])
    finally:
        await reader.close()
        await ingest.close()
