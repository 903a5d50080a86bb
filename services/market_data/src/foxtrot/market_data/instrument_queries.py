"""Answers to ``qry.v1.md.instruments``: the instruments market data knows, paged."""

from __future__ import annotations

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers
from foxtrot.common.messages.v1 import (
    InstrumentsQuery,
    InstrumentsReply,
    InstrumentView,
    QueryFailed,
)
from foxtrot.market_data.instruments import InstrumentRegistry

__all__ = ["instruments_reply", "register_instrument_queries"]


async def instruments_reply(
    query: InstrumentsQuery, registry: InstrumentRegistry
) -> InstrumentsReply:
    """The registry's instruments that match the query, by instrument id, one page."""
    matching = [
        instrument
        for instrument in registry  # sorted by instrument id
        if (query.venue is None or instrument.instrument_id.venue == query.venue)
        and (query.instrument_id is None or str(instrument.instrument_id) == query.instrument_id)
        and (query.after is None or str(instrument.instrument_id) > query.after)
    ]
    page = matching[: query.limit]
    more = len(matching) > query.limit
    return InstrumentsReply(
        instruments=tuple(InstrumentView.from_core(instrument) for instrument in page),
        next_after=str(page[-1].instrument_id) if more else None,
    )


def register_instrument_queries(consumers: Consumers, registry: InstrumentRegistry) -> None:
    """Answer ``qry.v1.md.instruments`` from ``registry`` (load-balanced over replicas)."""

    async def respond(query: InstrumentsQuery) -> InstrumentsReply:
        return await instruments_reply(query, registry)

    consumers.respond(
        subjects.QRY_MD_INSTRUMENTS,
        decode=InstrumentsQuery.model_validate_json,
        respond=respond,
        error_reply=lambda error: QueryFailed(error=error),
    )
