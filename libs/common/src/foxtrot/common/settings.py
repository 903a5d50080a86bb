"""Settings from the environment: ``FOXTROT_*``, plus ``NATS_URL``, ``DATABASE_URL`` and ``OTEL_*``."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """What every service reads from its environment; services subclass it for their own."""

    model_config = SettingsConfigDict(env_prefix="FOXTROT_", extra="ignore", frozen=True)

    nats_url: str = Field(default="nats://127.0.0.1:4222",
                          validation_alias=AliasChoices("NATS_URL", "FOXTROT_NATS_URL"),
                          description="NATS server(s), comma-separated; credentials may be inline")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FOXTROT_DATABASE_URL"),
        description="postgresql://user@host:port/db; unix sockets via ?host=/path")
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535,
                           description="port for /healthz, /readyz, /metrics (and the API)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_each_message: bool = Field(
        default=False,
        description="FastStream's per-message INFO log; off because it costs a third of "
                    "throughput")
    handler_max_deliver: int = Field(default=5, ge=1,
                                     description="deliveries before a failing message is "
                                                 "dead-lettered")
    otel_service_name: str | None = Field(default=None, validation_alias="OTEL_SERVICE_NAME")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_traces_exporter: str | None = Field(default=None,
                                             validation_alias="OTEL_TRACES_EXPORTER")
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")
