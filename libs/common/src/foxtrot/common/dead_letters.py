"""Dead letters: input a service could not process, kept with the reason, never dropped.

The original bytes go to ``dlq.v1.{service}`` (a JetStream stream) with headers that say
why, where they came from and, when the sender traced them, the trace they belong to.
"""

from __future__ import annotations

import logging
from typing import Final

from faststream.nats import NatsBroker
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from foxtrot.common import subjects
from foxtrot.common.streams import DEAD_LETTERS

__all__ = ["REASON_HEADER", "SOURCE_SUBJECT_HEADER", "DeadLetterKind", "DeadLetters"]

REASON_HEADER: Final = "Foxtrot-Dead-Letter-Reason"
KIND_HEADER: Final = "Foxtrot-Dead-Letter-Kind"
SOURCE_SUBJECT_HEADER: Final = "Foxtrot-Source-Subject"
SERVICE_HEADER: Final = "Foxtrot-Service"
_MAX_REASON: Final = 2000
_PASSED_THROUGH: Final = ("traceparent", "tracestate", "Nats-Msg-Id")

log = logging.getLogger(__name__)


class DeadLetterKind:
    """Why a message was dead-lettered."""

    MALFORMED = "malformed"
    HANDLER_FAILED = "handler_failed"


def _one_line(text: str) -> str:
    # NATS header values cannot hold line breaks.
    flat = " | ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat[:_MAX_REASON]


class DeadLetters:
    """Counts, logs and publishes one service's dead letters."""

    _counters: dict[int, Counter] = {}

    def __init__(
        self, broker: NatsBroker, service: str, registry: CollectorRegistry = REGISTRY
    ) -> None:
        self.broker = broker
        self.service = service
        self.subject = subjects.dead_letter(service)
        key = id(registry)
        if key not in self._counters:
            self._counters[key] = Counter(
                "foxtrot_dead_letters",
                "Messages a service could not process, by subscription",
                ["service", "subscription", "kind"],
                registry=registry,
            )
        self.counter = self._counters[key]

    async def send(
        self,
        *,
        data: bytes,
        source_subject: str,
        subscription: str,
        kind: str,
        reason: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Keep ``data`` on the dead-letter subject with the reason, count it and log it."""
        reason = _one_line(reason)
        self.counter.labels(self.service, subscription, kind).inc()
        log.warning(
            "dead-lettered a message from %s: %s",
            source_subject,
            reason,
            extra={"subject": source_subject, "dead_letter_kind": kind, "bytes": len(data)},
        )
        out = {
            REASON_HEADER: reason,
            KIND_HEADER: kind,
            SOURCE_SUBJECT_HEADER: source_subject,
            SERVICE_HEADER: self.service,
        }
        for name in _PASSED_THROUGH:
            if headers and name in headers:
                out[name] = headers[name]
        if "Nats-Msg-Id" in out:
            out["Nats-Msg-Id"] = f"{out['Nats-Msg-Id']}:dlq:{self.service}"
        await self.broker.publish(data, self.subject, headers=out, stream=DEAD_LETTERS.name)
