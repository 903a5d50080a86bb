"""DATABASE_URL handling: every PostgreSQL URL form maps onto asyncpg."""

from __future__ import annotations

import pytest

from foxtrot.common.errors import ConfigurationError
from foxtrot.common.persistence import async_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        ),
        ("postgres://u:p@db/foxtrot", "postgresql+asyncpg://u:p@db/foxtrot"),
        (
            "postgresql://postgres:@/foxtrot?host=/run/pg",
            "postgresql+asyncpg://postgres:@/foxtrot?host=/run/pg",
        ),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
    ],
)
def test_postgresql_urls_are_mapped_onto_asyncpg(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


def test_a_url_for_another_database_is_refused_without_echoing_credentials() -> None:
    with pytest.raises(ConfigurationError, match="must start with postgresql://") as caught:
        async_database_url("mysql://root:secret@db/x")
    assert "secret" not in str(caught.value)
