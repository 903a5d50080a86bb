"""Dependencies the routes declare: the broker and the gateway's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker

from foxtrot.gateway.config import GatewaySettings

__all__ = ["BrokerDep", "SettingsDep"]


def _broker(request: Request) -> NatsBroker:
    broker: NatsBroker = request.app.state.broker
    return broker


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


BrokerDep = Annotated[NatsBroker, Depends(_broker)]
SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
