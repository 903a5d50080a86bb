"""Asking another service over request/reply: the query out, its typed reply back."""

from __future__ import annotations

from typing import TypeVar

from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ValidationError

from foxtrot.common.errors import QueryError, QueryUnanswered
from foxtrot.common.messages.v1 import QueryFailed

__all__ = ["ask"]

R = TypeVar("R", bound=BaseModel)


async def ask(
    broker: NatsBroker, subject: str, query: BaseModel, reply_type: type[R], timeout_s: float
) -> R:
    """Send ``query`` on ``subject`` and return the reply as ``reply_type``.

    Raises QueryUnanswered when nobody answers within ``timeout_s`` (or nobody listens),
    and QueryError when the answer is a QueryFailed (its error is the message) or
    something else that is not the reply."""
    try:
        answer = await broker.request(query.model_dump_json().encode(), subject, timeout=timeout_s)
    except (NatsTimeoutError, NoRespondersError, TimeoutError):
        raise QueryUnanswered(f"nobody answered {subject} within {timeout_s}s") from None
    try:
        return reply_type.model_validate_json(answer.body)
    except ValidationError:
        pass
    try:
        failed = QueryFailed.model_validate_json(answer.body)
    except ValidationError:
        raise QueryError(f"unreadable reply on {subject}", unreadable=True) from None
    raise QueryError(failed.error, code=failed.code)
