"""Dependencies the routes declare: the broker, the gateway's settings and who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from faststream.nats import NatsBroker

from foxtrot.gateway.config import GatewaySettings

__all__ = ["OPERATOR_HEADER", "BrokerDep", "OperatorDep", "SettingsDep"]

OPERATOR_HEADER = "X-Foxtrot-Operator"


def _broker(request: Request) -> NatsBroker:
    broker: NatsBroker = request.app.state.broker
    return broker


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


BrokerDep = Annotated[NatsBroker, Depends(_broker)]
SettingsDep = Annotated[GatewaySettings, Depends(_settings)]

# Changes to risk must say who made them: risk records the operator with every change, so a
# missing, empty or all-blank header is a 422 naming it rather than an anonymous change.
OperatorDep = Annotated[
    str,
    Header(
        alias=OPERATOR_HEADER,
        min_length=1,
        max_length=100,
        pattern=r"\S",
        description="who asks for the change; risk records it with the change",
    ),
]
