"""Errors raised by Foxtrot's plumbing.

    FoxtrotError
    ├── ConfigurationError   a setting is missing or has the wrong shape
    ├── MalformedMessage     bytes on a subject that do not decode into its model
    ├── InfrastructureError  NATS or PostgreSQL unreachable or misbehaving
    │   ├── PublishFailed    a stream did not store a message published to it
    │   └── QueryUnanswered  nobody answered a request/reply query in time
    ├── ReconciliationFailed a service's books and its venue's disagree; it will not start
    └── QueryError           a request/reply query answered with an error

Domain errors (illegal order transitions and the like) live in ``foxtrot.core.errors``.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "FoxtrotError",
    "InfrastructureError",
    "MalformedMessage",
    "PublishFailed",
    "QueryError",
    "QueryUnanswered",
    "ReconciliationFailed",
]


class FoxtrotError(Exception):
    """Base class of every error raised by Foxtrot's plumbing."""


class ConfigurationError(FoxtrotError):
    """A setting is missing or has the wrong shape."""


class MalformedMessage(FoxtrotError):
    """A message that does not decode into the model its subject carries."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"malformed message on {subject}: {reason}")
        self.subject = subject
        self.reason = reason


class InfrastructureError(FoxtrotError):
    """NATS or PostgreSQL is unreachable or misbehaving."""


class PublishFailed(InfrastructureError):
    """A JetStream stream did not store a message published to it (no stream answered, or
    it answered with an error)."""


class QueryUnanswered(InfrastructureError):
    """Nobody answered a request/reply query in time (or nobody listens on its subject)."""


class QueryError(FoxtrotError):
    """A request/reply query was answered with an error, or with something unreadable."""

    def __init__(self, message: str, *, unreadable: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.unreadable = unreadable
        self.code = code  # QueryFailed's code: NOT_FOUND, INVALID or CONFLICT, when given


class ReconciliationFailed(FoxtrotError):
    """A service's books disagree with themselves or with a venue in a way it cannot
    explain; it refuses to take commands until someone looks."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"reconciliation failed: {shown}{more}")
        self.problems = problems
