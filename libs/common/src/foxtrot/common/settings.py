"""Settings from the environment: ``FOXTROT_*``, ``NATS_URL``, ``DATABASE_URL``, ``OTEL_*``."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """What every service reads from its environment; services subclass it for their own."""

    # "none" in the environment sets an optional setting to None (e.g. switches a limit off).
    model_config = SettingsConfigDict(
        env_prefix="FOXTROT_", extra="ignore", frozen=True, env_parse_none_str="none"
    )

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        validation_alias=AliasChoices("NATS_URL", "FOXTROT_NATS_URL"),
        description="NATS server(s), comma-separated; credentials may be inline",
    )
    nats_user: str | None = Field(default=None, description="NATS user (one per service)")
    nats_password: str | None = Field(default=None, description="that user's password")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "FOXTROT_DATABASE_URL"),
        description="postgresql://user@host:port/db; unix sockets via ?host=/path",
    )
    http_host: str = "0.0.0.0"
    http_port: int = Field(
        default=8080,
        ge=0,
        le=65535,
        description="port for /healthz, /readyz, /metrics (and the API)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_each_message: bool = Field(
        default=False,
        description="FastStream's per-message INFO log; off because it costs a third of throughput",
    )
    handler_max_deliver: int = Field(
        default=5, ge=1, description="deliveries before a failing message is dead-lettered"
    )

    def nats_servers(self) -> list[str]:
        """NATS server URLs, with the user and password folded in when they are set."""
        servers = [s.strip() for s in self.nats_url.split(",") if s.strip()]
        if not self.nats_user:
            return servers
        credentials = quote(self.nats_user, safe="")
        if self.nats_password:
            credentials += ":" + quote(self.nats_password, safe="")
        return [_with_credentials(s, credentials) for s in servers]

    otel_service_name: str | None = Field(default=None, validation_alias="OTEL_SERVICE_NAME")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_traces_exporter: str | None = Field(default=None, validation_alias="OTEL_TRACES_EXPORTER")
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")


def _with_credentials(url: str, credentials: str) -> str:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))
