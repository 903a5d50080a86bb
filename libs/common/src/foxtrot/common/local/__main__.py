"""``foxtrot-local``: run the platform on one machine (what ``make run`` calls)."""

from __future__ import annotations

import json
import signal
import threading
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from foxtrot.common.local.platform import LocalPlatform, PlatformConfig

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.callback()
def _commands() -> None:
    """Run Foxtrot on one machine (``make run`` calls ``foxtrot-local run``)."""


@app.command()
def run(
    replay: Annotated[
        str, typer.Option(help="bar/trade file to replay, or 'synthetic'")
    ] = "synthetic",
    speed: Annotated[
        float, typer.Option(help="replay pace: 1 real time, 0 as fast as possible")
    ] = 600.0,
    limit: Annotated[int | None, typer.Option(help="replay at most N records")] = None,
    state_dir: Annotated[Path, typer.Option(help="where NATS, PostgreSQL and logs live")] = Path(
        ".run"
    ),
    keep_state: Annotated[
        bool, typer.Option(help="keep the last run's streams and database")
    ] = False,
    gateway_port: Annotated[int, typer.Option(help="preferred gateway port")] = 8000,
    nats_url: Annotated[
        str | None, typer.Option(envvar="NATS_URL", help="use this NATS instead")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(envvar="DATABASE_URL", help="use this PostgreSQL instead")
    ] = None,
) -> None:
    """Start NATS, PostgreSQL and the five services; Ctrl-C stops everything."""
    config = PlatformConfig(
        state_dir=state_dir.resolve(),
        nats_url=nats_url,
        database_url=database_url,
        replay_source=replay,
        replay_speed=speed,
        replay_limit=limit,
        fresh=not keep_state,
    )
    config.preferred_ports["gateway"] = gateway_port
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    typer.echo("starting NATS, PostgreSQL and five services ...")
    with LocalPlatform(config) as platform:
        gateway = platform.gateway_url
        typer.echo(f"\nFoxtrot is up. Gateway: {gateway}   (API docs: {gateway}/docs)")
        typer.echo(f"  NATS:       {_redact(platform.nats_url)}")
        typer.echo(f"  PostgreSQL: {platform.database_url}")
        typer.echo(f"  logs:       {platform.log_dir}/")
        typer.echo(f"  try:        curl {gateway}/v1/orders ; curl {gateway}/v1/positions")
        typer.echo(
            f"  your tools: source {config.state_dir / 'nats.env'}   (NATS URLs; see README)"
        )
        typer.echo("Ctrl-C stops everything.\n")
        while not stop.wait(15):
            dead = [name for name, child in platform.children.items() if not child.alive()]
            if dead:
                typer.echo(f"stopping: {', '.join(dead)} exited; see {platform.log_dir}/", err=True)
                raise typer.Exit(1)
            typer.echo(_status(gateway))
        typer.echo("stopping ...")
    typer.echo("stopped; no process left behind.")


def _redact(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def _status(gateway: str) -> str:
    try:
        with urllib.request.urlopen(f"{gateway}/v1/orders?limit=1000", timeout=3) as r:
            orders = json.load(r)
        with urllib.request.urlopen(f"{gateway}/v1/positions", timeout=3) as r:
            positions = json.load(r)
    except OSError as exc:
        return f"status: gateway not answering ({exc})"
    filled = sum(1 for o in orders if o["status"] == "FILLED")
    parts = [
        f"{p['instrument_id']} {p['side']} {p['quantity']} rPnL {p['realized_pnl']}"
        for p in positions
    ]
    return f"orders: {len(orders)} ({filled} filled) | positions: {'; '.join(parts) or 'none'}"


def main() -> None:
    """Entry point of the ``foxtrot-local`` script."""
    app()


if __name__ == "__main__":
    main()
