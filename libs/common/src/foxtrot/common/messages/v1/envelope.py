"""The envelope every v1 message carries."""

from __future__ import annotations

from typing import Any, Literal, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foxtrot.common.messages.v1.types import UnixNanos

__all__ = ["Message", "new_envelope"]


class Message(BaseModel):
    """Base of every v1 message: immutable, strict about unknown fields, traceable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: UUID = Field(
        default_factory=uuid4, description="unique id; also the JetStream Nats-Msg-Id for dedup"
    )
    correlation_id: UUID = Field(
        default_factory=uuid4,  # replaced by message_id when omitted; see below
        description="id of the flow this message belongs to; defaults to message_id",
    )
    causation_id: UUID | None = Field(
        default=None, description="message_id of the message that caused this one"
    )
    ts_event: UnixNanos = Field(description="when the thing happened, UTC nanoseconds")
    ts_init: UnixNanos = Field(description="when this message was created, UTC nanoseconds")
    schema_version: Literal[1] = Field(default=1, description="major version of the contract")

    @model_validator(mode="before")
    @classmethod
    def _default_correlation(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("correlation_id") is None:
            message_id = data.get("message_id") or uuid4()
            data = {**data, "message_id": message_id, "correlation_id": message_id}
        return data

    def caused(self, **envelope: Any) -> dict[str, Any]:
        """Envelope fields for a message caused by this one (same flow, this as cause)."""
        return {"correlation_id": self.correlation_id, "causation_id": self.message_id, **envelope}

    def to_json(self) -> bytes:
        """Encode for the wire."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        """Decode from the wire; raises pydantic.ValidationError on bad input."""
        return cls.model_validate_json(data)


def new_envelope(ts_event: int, ts_init: int, cause: Message | None = None) -> dict[str, Any]:
    """Envelope fields for a new message, caused by ``cause`` when given."""
    if cause is None:
        return {"ts_event": ts_event, "ts_init": ts_init}
    return cause.caused(ts_event=ts_event, ts_init=ts_init)
