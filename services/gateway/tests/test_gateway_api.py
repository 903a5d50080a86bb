"""The gateway without NATS: its use cases and its HTTP validation, against a fake broker."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AccountsQuery,
    CancelOrder,
    ModifyOrder,
    OrdersQuery,
    OrdersReply,
    PositionsReply,
    QueryFailed,
    SubmitOrder,
)
from foxtrot.common.testkit.broker import StandInBroker
from foxtrot.core.enums import OrderSide, OrderType
from foxtrot.gateway.api.schemas import OrderRequest
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings
from foxtrot.gateway.service import ask, submit_order

ORDER_VIEW: dict[str, object] = {
    "seq": 7,
    "client_order_id": "M-1",
    "venue_order_id": "V-1",
    "strategy_id": "manual",
    "account_id": "SIM-001",
    "instrument_id": "BTC-PERP.FTX",
    "side": "BUY",
    "order_type": "LIMIT",
    "time_in_force": "GTC",
    "quantity": "0.5",
    "price": "46000.5",
    "trigger_price": None,
    "expire_time_ns": None,
    "reduce_only": False,
    "post_only": False,
    "status": "FILLED",
    "filled_qty": "0.5",
    "avg_px": "46000.25",
    "ts_init": 1_640_991_720_000_000_000,
    "ts_last": 1_640_991_780_000_000_000,
}


def order_request(**fields: object) -> OrderRequest:
    base: dict[str, object] = {"instrument_id": "BTC-PERP.FTX", "side": "BUY", "quantity": "0.01"}
    return OrderRequest.model_validate({**base, **fields})


async def ask_orders(broker: StandInBroker) -> OrdersReply:
    return await ask(
        broker.as_nats(),
        "execution",
        subjects.QRY_EXEC_ORDERS,
        OrdersQuery(),
        OrdersReply,
        timeout=0.25,
    )


# --- ask (execution) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [NatsTimeoutError(), NoRespondersError(), TimeoutError()],
    ids=["nats-timeout", "no-responders", "timeout"],
)
async def test_unanswered_query_is_503_naming_the_subject(error: Exception) -> None:
    with pytest.raises(HTTPException) as caught:
        await ask_orders(StandInBroker(reply=error))

    assert caught.value.status_code == 503
    assert "qry.v1.exec.orders" in str(caught.value.detail)
    assert "0.25s" in str(caught.value.detail)


async def test_query_failed_reply_is_502_with_its_error() -> None:
    body = QueryFailed(error="query failed: database unreachable").model_dump_json().encode()
    with pytest.raises(HTTPException) as caught:
        await ask_orders(StandInBroker(reply=body))

    assert caught.value.status_code == 502
    assert caught.value.detail == "query failed: database unreachable"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"type": "PositionsReply", "positions": []}', b""],
    ids=["garbage", "empty-object", "wrong-reply-type", "empty"],
)
async def test_unreadable_reply_is_502(body: bytes) -> None:
    with pytest.raises(HTTPException) as caught:
        await ask_orders(StandInBroker(reply=body))

    assert caught.value.status_code == 502
    assert caught.value.detail == f"execution: unreadable reply on {subjects.QRY_EXEC_ORDERS}"


async def test_valid_reply_is_parsed() -> None:
    body = json.dumps({"type": "OrdersReply", "orders": [ORDER_VIEW]}).encode()
    broker = StandInBroker(reply=body)

    reply = await ask_orders(broker)

    (order,) = reply.orders
    assert order.client_order_id == "M-1"
    assert str(order.avg_px) == "46000.25"
    assert order.side is OrderSide.BUY


async def test_query_is_sent_as_json_on_the_subject_with_the_timeout() -> None:
    broker = StandInBroker(reply=b'{"type": "PositionsReply", "positions": []}')
    query = OrdersQuery(strategy_id="sma-cross-1", limit=5)

    reply = await ask(
        broker.as_nats(),
        "execution",
        subjects.QRY_EXEC_POSITIONS,
        query,
        PositionsReply,
        timeout=1.5,
    )

    assert reply.positions == ()
    ((message, subject, timeout),) = broker.requests
    assert subject == "qry.v1.exec.positions"
    assert timeout == 1.5
    assert OrdersQuery.model_validate_json(message) == query


# --- submit_order ---------------------------------------------------------------------------


async def test_manual_order_is_published_to_risk_with_its_message_id_for_dedup() -> None:
    broker = StandInBroker()
    command = await submit_order(broker.as_nats(), order_request(client_order_id="M-42"), "SIM-9")

    (sent,) = broker.published
    assert sent.subject == "cmd.v1.risk.submit_order"
    assert sent.stream == "FOXTROT_COMMANDS"
    assert sent.headers == {"Nats-Msg-Id": str(command.message_id)}
    wire = SubmitOrder.from_json(sent.message)
    assert wire == command
    assert wire.client_order_id == "M-42"
    assert wire.account_id == "SIM-9"
    assert wire.strategy_id == "manual"
    assert wire.order_type is OrderType.MARKET


async def test_manual_order_without_client_order_id_gets_a_generated_one() -> None:
    broker = StandInBroker()
    first = await submit_order(broker.as_nats(), order_request(), "SIM-001")
    second = await submit_order(broker.as_nats(), order_request(), "SIM-001")

    assert first.client_order_id.startswith("M-")
    assert len(first.client_order_id) > len("M-")
    assert first.client_order_id != second.client_order_id


async def test_account_in_the_request_overrides_the_default() -> None:
    command = await submit_order(
        StandInBroker().as_nats(), order_request(account_id="SIM-777"), "SIM-001"
    )
    assert command.account_id == "SIM-777"


async def test_limit_order_without_price_is_422_with_a_json_detail_naming_the_price() -> None:
    broker = StandInBroker()
    with pytest.raises(HTTPException) as caught:
        await submit_order(broker.as_nats(), order_request(order_type="LIMIT"), "SIM-001")

    assert caught.value.status_code == 422
    detail = json.dumps(caught.value.detail)
    assert "price" in detail
    assert broker.published == []


async def test_limit_order_with_price_carries_it_to_risk() -> None:
    broker = StandInBroker()
    command = await submit_order(
        broker.as_nats(), order_request(order_type="LIMIT", price="46000.5"), "SIM-001"
    )
    assert str(SubmitOrder.from_json(broker.published[0].message).price) == "46000.5"
    assert command.order_type is OrderType.LIMIT


# --- the HTTP app ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The real API app, built once: building it registers Prometheus metrics globally.

    Its lifespan (which connects to NATS) never runs: the TestClient is not entered.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    api = create_app(GatewaySettings(default_account_id="SIM-HTTP", query_timeout_s=0.5))
    # create_app configures JSON logging on the root logger; give pytest its handlers back.
    root.handlers[:], root.level = handlers, level
    return api


def errors_at(response: httpx.Response, field_name: str) -> list[dict[str, Any]]:
    return [e for e in response.json()["detail"] if e["loc"][-1] == field_name]


def test_http_order_with_a_float_quantity_is_422_naming_quantity(
    client: TestClient, broker: StandInBroker
) -> None:
    response = client.post(
        "/v1/orders", json={"instrument_id": "BTC-PERP.FTX", "side": "BUY", "quantity": 0.01}
    )

    assert response.status_code == 422
    (error,) = errors_at(response, "quantity")
    assert error["loc"] == ["body", "quantity"]
    assert "decimal string" in error["msg"]
    assert broker.published == []


def test_http_order_with_an_unknown_field_is_422(client: TestClient, broker: StandInBroker) -> None:
    response = client.post(
        "/v1/orders",
        json={"instrument_id": "BTC-PERP.FTX", "side": "BUY", "quantity": "0.01", "qty": "1"},
    )

    assert response.status_code == 422
    (error,) = errors_at(response, "qty")
    assert error["type"] == "extra_forbidden"
    assert broker.published == []


def test_http_limit_order_without_price_is_422(client: TestClient, broker: StandInBroker) -> None:
    response = client.post(
        "/v1/orders",
        json={
            "instrument_id": "BTC-PERP.FTX",
            "side": "BUY",
            "quantity": "0.01",
            "order_type": "LIMIT",
        },
    )

    assert response.status_code == 422
    assert "price" in response.text
    assert broker.published == []


def test_http_valid_order_is_202_and_handed_to_risk(
    client: TestClient, broker: StandInBroker
) -> None:
    response = client.post(
        "/v1/orders", json={"instrument_id": "BTC-PERP.FTX", "side": "SELL", "quantity": "0.5"}
    )

    assert response.status_code == 202
    body = response.json()
    assert body["client_order_id"].startswith("M-")
    assert body["status"] == "SUBMITTED_TO_RISK"
    (sent,) = broker.published
    command = SubmitOrder.from_json(sent.message)
    assert sent.subject == "cmd.v1.risk.submit_order"
    assert command.client_order_id == body["client_order_id"]
    assert str(command.message_id) == body["message_id"]
    assert command.account_id == "SIM-HTTP"  # the app's configured default account
    assert command.side is OrderSide.SELL


def test_http_order_list_is_503_when_execution_does_not_answer(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = NatsTimeoutError()

    response = client.get("/v1/orders")

    assert response.status_code == 503
    assert "qry.v1.exec.orders" in response.json()["detail"]
    ((_, _, timeout),) = broker.requests
    assert timeout == 0.5  # the app's configured query timeout


def test_http_order_list_returns_executions_orders(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = json.dumps({"type": "OrdersReply", "orders": [ORDER_VIEW]}).encode()

    response = client.get("/v1/orders", params={"strategy_id": "manual", "limit": 5})

    assert response.status_code == 200
    (order,) = response.json()
    assert order["client_order_id"] == "M-1"
    assert order["avg_px"] == "46000.25"
    ((message, _, _),) = broker.requests
    assert OrdersQuery.model_validate_json(message) == OrdersQuery(strategy_id="manual", limit=5)


# --- portfolio ------------------------------------------------------------------------------

ACCOUNT: dict[str, Any] = {
    "account_id": "SIM-1",
    "balances": [
        {"currency": "BTC", "total": "1.5", "locked": "0.4", "free": "1.1"},
        {"currency": "USDT", "total": "9949.95", "locked": "180", "free": "9769.95"},
    ],
    "ts_last": 7,
}


def position(strategy: str, quantity: str, realized: str, unrealized: str | None) -> dict[str, Any]:
    return {
        "strategy_id": strategy,
        "instrument_id": "BTCUSDT.BINANCE",
        "side": "LONG" if Decimal(quantity) > 0 else "FLAT",
        "quantity": quantity,
        "avg_px_open": "100",
        "realized_pnl": realized,
        "unrealized_pnl": unrealized,
        "commissions": "0.5",
        "currency": "USDT",
        "ts_last": 1,
    }


def test_http_account_shows_balances_per_currency(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = json.dumps({"type": "AccountsReply", "accounts": [ACCOUNT]}).encode()

    response = client.get("/v1/accounts/SIM-1")

    assert response.status_code == 200
    assert response.json()["balances"][1] == ACCOUNT["balances"][1]
    ((message, subject, _),) = broker.requests
    assert subject == "qry.v1.exec.accounts"
    assert AccountsQuery.model_validate_json(message) == AccountsQuery(account_id="SIM-1")


def test_http_unknown_account_is_404_naming_it(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = b'{"type": "AccountsReply", "accounts": []}'

    response = client.get("/v1/accounts/NOPE")

    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]


def test_http_portfolio_sums_pnl_per_strategy_and_counts_unmarked_positions(
    client: TestClient, broker: StandInBroker
) -> None:
    positions = [
        position("a", "2", "10", "4.5"),
        position("a", "0", "-3", None),  # flat: its realised PnL counts, nothing to mark
        position("a", "1", "0", None),  # open, no price seen yet
        position("b", "3", "1", "-2"),
    ]
    replies = {
        "qry.v1.exec.positions": {"type": "PositionsReply", "positions": positions},
        "qry.v1.exec.accounts": {"type": "AccountsReply", "accounts": [ACCOUNT]},
    }
    broker.by_subject = {subject: json.dumps(body).encode() for subject, body in replies.items()}

    response = client.get("/v1/portfolio")

    assert response.status_code == 200
    body = response.json()
    assert body["strategies"] == [
        {
            "strategy_id": "a",
            "currency": "USDT",
            "realized_pnl": "7",
            "unrealized_pnl": "4.5",
            "commissions": "1.5",
            "open_positions": 2,
            "unmarked_positions": 1,
        },
        {
            "strategy_id": "b",
            "currency": "USDT",
            "realized_pnl": "1",
            "unrealized_pnl": "-2",
            "commissions": "0.5",
            "open_positions": 1,
            "unmarked_positions": 0,
        },
    ]
    assert body["accounts"][0]["account_id"] == "SIM-1"


# --- modify and cancel ----------------------------------------------------------------------


def working(**changes: Any) -> bytes:
    view = {**ORDER_VIEW, "status": "ACCEPTED", "order_type": "LIMIT", "price": "45000", **changes}
    return json.dumps({"type": "OrdersReply", "orders": [view]}).encode()


def test_http_modify_goes_to_risk_with_the_orders_strategy_and_instrument(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = working()

    response = client.patch("/v1/orders/M-1", json={"price": "45100"})

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "MODIFY_SENT"
    ((asked, subject, _),) = broker.requests
    assert subject == "qry.v1.exec.orders"
    assert OrdersQuery.model_validate_json(asked).client_order_id == "M-1"
    (sent,) = broker.published
    assert sent.subject == "cmd.v1.risk.modify_order"
    command = ModifyOrder.from_json(sent.message)
    assert (command.client_order_id, command.strategy_id, command.instrument_id) == (
        "M-1",
        "manual",
        "BTC-PERP.FTX",
    )
    assert (command.price, command.quantity) == (Decimal(45100), None)


def test_http_modify_without_a_change_is_422(client: TestClient, broker: StandInBroker) -> None:
    response = client.patch("/v1/orders/M-1", json={})

    assert response.status_code == 422
    assert "at least one of quantity, price and trigger_price" in response.text
    assert broker.published == []


def test_http_modify_of_an_unknown_order_is_404(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = b'{"type": "OrdersReply", "orders": []}'

    response = client.patch("/v1/orders/NOPE", json={"quantity": "1"})

    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]
    assert broker.published == []


def test_http_cancel_of_a_filled_order_is_409(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = working(status="FILLED")

    response = client.delete("/v1/orders/M-1")

    assert response.status_code == 409
    assert "FILLED" in response.json()["detail"]
    assert broker.published == []


def test_http_cancel_goes_to_execution(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = working()

    response = client.delete("/v1/orders/M-1")

    assert response.status_code == 202, response.text
    (sent,) = broker.published
    assert sent.subject == "cmd.v1.exec.cancel_order"
    assert sent.headers == {"Nats-Msg-Id": response.json()["message_id"]}
    assert CancelOrder.from_json(sent.message).client_order_id == "M-1"
