"""Bars from market_data's history over NATS (``qry.v1.md.bars``), fetched page by page.

A stored bar's ``ts_init`` is its close (``ts_event``): history keeps no receive time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from foxtrot.backtest.spec import HistorySource, InvalidBacktest
from foxtrot.common.errors import InfrastructureError, QueryError, QueryUnanswered
from foxtrot.common.messages.v1 import BarsQuery, BarsReply, HistoricalBar
from foxtrot.common.settings import ServiceSettings
from foxtrot.core.data import Bar
from foxtrot.core.errors import InvalidIdentifier
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "BarsAsker",
    "HistoryConnection",
    "HistoryUnavailable",
    "fetch_histories",
    "fetch_history",
    "market_data_history",
]

BarsAsker = Callable[[BarsQuery], Awaitable[BarsReply]]
"""Sends one BarsQuery to market_data and returns its reply (``foxtrot.common.queries.ask``)."""


class HistoryUnavailable(InfrastructureError):
    """market_data's bar history could not be reached, or it did not answer."""


@dataclass(frozen=True, slots=True)
class HistoryConnection:
    """How to reach market_data's bar history: NATS and a user that may ask for bars
    (``gateway``, ``strategy`` or ``admin`` in foxtrot.common.access)."""

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: str | None = None
    timeout_s: float = 10.0

    @classmethod
    def from_env(
        cls,
        nats_url: str | None = None,
        nats_user: str | None = None,
        nats_password: str | None = None,
    ) -> HistoryConnection:
        """Given values, else ``NATS_URL``, ``FOXTROT_NATS_USER``, ``FOXTROT_NATS_PASSWORD``."""
        env = ServiceSettings()
        return cls(
            nats_url or env.nats_url,
            nats_user or env.nats_user,
            nats_password or env.nats_password,
        )

    def servers(self) -> list[str]:
        """The NATS URLs with the credentials folded in."""
        settings = ServiceSettings.model_validate(
            {"NATS_URL": self.nats_url, "nats_user": self.nats_user,
             "nats_password": self.nats_password}
        )  # fmt: skip
        return settings.nats_servers()


@asynccontextmanager
async def market_data_history(connection: HistoryConnection) -> AsyncIterator[BarsAsker]:
    """A connection to NATS, as a function that asks market_data for one page of bars."""
    # Imported here: a backtest of files (and each sweep worker) needs no NATS client.
    from faststream.nats import NatsBroker

    from foxtrot.common.broker import inbox_prefix
    from foxtrot.common.queries import ask
    from foxtrot.common.subjects import QRY_MD_BARS

    servers = connection.servers()
    # Replies come back on the user's own inbox, the only one its permissions allow; the
    # user is given on its own or inline in the URL.
    inline = urlsplit(servers[0]).username if servers else None
    user = connection.nats_user or (unquote(inline) if inline else None)
    errors: list[Exception] = []

    async def remember(error: Exception) -> None:  # instead of nats-py's logged tracebacks
        errors.append(error)

    broker = NatsBroker(
        servers,
        name="foxtrot-backtest",
        inbox_prefix=inbox_prefix(user) if user else "_INBOX",
        # Fail fast: two tries at each server, then NoServersError (0 would mean forever).
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0,
        connect_timeout=max(1, int(connection.timeout_s)),
        error_cb=remember,
    )
    hosts = ",".join(urlsplit(s).netloc.rpartition("@")[2] for s in servers)
    where = f"{hosts} as {user or 'no user'}"  # never the password
    try:
        await asyncio.wait_for(broker.connect(), 2 * connection.timeout_s + 1)
    except Exception as exc:  # nats-py raises several kinds; all mean "not reachable"
        cause = errors[-1] if errors else exc
        reason = str(cause) or type(cause).__name__
        raise HistoryUnavailable(f"cannot connect to NATS at {where}: {reason}") from None

    async def ask_bars(query: BarsQuery) -> BarsReply:
        try:
            return await ask(broker, QRY_MD_BARS, query, BarsReply, connection.timeout_s)
        except QueryUnanswered:
            raise HistoryUnavailable(
                f"market_data did not answer {QRY_MD_BARS} within {connection.timeout_s}s on "
                f"{where}: is market_data running with its history (DATABASE_URL), and may "
                "this NATS user send queries (gateway, strategy or admin)?"
            ) from None
        except QueryError as exc:
            raise HistoryUnavailable(f"market_data refused the bars query: {exc}") from None

    try:
        yield ask_bars
    finally:
        await broker.stop()


async def fetch_history(
    source: HistorySource,
    ask_bars: BarsAsker,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    page_size: int = 5_000,
) -> list[Bar]:
    """Every stored bar of the source closing in ``[start_ns, end_ns)``, oldest first,
    following ``next_after_ts`` page by page."""
    try:
        instrument_id = InstrumentId.parse(source.instrument_id)
        query = BarsQuery(
            instrument_id=source.instrument_id,
            spec=source.bar_spec,
            start_ns=start_ns,
            end_ns=end_ns,
            limit=page_size,
        )
    except (InvalidIdentifier, ValidationError) as exc:
        raise InvalidBacktest(f"history {source.instrument_id}:{source.bar_spec}: {exc}") from None
    bars: list[Bar] = []
    while True:
        reply = await ask_bars(query)
        bars.extend(_bar(instrument_id, source.bar_spec, b) for b in reply.bars)
        cursor = reply.next_after_ts
        if cursor is None:
            break
        if query.after_ts is not None and cursor <= query.after_ts:
            raise HistoryUnavailable(
                f"market_data's bars cursor went back from {query.after_ts} to {cursor}"
            )
        query = query.model_copy(update={"after_ts": cursor})
    return bars


async def fetch_histories(
    wanted: Mapping[int, HistorySource],
    *,
    start_ns: int | None,
    end_ns: int | None,
    connection: HistoryConnection,
    ask_bars: BarsAsker | None = None,
) -> dict[int, list[Bar]]:
    """The bars of each source by its key, through ``ask_bars`` if given, else over NATS
    as ``connection`` says; a source without bars in the window is an InvalidBacktest."""

    async def fetch(ask: BarsAsker) -> dict[int, list[Bar]]:
        fetched: dict[int, list[Bar]] = {}
        for i, source in wanted.items():
            fetched[i] = await fetch_history(source, ask, start_ns=start_ns, end_ns=end_ns)
            if not fetched[i]:
                raise InvalidBacktest(
                    f"market_data holds no {source.bar_spec} bars of {source.instrument_id}"
                    " in the window"
                )
        return fetched

    if ask_bars is not None:
        return await fetch(ask_bars)
    async with market_data_history(connection) as ask:
        return await fetch(ask)


def _bar(instrument_id: InstrumentId, spec: str, bar: HistoricalBar) -> Bar:
    return Bar(
        instrument_id,
        spec,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
        bar.ts_event,
        bar.ts_event,  # history keeps no receive time; a bar is known at its close
        bar.vwap,
        bar.trade_count,
        bar.ts_open,
    )
