"""ServiceSettings: FOXTROT_* from the environment, NATS_URL / DATABASE_URL, credentials."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from foxtrot.common.settings import ServiceSettings

OWN_VARIABLES = (
    "NATS_URL",
    "FOXTROT_NATS_URL",
    "DATABASE_URL",
    "FOXTROT_DATABASE_URL",
    "FOXTROT_NATS_USER",
    "FOXTROT_NATS_PASSWORD",
    "FOXTROT_HTTP_PORT",
    "FOXTROT_LOG_LEVEL",
    "HTTP_PORT",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OWN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_without_environment() -> None:
    settings = ServiceSettings()
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.database_url is None
    assert (settings.http_port, settings.log_level) == (8080, "INFO")


def test_settings_are_read_with_the_foxtrot_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXTROT_HTTP_PORT", "9100")
    monkeypatch.setenv("FOXTROT_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("HTTP_PORT", "1")  # unprefixed: not ours
    settings = ServiceSettings()
    assert (settings.http_port, settings.log_level) == (9100, "DEBUG")


def test_bad_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOXTROT_HTTP_PORT", "70000")
    with pytest.raises(ValidationError, match="http_port"):
        ServiceSettings()


@pytest.mark.parametrize("variable", ["NATS_URL", "FOXTROT_NATS_URL"])
def test_nats_url_is_read_from_either_name(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "nats://nats:4222")
    assert ServiceSettings().nats_url == "nats://nats:4222"


@pytest.mark.parametrize("variable", ["DATABASE_URL", "FOXTROT_DATABASE_URL"])
def test_database_url_is_read_from_either_name(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "postgresql://foxtrot@db:5432/foxtrot")
    assert ServiceSettings().database_url == "postgresql://foxtrot@db:5432/foxtrot"


def test_settings_are_frozen() -> None:
    settings = ServiceSettings()
    with pytest.raises(ValidationError):
        settings.http_port = 1  # type: ignore[misc]


def test_nats_servers_split_a_comma_separated_list() -> None:
    settings = ServiceSettings(nats_url="nats://a:4222, nats://b:4222 ,")
    assert settings.nats_servers() == ["nats://a:4222", "nats://b:4222"]


def test_nats_servers_fold_the_user_and_password_into_every_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NATS_URL", "nats://a:4222,b:4223")
    monkeypatch.setenv("FOXTROT_NATS_USER", "risk")
    monkeypatch.setenv("FOXTROT_NATS_PASSWORD", "s3cret")
    assert ServiceSettings().nats_servers() == [
        "nats://risk:s3cret@a:4222",
        "nats://risk:s3cret@b:4223",
    ]


def test_nats_credentials_are_url_encoded() -> None:
    settings = ServiceSettings(nats_user="svc@corp", nats_password="p@ss:w/rd %#?")
    assert settings.nats_servers() == [
        "nats://svc%40corp:p%40ss%3Aw%2Frd%20%25%23%3F@127.0.0.1:4222"
    ]


def test_configured_credentials_replace_credentials_inline_in_the_url() -> None:
    settings = ServiceSettings(
        nats_url="nats://old:pw@nats:4222", nats_user="risk", nats_password="new"
    )
    assert settings.nats_servers() == ["nats://risk:new@nats:4222"]


def test_user_without_password_is_folded_in_alone() -> None:
    assert ServiceSettings(nats_user="ingest").nats_servers() == ["nats://ingest@127.0.0.1:4222"]


def test_without_a_user_the_urls_are_left_as_given() -> None:
    settings = ServiceSettings(nats_url="nats://old:pw@nats:4222")
    assert settings.nats_servers() == ["nats://old:pw@nats:4222"]
