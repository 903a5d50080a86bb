"""The state behind the fake Binance server: symbols, balances, orders, trades.

It answers in Binance spot's words (REST order objects, myTrades entries, error codes and
messages, executionReport events) so the adapter can be tested through real ccxt. It
matches simply: MARKET and marketable LIMIT orders take at the symbol's price, resting
limits fill as makers when :meth:`FakeAccount.trade` prints through them. Balances are
checked when an order arrives but not locked while it rests.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

__all__ = ["BinanceRefusal", "FakeAccount", "FakeOrder", "SymbolRules"]

_FEE: Final = Decimal("0.001")
_OPEN: Final = frozenset({"NEW", "PARTIALLY_FILLED"})
Report = Mapping[str, Any]


class BinanceRefusal(Exception):
    """An error answer: HTTP status, Binance code and message."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code, self.msg, self.status = code, msg, status


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """One spot symbol and its filters."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal


@dataclass(slots=True)
class FakeOrder:
    """An order as the fake venue holds it."""

    symbol: str
    order_id: int
    client_id: str
    side: str
    type: str
    tif: str
    price: Decimal
    qty: Decimal
    iceberg: Decimal
    time: int
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    status: str = "NEW"
    update_time: int = 0
    fills: list[dict[str, str]] = field(default_factory=list)

    def rest_view(self) -> dict[str, Any]:
        """The order as GET /api/v3/order and openOrders show it."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_id,
            "price": _s(self.price),
            "origQty": _s(self.qty),
            "executedQty": _s(self.executed),
            "cummulativeQuoteQty": _s(self.quote),
            "status": self.status,
            "timeInForce": self.tif,
            "type": self.type,
            "side": self.side,
            "stopPrice": "0.00000000",
            "icebergQty": _s(self.iceberg),
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


class FakeAccount:
    """One account at the fake venue."""

    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.symbols: dict[str, SymbolRules] = {
            "BTCUSDT": SymbolRules(
                "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"),
                Decimal("0.00001"), Decimal("9000"), Decimal("5"),
            ),
            "ETHUSDT": SymbolRules(
                "ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"),
                Decimal("0.0001"), Decimal("100000"), Decimal("5"),
            ),
        }  # fmt: skip
        self.balances: dict[str, Decimal] = {
            "USDT": Decimal(100_000),
            "BTC": Decimal(1),
            "ETH": Decimal(10),
        }
        self.prices: dict[str, Decimal] = {"BTCUSDT": Decimal(50_000), "ETHUSDT": Decimal(3_000)}
        self.orders: dict[int, FakeOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.listeners: list[Callable[[Report], None]] = []
        self._order_ids = itertools.count(1_000_001)
        self._trade_ids = itertools.count(5_000_001)

    # --- market -----------------------------------------------------------------------

    def trade(self, symbol: str, price: Decimal, qty: Decimal | None = None) -> None:
        """A print at ``price``: resting limits it goes through fill as makers (up to
        ``qty`` in all when given)."""
        self.prices[symbol] = price
        left = qty
        for order in list(self.orders.values()):
            if order.symbol != symbol or order.status not in _OPEN or order.type == "MARKET":
                continue
            crossed = price <= order.price if order.side == "BUY" else price >= order.price
            if not crossed:
                continue
            leaves = order.qty - order.executed
            amount = leaves if left is None else min(left, leaves)
            if amount <= 0:
                break
            self._fill(order, order.price, amount, maker=True)
            if left is not None:
                left -= amount

    # --- REST answers -------------------------------------------------------------------

    def exchange_info(self) -> dict[str, Any]:
        """GET /api/v3/exchangeInfo."""
        return {
            "timezone": "UTC",
            "serverTime": self.clock_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": 6000},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                 "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                 "limit": 200000},
            ],
            "exchangeFilters": [],
            "symbols": [self._symbol_info(rules) for rules in self.symbols.values()],
        }  # fmt: skip

    def new_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """POST /api/v3/order (newOrderRespType FULL)."""
        rules = self._rules(params.get("symbol", ""))
        client_id = params.get("newClientOrderId") or f"fake-{next(self._order_ids)}"
        if any(o.client_id == client_id and o.status in _OPEN for o in self.orders.values()):
            raise BinanceRefusal(-2010, "Duplicate order sent.")
        kind, side = params.get("type", ""), params.get("side", "")
        qty = Decimal(params.get("quantity", "0"))
        price = Decimal(params.get("price", "0"))
        self._check_filters(rules, kind, qty, price)
        market = self.prices[rules.symbol]
        takes = kind == "MARKET" or (price >= market if side == "BUY" else price <= market)
        if kind == "LIMIT_MAKER" and takes:
            raise BinanceRefusal(-2010, "Order would immediately match and take.")
        cost_px = market if takes else price
        need, asset = (qty * cost_px, rules.quote) if side == "BUY" else (qty, rules.base)
        if self.balances.get(asset, Decimal(0)) < need:
            raise BinanceRefusal(-2010, "Account has insufficient balance for requested action.")
        now = self.clock_ms()
        order = FakeOrder(
            rules.symbol, next(self._order_ids), client_id, side, kind,
            params.get("timeInForce", "GTC"), price, qty,
            Decimal(params.get("icebergQty", "0")), now,
        )  # fmt: skip
        self.orders[order.order_id] = order
        self._report(order, "NEW")
        if takes:
            self._fill(order, market, qty, maker=False)
        elif order.tif in ("IOC", "FOK"):
            self._end(order, "EXPIRED")
        return {
            **{k: v for k, v in order.rest_view().items() if k not in ("time", "updateTime")},
            "transactTime": now,
            "fills": order.fills,
        }

    def cancel_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """DELETE /api/v3/order."""
        order = self._find(params, -2011, "Unknown order sent.")
        if order.status not in _OPEN:
            raise BinanceRefusal(-2011, "Unknown order sent.")
        self._end(order, "CANCELED")
        view = order.rest_view()
        return {
            **{k: view[k] for k in ("symbol", "orderId", "orderListId", "price", "origQty")},
            "origClientOrderId": order.client_id,
            "clientOrderId": params.get("newClientOrderId") or f"cancel-{order.order_id}",
            "transactTime": order.update_time,
            **{k: view[k] for k in ("executedQty", "cummulativeQuoteQty", "status")},
            **{k: view[k] for k in ("timeInForce", "type", "side", "selfTradePreventionMode")},
        }

    def query_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """GET /api/v3/order."""
        return self._find(params, -2013, "Order does not exist.").rest_view()

    def open_orders(self, symbol: str | None) -> list[dict[str, Any]]:
        """GET /api/v3/openOrders."""
        return [
            o.rest_view()
            for o in self.orders.values()
            if o.status in _OPEN and (symbol is None or o.symbol == symbol)
        ]

    def account_info(self) -> dict[str, Any]:
        """GET /api/v3/account (the fake locks nothing for resting orders)."""
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "updateTime": self.clock_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": _s(total), "locked": "0"}
                for asset, total in sorted(self.balances.items())
            ],
            "permissions": ["SPOT"],
        }

    def my_trades(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """GET /api/v3/myTrades."""
        symbol = self._rules(params.get("symbol", "")).symbol
        start = int(params.get("startTime", "0"))
        from_id = int(params.get("fromId", "0"))
        limit = int(params.get("limit", "500"))
        found = [
            t for t in self.trades
            if t["symbol"] == symbol and t["time"] >= start and t["id"] >= from_id
        ]  # fmt: skip
        return found[:limit]

    def cancel_replace(self, params: Mapping[str, str]) -> dict[str, Any]:
        """POST /api/v3/order/cancelReplace (STOP_ON_FAILURE)."""
        cancel_params = {
            "symbol": params.get("symbol", ""),
            "origClientOrderId": params.get("cancelOrigClientOrderId", ""),
            "orderId": params.get("cancelOrderId", ""),
        }
        try:
            canceled = self.cancel_order(cancel_params)
        except BinanceRefusal as refusal:
            raise _ReplaceFailed(refusal) from refusal
        return {
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": canceled,
            "newOrderResponse": self.new_order(params),
        }

    # --- inside ------------------------------------------------------------------------

    def _fill(self, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool) -> None:
        rules = self.symbols[order.symbol]
        trade_id = next(self._trade_ids)
        now = self.clock_ms()
        buy = order.side == "BUY"
        commission = (qty if buy else qty * price) * _FEE
        asset = rules.base if buy else rules.quote
        sign = 1 if buy else -1
        self.balances[rules.base] = self.balances.get(rules.base, Decimal(0)) + sign * qty
        self.balances[rules.quote] = self.balances.get(rules.quote, Decimal(0)) - sign * qty * price
        self.balances[asset] -= commission
        order.executed += qty
        order.quote += qty * price
        order.status = "FILLED" if order.executed >= order.qty else "PARTIALLY_FILLED"
        order.update_time = now
        order.fills.append(
            {"price": _s(price), "qty": _s(qty), "commission": _s(commission),
             "commissionAsset": asset, "tradeId": str(trade_id)}
        )  # fmt: skip
        self.trades.append(
            {"symbol": order.symbol, "id": trade_id, "orderId": order.order_id,
             "orderListId": -1, "price": _s(price), "qty": _s(qty), "quoteQty": _s(qty * price),
             "commission": _s(commission), "commissionAsset": asset, "time": now,
             "isBuyer": buy, "isMaker": maker, "isBestMatch": True}
        )  # fmt: skip
        last = {"l": qty, "L": price, "n": commission, "N": asset, "t": trade_id, "m": maker}
        self._report(order, "TRADE", last)

    def _end(self, order: FakeOrder, status: str) -> None:
        order.status = status
        order.update_time = self.clock_ms()
        self._report(order, status)

    def _report(
        self, order: FakeOrder, execution: str, last: Mapping[str, Any] | None = None
    ) -> None:
        last = last or {}
        last_quote = last.get("l", Decimal(0)) * last.get("L", Decimal(0))
        canceled = execution == "CANCELED"
        report = {
            "e": "executionReport", "E": self.clock_ms(), "s": order.symbol,
            "c": f"cancel-{order.order_id}" if canceled else order.client_id,
            "S": order.side, "o": order.type, "f": order.tif, "q": _s(order.qty),
            "p": _s(order.price), "P": "0.00000000", "F": _s(order.iceberg), "g": -1,
            "C": order.client_id if canceled else "", "x": execution, "X": order.status,
            "r": "NONE", "i": order.order_id, "l": _s(last.get("l", Decimal(0))),
            "z": _s(order.executed), "L": _s(last.get("L", Decimal(0))),
            "n": _s(last.get("n", Decimal(0))), "N": last.get("N"),
            "T": order.update_time or order.time, "t": last.get("t", -1), "I": 0,
            "w": order.status in _OPEN, "m": bool(last.get("m", False)), "M": False,
            "O": order.time, "Z": _s(order.quote), "Y": _s(last_quote),
            "Q": "0.00000000", "W": order.time, "V": "EXPIRE_MAKER",
        }  # fmt: skip
        for listener in list(self.listeners):
            listener(report)

    def _find(self, params: Mapping[str, str], code: int, msg: str) -> FakeOrder:
        symbol = params.get("symbol")
        client_id = params.get("origClientOrderId")
        order_id = params.get("orderId")
        for order in self.orders.values():
            if order.symbol != symbol:
                continue
            if (client_id and order.client_id == client_id) or (
                order_id and str(order.order_id) == order_id
            ):
                return order
        raise BinanceRefusal(code, msg)

    def _rules(self, symbol: str) -> SymbolRules:
        rules = self.symbols.get(symbol)
        if rules is None:
            raise BinanceRefusal(-1121, "Invalid symbol.")
        return rules

    @staticmethod
    def _check_filters(rules: SymbolRules, kind: str, qty: Decimal, price: Decimal) -> None:
        if qty < rules.min_qty or qty > rules.max_qty or qty % rules.step:
            raise BinanceRefusal(-1013, "Filter failure: LOT_SIZE")
        if kind != "MARKET" and (price <= 0 or price % rules.tick):
            raise BinanceRefusal(-1013, "Filter failure: PRICE_FILTER")
        if kind != "MARKET" and qty * price < rules.min_notional:
            raise BinanceRefusal(-1013, "Filter failure: NOTIONAL")

    @staticmethod
    def _symbol_info(rules: SymbolRules) -> dict[str, Any]:
        return {
            "symbol": rules.symbol, "status": "TRADING", "baseAsset": rules.base,
            "baseAssetPrecision": 8, "quoteAsset": rules.quote, "quotePrecision": 8,
            "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT",
                           "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
            "cancelReplaceAllowed": True, "amendAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": _s(rules.tick),
                 "maxPrice": "1000000.00000000", "tickSize": _s(rules.tick)},
                {"filterType": "LOT_SIZE", "minQty": _s(rules.min_qty),
                 "maxQty": _s(rules.max_qty), "stepSize": _s(rules.step)},
                {"filterType": "NOTIONAL", "minNotional": _s(rules.min_notional),
                 "applyMinToMarket": True, "maxNotional": "9000000.00000000",
                 "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER",
                                                "EXPIRE_BOTH"],
        }  # fmt: skip


class _ReplaceFailed(BinanceRefusal):
    """A cancel-replace whose cancel failed: Binance wraps the reason in -2022."""

    def __init__(self, cause: BinanceRefusal) -> None:
        super().__init__(-2022, "Order cancel-replace failed.", cause.status)
        self.data = {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": cause.code, "msg": cause.msg},
            "newOrderResponse": None,
        }
