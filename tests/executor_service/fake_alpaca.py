"""A local HTTP server on 127.0.0.1 that answers as Alpaca's Trading API v2 documents
(https://docs.alpaca.markets/reference): orders (submit, by client order id, list open,
cancel), account and positions; errors as ``{"code": ..., "message": ...}`` with
Alpaca's status codes. It records every request, and can be scripted to answer the next
order submissions with 504 after accepting them (the lost-response case)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KEY_ID = "PKTESTKEY00000000001"
SECRET = "test-secret-0000000000000000000000000000"
OPEN_STATUSES = {
    "new",
    "accepted",
    "pending_new",
    "partially_filled",
    "held",
    "accepted_for_bidding",
    "pending_cancel",
    "pending_replace",
}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def order_json(body: dict, status: str = "accepted") -> dict:
    """An order object with the fields Alpaca's documentation lists."""
    now = _now()
    return {
        "id": str(uuid.uuid4()),
        "client_order_id": body["client_order_id"],
        "created_at": now,
        "updated_at": now,
        "submitted_at": now,
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": "276e2673-764b-4ab6-a611-caf665ca6340",
        "symbol": body["symbol"],
        "asset_class": "crypto" if "/" in body["symbol"] else "us_equity",
        "notional": None,
        "qty": str(body["qty"]),
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "",
        "order_type": body["type"],
        "type": body["type"],
        "side": body["side"],
        "time_in_force": body["time_in_force"],
        "limit_price": body.get("limit_price"),
        "stop_price": body.get("stop_price"),
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "position_intent": "buy_to_open" if body["side"] == "buy" else "sell_to_close",
    }


class FakeAlpaca:
    def __init__(self):
        self.orders: dict[str, dict] = {}  # by client order id
        self.requests: list[tuple[str, str, dict | None]] = []
        self.fail_next_submits_with: list[int] = []  # statuses, after accepting the order
        self.unavailable_submits = 0  # answered 503 without taking the order
        self.reject_next_submit: tuple[int, dict] | None = None
        self.account = {
            "id": "904837e3-3b76-47ec-b432-046db621571b",
            "account_number": "PA3ABCDEFGH",
            "status": "ACTIVE",
            "currency": "USD",
            "cash": "25000.5",
            "buying_power": "50001",
            "equity": "26000.25",
            "portfolio_value": "26000.25",
            "pattern_day_trader": False,
            "trading_blocked": False,
        }
        self.positions = [
            {
                "asset_id": "64bbff51-59d6-4b3c-9351-13ad85e3c752",
                "symbol": "BTCUSD",
                "exchange": "CRYPTO",
                "asset_class": "crypto",
                "avg_entry_price": "40000",
                "qty": "0.125",
                "side": "long",
                "market_value": "5000",
                "cost_basis": "5000",
                "unrealized_pl": "0",
                "unrealized_plpc": "0",
                "current_price": "40000",
                "qty_available": "0.125",
            }
        ]
        self.lock = threading.Lock()

    def set_status(
        self,
        client_order_id: str,
        status: str,
        filled_qty: str = "0",
        filled_avg_price: str | None = None,
    ) -> None:
        with self.lock:
            order = self.orders[client_order_id]
            order.update(
                status=status,
                filled_qty=filled_qty,
                filled_avg_price=filled_avg_price,
                updated_at=_now(),
            )

    def submits(self) -> list[dict]:
        return [
            body
            for method, path, body in self.requests
            if method == "POST" and path == "/v2/orders"
        ]


def _handler(fake: FakeAlpaca):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, payload=None) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: int, message: str) -> None:
            self._send(status, {"code": code, "message": message})

        def _authorized(self) -> bool:
            if (
                self.headers.get("APCA-API-KEY-ID") != KEY_ID
                or self.headers.get("APCA-API-SECRET-KEY") != SECRET
            ):
                self._error(401, 40110000, "request is not authorized")
                return False
            return True

        def _handle(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with fake.lock:
                fake.requests.append((method, url.path, body))
            if not self._authorized():
                return
            query = parse_qs(url.query)
            with fake.lock:
                self._route(method, url.path, query, body)

        def _route(self, method, path, query, body) -> None:
            if method == "POST" and path == "/v2/orders":
                self._submit(body)
            elif method == "GET" and path == "/v2/orders:by_client_order_id":
                order = fake.orders.get(query.get("client_order_id", [""])[0])
                if order is None:
                    self._error(404, 40410000, "order not found")
                else:
                    self._send(200, order)
            elif method == "GET" and path == "/v2/orders":
                wanted = query.get("status", ["open"])[0]
                orders = [
                    o
                    for o in fake.orders.values()
                    if wanted == "all" or (o["status"] in OPEN_STATUSES) == (wanted == "open")
                ]
                self._send(200, orders)
            elif method == "DELETE" and path.startswith("/v2/orders/"):
                order_id = path.rsplit("/", 1)[1]
                order = next((o for o in fake.orders.values() if o["id"] == order_id), None)
                if order is None:
                    self._error(404, 40410000, "order not found")
                elif order["status"] not in OPEN_STATUSES:
                    self._error(422, 42210000, f'order is already in "{order["status"]}" state')
                else:
                    order.update(status="canceled", canceled_at=_now(), updated_at=_now())
                    self._send(204)
            elif method == "GET" and path == "/v2/account":
                self._send(200, fake.account)
            elif method == "GET" and path == "/v2/positions":
                self._send(200, fake.positions)
            else:
                self._error(404, 40400000, "endpoint not found")

        def _submit(self, body: dict) -> None:
            if fake.unavailable_submits:
                fake.unavailable_submits -= 1
                self._error(503, 50300000, "service unavailable")
                return
            if fake.reject_next_submit is not None:
                status, payload = fake.reject_next_submit
                fake.reject_next_submit = None
                self._send(status, payload)
                return
            missing = [
                k for k in ("symbol", "qty", "side", "type", "time_in_force") if not body.get(k)
            ]
            if missing:
                self._error(422, 40010001, f"{missing[0]} is required")
                return
            cid = body.get("client_order_id") or str(uuid.uuid4())
            if cid in fake.orders:
                self._error(422, 40010001, "client_order_id must be unique")
                return
            body = {**body, "client_order_id": cid}
            fake.orders[cid] = order_json(body)
            if fake.fail_next_submits_with:
                # Accepted, but the answer is lost on the way back (a gateway timeout).
                self._error(fake.fail_next_submits_with.pop(0), 50400000, "gateway timeout")
                return
            self._send(200, fake.orders[cid])

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_DELETE(self):
            self._handle("DELETE")

    return Handler


class FakeAlpacaServer:
    """``with FakeAlpacaServer() as server:`` -> ``server.url``, ``server.fake``."""

    def __init__(self):
        self.fake = FakeAlpaca()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeAlpacaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
