"""NATS users and permissions: orders reach execution only through risk."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from foxtrot.common import subjects
from foxtrot.common.access import ADMIN, USERS, NatsUser, render_authorization
from foxtrot.core.identifiers import InstrumentId

Matcher = Callable[[str, str], bool]
BTC = InstrumentId("BTCUSDT", "BINANCE")
PASSWORDS = {user.name: f"pw-{user.name}" for user in USERS} | {ADMIN: "$ADMIN_PASS"}
BY_NAME = {user.name: user for user in USERS}


def publish_allow(user: NatsUser) -> list[str]:
    allow = user.permissions()["publish"]
    assert isinstance(allow, dict)
    return list(allow["allow"])


def may_publish(match: Matcher, user: NatsUser, subject: str) -> bool:
    return any(match(pattern, subject) for pattern in publish_allow(user))


def test_every_service_has_its_own_user() -> None:
    assert set(BY_NAME) == {"market_data", "strategy", "risk", "execution", "gateway", "ingest"}


def rendered_users(text: str) -> dict[str, str]:
    return dict(re.findall(r'\{user: "([a-z_]+)", password: ([^,}]+)', text))


def test_render_authorization_lists_every_user_and_admin_with_their_passwords() -> None:
    text = render_authorization(PASSWORDS)
    assert text.startswith("authorization {")
    assert text.rstrip().endswith("}")
    users = rendered_users(text)
    assert set(users) == {*BY_NAME, ADMIN}
    assert users["risk"] == '"pw-risk"'  # a literal password is quoted
    assert users[ADMIN] == "$ADMIN_PASS"  # a $VARIABLE is left for nats-server to expand


def test_rendered_permissions_are_each_users_own() -> None:
    text = render_authorization(PASSWORDS)
    for user in USERS:
        line = next(ln for ln in text.splitlines() if f'user: "{user.name}"' in ln)
        block = json.loads(line.split("permissions: ", 1)[1].rstrip(",").removesuffix("}"))
        assert block == user.permissions()


def test_admin_is_rendered_without_restrictions() -> None:
    line = next(ln for ln in render_authorization(PASSWORDS).splitlines() if '"admin"' in ln)
    assert "permissions" not in line


def test_render_authorization_needs_a_password_for_every_user() -> None:
    with pytest.raises(KeyError):
        render_authorization({k: v for k, v in PASSWORDS.items() if k != "risk"})


def test_only_risk_may_publish_an_approved_submit_to_execution(subject_matches: Matcher) -> None:
    allowed = [u.name for u in USERS if may_publish(subject_matches, u, subjects.EXEC_SUBMIT_ORDER)]
    assert allowed == ["risk"]


def test_only_risk_may_publish_an_approved_modify_to_execution(subject_matches: Matcher) -> None:
    allowed = [u.name for u in USERS if may_publish(subject_matches, u, subjects.EXEC_MODIFY_ORDER)]
    assert allowed == ["risk"]


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("strategy", subjects.RISK_SUBMIT_ORDER),
        ("gateway", subjects.RISK_SUBMIT_ORDER),
        ("strategy", subjects.EXEC_CANCEL_ORDER),
        ("gateway", subjects.EXEC_CANCEL_ORDER),
        ("gateway", subjects.QRY_EXEC_ORDERS),
        ("gateway", subjects.STRATEGY_START),
        ("gateway", subjects.STRATEGY_RUN_BACKTEST),
        ("gateway", subjects.QRY_STRATEGY_INSTANCES),
        ("strategy", subjects.strategy_events("s1")),
        ("strategy", subjects.QRY_EXEC_POSITIONS),
        ("strategy", subjects.QRY_MD_BARS),
        ("risk", subjects.order_events("s1")),
        ("execution", subjects.order_events("s1")),
        ("execution", subjects.position_events("s1")),
        ("execution", subjects.account_events("acc")),
        ("market_data", subjects.trade(BTC)),
        ("market_data", subjects.bar(BTC, "1m")),
        ("ingest", subjects.ingest_trade(BTC)),
        ("ingest", subjects.ingest_bar(BTC, "1m")),
    ],
)
def test_service_may_publish_where_its_role_needs(
    subject_matches: Matcher, user: str, subject: str
) -> None:
    assert may_publish(subject_matches, BY_NAME[user], subject)


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("strategy", subjects.order_events("s1")),
        ("strategy", subjects.trade(BTC)),
        ("strategy", subjects.EXEC_SUBMIT_ORDER),
        ("strategy", subjects.STRATEGY_START),
        ("risk", subjects.strategy_events("s1")),
        ("execution", subjects.STRATEGY_STOP),
        ("market_data", subjects.STRATEGY_RUN_BACKTEST),
        ("gateway", subjects.strategy_events("s1")),
        ("gateway", subjects.position_events("s1")),
        ("market_data", subjects.RISK_SUBMIT_ORDER),
        ("ingest", subjects.trade(BTC)),
        ("ingest", subjects.RISK_SUBMIT_ORDER),
        ("ingest", "$JS.API.STREAM.CREATE.X"),
        ("execution", subjects.RISK_SUBMIT_ORDER),
    ],
)
def test_service_may_not_publish_outside_its_role(
    subject_matches: Matcher, user: str, subject: str
) -> None:
    assert not may_publish(subject_matches, BY_NAME[user], subject)


@pytest.mark.parametrize("user", [u for u in USERS if u.name != "ingest"], ids=lambda u: u.name)
def test_each_service_may_dead_letter_only_on_its_own_subject(
    subject_matches: Matcher, user: NatsUser
) -> None:
    assert may_publish(subject_matches, user, subjects.dead_letter(user.name))
    others = [u.name for u in USERS if u.name != user.name]
    assert not any(may_publish(subject_matches, user, subjects.dead_letter(o)) for o in others)


def test_jetstream_clients_may_manage_consumers_but_not_delete_streams(
    subject_matches: Matcher,
) -> None:
    risk = BY_NAME["risk"]
    assert may_publish(subject_matches, risk, "$JS.API.CONSUMER.CREATE.CMD.risk")
    assert not may_publish(subject_matches, risk, "$JS.API.STREAM.DELETE.CMD")
    assert not may_publish(subject_matches, risk, "$JS.API.STREAM.PURGE.CMD")


def test_each_service_reads_only_its_own_inbox_and_only_query_servers_answer_requests(
    subject_matches: Callable[[str, str], bool],
) -> None:
    services = [user for user in USERS if user.jetstream_client]
    for user in services:
        permissions = user.permissions()
        subscribe = permissions["subscribe"]
        assert isinstance(subscribe, dict)
        assert f"_INBOX.{user.name}.>" in subscribe["allow"]
        for other in services:
            if other is not user:
                reply = f"_INBOX.{other.name}.abc123"
                allowed = subscribe["allow"]
                assert not any(subject_matches(p, reply) for p in allowed), (user, other)
        # Execution answers qry.v1.exec.*, market data qry.v1.md.* (history), risk
        # qry.v1.risk.* (limits, states, decisions), strategy ctl.v1.strategy.* and
        # qry.v1.strategy.* (its instances and backtests).
        answers = user.name in ("execution", "market_data", "risk", "strategy")
        assert permissions.get("allow_responses", False) is answers


def test_no_service_may_update_delete_or_purge_streams() -> None:
    for user in USERS:
        publish = user.permissions()["publish"]
        assert isinstance(publish, dict)
        assert not any(
            p.startswith(("$JS.API.STREAM.UPDATE", "$JS.API.STREAM.DELETE", "$JS.API.STREAM.PURGE"))
            for p in publish["allow"]
        )


def test_only_the_strategy_service_answers_strategy_control_and_the_gateway_may_ask(
    subject_matches: Matcher,
) -> None:
    def may_subscribe(user: NatsUser, subject: str) -> bool:
        allow = user.permissions()["subscribe"]
        assert isinstance(allow, dict)
        return any(subject_matches(p, subject) for p in allow["allow"])

    for subject in (subjects.STRATEGY_START, subjects.QRY_STRATEGY_BACKTEST):
        assert [u.name for u in USERS if may_subscribe(u, subject)] == ["strategy"]
        assert [u.name for u in USERS if may_publish(subject_matches, u, subject)] == ["gateway"]
