"""A Publisher that keeps what it is asked to publish instead of sending it, decoded."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel

from foxtrot.common.messages.v1 import MODELS, Message
from foxtrot.common.publishing import Publisher
from foxtrot.common.streams import StreamSpec

__all__ = ["RecordingPublisher", "Sent"]

_BY_TYPE: Final[dict[str, type[BaseModel]]] = {model.__name__: model for model in MODELS}


@dataclass(frozen=True)
class Sent:
    """One publish: the subject, the message decoded by its ``type``, the stream it was
    meant for (None: core NATS only) and when it was made (monotonic seconds)."""

    subject: str
    message: Message
    stream: StreamSpec | None
    message_id: str | None
    at: float


class RecordingPublisher(Publisher):
    """The Publisher port, recording instead of sending (its broker is never used)."""

    def __init__(self) -> None:
        super().__init__(broker=None)  # type: ignore[arg-type]
        self.sent: list[Sent] = []

    async def raw(
        self, subject: str, payload: bytes, message_id: str | None, stream: StreamSpec | None
    ) -> None:
        model = _BY_TYPE[json.loads(payload)["type"]]
        message = model.model_validate_json(payload)
        assert isinstance(message, Message)
        self.sent.append(Sent(subject, message, stream, message_id, time.monotonic()))
