"""Who may publish and subscribe where: one NATS user per service, enforced by the server.

Orders can reach execution only through risk because only the ``risk`` user may publish
on ``cmd.v1.exec.submit_order``. The same table renders the embedded server's config
(``make run``), ``deploy/nats/nats.conf`` (docker compose, Kubernetes) and the test kit's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["USERS", "NatsUser", "render_authorization"]

# What every JetStream client needs: creating a missing stream, consumers, fetching, acks
# and flow control. Updating, deleting or purging streams is for the admin user only.
_JS_PUBLISH: Final = (
    "$JS.API.INFO",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.CREATE.*",
    "$JS.API.STREAM.MSG.GET.*",
    "$JS.API.DIRECT.GET.>",
    "$JS.API.CONSUMER.>",
    "$JS.ACK.>",
    "$JS.FC.>",
)


@dataclass(frozen=True, slots=True)
class NatsUser:
    """One NATS user and the subjects it may publish and subscribe to."""

    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False
    jetstream_client: bool = True

    def permissions(self) -> dict[str, object]:
        """The user's ``permissions`` block as nats-server expects it."""
        publish = self.publish + (_JS_PUBLISH if self.jetstream_client else ())
        # Replies arrive on the user's own inbox (foxtrot.common.broker.inbox_prefix), so
        # no service can read another's replies.
        inbox = (f"_INBOX.{self.name}.>",) if self.jetstream_client else ()
        block: dict[str, object] = {
            "publish": {"allow": list(publish)},
            "subscribe": {"allow": list(self.subscribe + inbox)},
        }
        if self.allow_responses:
            block["allow_responses"] = True
        return block


_DLQ = "dlq.v1.{}"
# nats-server checks publish permissions after mapping, so whoever may publish ingest input
# also needs its partition subjects (market_data refuses input on the wrong partition).
_INGEST: Final = ("md.v1.ingest.>", "md.v1.ingestp.>")
# market_data's ownership of ingest partitions: leases and checkpoints in two KV buckets.
_MD_KV: Final = ("$KV.FOXTROT_MD_LEASES.>", "$KV.FOXTROT_MD_CHECKPOINTS.>")
USERS: Final[tuple[NatsUser, ...]] = (
    NatsUser(
        "market_data",
        publish=(
            "md.v1.trade.>",
            "md.v1.trades.>",
            "md.v1.quote.>",
            "md.v1.bar.>",
            "md.v1.book.>",
            "md.v1.instrument.>",
            "md.v1.quality.>",
            *_INGEST,
            *_MD_KV,
            _DLQ.format("market_data"),
        ),
        subscribe=("md.v1.>", "qry.v1.md.>"),
        allow_responses=True,
    ),
    NatsUser(
        "strategy",
        publish=(
            "cmd.v1.risk.>",
            "cmd.v1.exec.cancel_order",
            "evt.v1.strategy.*",  # its instances' lifecycle events
            "qry.v1.exec.>",  # its instances' orders and positions, learnt at start
            "qry.v1.md.bars",  # bars from market data's history, for backtests
            _DLQ.format("strategy"),
        ),
        # It answers the control and queries of its instances and backtests.
        subscribe=("md.v1.>", "evt.v1.>", "ctl.v1.strategy.>", "qry.v1.strategy.>"),
        allow_responses=True,
    ),
    NatsUser(
        "risk",
        publish=(
            "cmd.v1.exec.submit_order",
            "cmd.v1.exec.submit_order_list",
            "cmd.v1.exec.modify_order",
            "evt.v1.order.*",
            "evt.v1.risk.>",
            "qry.v1.exec.>",  # what execution holds, learnt at start
            _DLQ.format("risk"),
        ),
        subscribe=("cmd.v1.risk.>", "md.v1.>", "evt.v1.>", "qry.v1.risk.>"),
        allow_responses=True,
    ),
    NatsUser(
        "execution",
        publish=(
            "evt.v1.order.*",
            "evt.v1.position.*",
            "evt.v1.account.*",
            _DLQ.format("execution"),
        ),
        subscribe=("cmd.v1.exec.>", "md.v1.>", "evt.v1.>", "qry.v1.exec.>"),
        allow_responses=True,
    ),
    NatsUser(
        "gateway",
        publish=(
            "cmd.v1.risk.>",
            "cmd.v1.exec.cancel_order",
            "ctl.v1.strategy.>",  # starts, stops, reloads strategy instances; runs backtests
            "qry.v1.>",
            _DLQ.format("gateway"),
        ),
        subscribe=("md.v1.>", "evt.v1.>"),
    ),
    # External tools: publish raw market data for market_data to validate, nothing else.
    NatsUser("ingest", publish=_INGEST, subscribe=(), jetstream_client=False),
)
ADMIN: Final = "admin"


def render_authorization(passwords: Mapping[str, str]) -> str:
    """The ``authorization`` block for nats.conf.

    ``passwords`` maps each user (and ``admin``, which may do anything) to its password
    or to a ``$VARIABLE`` that nats-server reads from its environment.
    """
    entries = []
    for user in USERS:
        entries.append(_entry(user.name, passwords[user.name], user.permissions()))
    entries.append(_entry(ADMIN, passwords[ADMIN], None))
    return "authorization {\n  users = [\n" + ",\n".join(entries) + "\n  ]\n}\n"


def _entry(name: str, password: str, permissions: dict[str, object] | None) -> str:
    secret = password if password.startswith("$") else json.dumps(password)
    line = f"    {{user: {json.dumps(name)}, password: {secret}"
    if permissions is not None:
        line += f", permissions: {json.dumps(permissions)}"
    return line + "}"
