"""A reference shop backend: bot/shop/contract.py served from its own SQLite file.

    python -m tests.shop.backend --port 8700 --db var/shop.db --secret-env SHOP_SECRET

It is seeded with bot/ops/demo.py's customers, orders and Autoships on first start, and answers
the three signed routes of docs/shop-api.yaml. The unsigned routes under /_control inject faults
(failures, slowness, a crash just after committing) and show what it received; having no
authentication, it binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.ops.demo import AUTOSHIPS, CUSTOMERS, NOW, ORDERS
from bot.shop.contract import IDEMPOTENCY_KEY, verify

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT,
    member_since TEXT NOT NULL, pets TEXT, credit_balance_cents INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
    placed_at TEXT NOT NULL, status TEXT NOT NULL, lines TEXT NOT NULL,
    total_cents INTEGER NOT NULL, shipping_cents INTEGER NOT NULL,
    refunded_cents INTEGER NOT NULL DEFAULT 0, fees_waived_cents INTEGER NOT NULL DEFAULT 0,
    replaces_order_id TEXT REFERENCES orders(id));
CREATE TABLE IF NOT EXISTS autoships (
    id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
    product TEXT NOT NULL, every_weeks INTEGER NOT NULL, next_delivery TEXT NOT NULL,
    status TEXT NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS remedies (
    key TEXT PRIMARY KEY, body_sha256 TEXT NOT NULL, kind TEXT NOT NULL,
    customer_id TEXT NOT NULL, order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
    reference TEXT NOT NULL UNIQUE, replacement_order_id TEXT, executed_at TEXT NOT NULL);
"""
FIELDS = ("id", "kind", "customer_id", "order_id", "reason", "conversation_id", "granted_by")
KINDS = ("credit", "refund", "fee_waiver", "replacement")
MAX_AMOUNT = 2**31  # far above any remedy, and keeps the sums inside SQLite's integers


@dataclass
class Faults:
    """What POST /_control asked for, applied to every request but the control routes'.

    fail_next: answer the next n with fail_status, doing nothing. slow_seconds: do the work,
    then sleep that long before answering. error_rate: answer that share of them 503, drawn
    from a Random(seed).
    apply_then_fail_next: for the next n remedies answered 200/201, commit and answer 503
    anyway, as a shop that crashed after committing: the retry must execute nothing again.
    """

    fail_next: int = 0
    fail_status: int = 503
    slow_seconds: float = 0.0
    error_rate: float = 0.0
    seed: int = 0
    apply_then_fail_next: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTROLS}


# each control's type, and the least value it may take
CONTROLS: dict[str, tuple[type, float]] = {
    "fail_next": (int, 0),
    "fail_status": (int, 100),
    "slow_seconds": (float, 0),
    "error_rate": (float, 0),
    "seed": (int, -(2**63)),
    "apply_then_fail_next": (int, 0),
}


@dataclass
class Shop:
    db: sqlite3.Connection
    secret: str
    faults: Faults = field(default_factory=Faults)
    seen: int = 0
    by_key: Counter[str] = field(default_factory=Counter)


SHOP = web.AppKey("shop", Shop)


class Refused(Exception):
    """A remedy the shop will not execute, ever: 409 or 422 with {"error", "message"}."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock at once, so the idempotency check and the write it guards
    # cannot interleave with another process using the same file
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def open_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)  # autocommit: transactions are explicit
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.executescript(SCHEMA)
    with _transaction(db):
        if db.execute("SELECT 1 FROM customers").fetchone() is None:
            _seed(db)
    return db


def _seed(db: sqlite3.Connection) -> None:
    """The rows bot/ops/demo.py's `seed` makes: same ids and amounts, dates as ISO strings."""
    for cid, name, email, phone, year, pets in CUSTOMERS:
        db.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, 0)",
            (cid, name, email, phone, f"{year}-03-01", pets),
        )
    for oid, cid, days_ago, status, lines, shipping in ORDERS:
        total = sum(line["qty"] * line["price_cents"] for line in lines) + shipping
        db.execute(
            "INSERT INTO orders (id, customer_id, placed_at, status, lines, total_cents,"
            " shipping_cents) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (oid, cid, (NOW - timedelta(days=days_ago)).isoformat(), status, json.dumps(lines),
             total, shipping),
        )  # fmt: skip
    for cid, product, weeks, in_days, price in AUTOSHIPS:
        db.execute(
            "INSERT INTO autoships (customer_id, product, every_weeks, next_delivery, status,"
            " price_cents) VALUES (?, ?, ?, ?, 'active', ?)",
            (cid, product, weeks, (NOW + timedelta(days=in_days)).isoformat(), price),
        )


def customer_record(db: sqlite3.Connection, customer_id: str) -> dict[str, Any] | None:
    """The record bot/desk/customers.py shows, without the conversations (the shop has none)
    and with each Autoship's id."""
    customer = db.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if customer is None:
        return None
    orders = db.execute(
        "SELECT id, substr(placed_at, 1, 10) AS placed_at, status, lines, total_cents,"
        " shipping_cents, refunded_cents, fees_waived_cents, replaces_order_id FROM orders"
        " WHERE customer_id = ? ORDER BY orders.placed_at DESC, id DESC",
        (customer_id,),
    )
    autoships = db.execute(
        "SELECT id, product, every_weeks, substr(next_delivery, 1, 10) AS next_delivery, status,"
        " price_cents FROM autoships WHERE customer_id = ? ORDER BY id",
        (customer_id,),
    )
    return {
        **dict(customer),
        "orders": [{**dict(o), "lines": json.loads(o["lines"])} for o in orders],
        "autoships": [dict(a) for a in autoships],
    }


def search(db: sqlite3.Connection, query: str) -> list[dict[str, Any]]:
    """As the desk searches: name, e-mail or phone containing `query`, or that id or order id.
    instr, not LIKE, so a % or _ in the query is a character like any other."""
    rows = db.execute(
        "SELECT id, name, email, phone FROM customers"
        " WHERE instr(lower(name), :q) OR instr(lower(email), :q)"
        " OR instr(lower(coalesce(phone, '')), :q) OR id = :raw"
        " OR id IN (SELECT customer_id FROM orders WHERE id = :raw)"
        " ORDER BY id LIMIT 10",
        {"q": query.lower(), "raw": query},
    )
    return [dict(row) for row in rows]


def _checked(key: str, body: Any) -> dict[str, Any]:
    """The body of bot.shop.contract.remedy_body, or Refused(422)."""
    if not isinstance(body, dict):
        raise Refused(422, "bad_body", "the body must be a JSON object")
    strings = (*FIELDS, "granted_at")
    if not all(isinstance(body.get(name), str) for name in strings):
        raise Refused(422, "bad_body", f"{', '.join(strings)} must be strings")
    if body["id"] != key:
        raise Refused(422, "bad_key", f"{IDEMPOTENCY_KEY} {key!r} is not the body's id")
    if body["kind"] not in KINDS:
        raise Refused(422, "bad_kind", f"kind must be one of {', '.join(KINDS)}")
    amount, least = body.get("amount_cents"), 0 if body["kind"] == "replacement" else 1
    if type(amount) is not int or not least <= amount <= MAX_AMOUNT:  # bool is not an amount
        raise Refused(422, "bad_amount", f"amount_cents must be an integer from {least} cents")
    return body


def execute(db: sqlite3.Connection, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Execute the remedy once: 201 and its result, or 200 and the stored result when `key` was
    executed already. The change and its idempotency record commit together or not at all."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with _transaction(db):
        done = db.execute("SELECT * FROM remedies WHERE key = ?", (key,)).fetchone()
        if done is not None:
            if done["body_sha256"] != digest:
                raise Refused(422, "key_reused", f"{key} was executed with another body")
            return 200, _result(done)
        replacement = _apply(db, body)
        number = db.execute("SELECT count(*) FROM remedies").fetchone()[0] + 1
        db.execute(
            "INSERT INTO remedies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, digest, body["kind"], body["customer_id"], body["order_id"],
             body["amount_cents"], f"SHOP-{number}", replacement, datetime.now(UTC).isoformat()),
        )  # fmt: skip
        row = db.execute("SELECT * FROM remedies WHERE key = ?", (key,)).fetchone()
    return 201, _result(row)


def _apply(db: sqlite3.Connection, body: dict[str, Any]) -> str | None:
    """Change the customer or order as the remedy says; the replacement order's id, if any."""
    kind, amount, order_id = body["kind"], body["amount_cents"], body["order_id"]
    order = db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None or order["customer_id"] != body["customer_id"]:
        raise Refused(409, "wrong_order", f"{body['customer_id']} has no order {order_id}")
    if kind == "credit":
        db.execute(
            "UPDATE customers SET credit_balance_cents = credit_balance_cents + ? WHERE id = ?",
            (amount, body["customer_id"]),
        )
    elif kind in ("refund", "fee_waiver"):
        paid, given = ("total", "refunded") if kind == "refund" else ("shipping", "fees_waived")
        left = order[f"{paid}_cents"] - order[f"{given}_cents"]
        if amount > left:
            raise Refused(409, "over_limit", f"only {left} cents of order {order_id} are left")
        db.execute(
            f"UPDATE orders SET {given}_cents = {given}_cents + ? WHERE id = ?", (amount, order_id)
        )
    else:
        if order["replaces_order_id"] is not None:
            raise Refused(
                409, "not_replaceable", f"order {order_id} is itself a replacement: not replaced"
            )
        made = db.execute(
            "SELECT count(*) FROM orders WHERE replaces_order_id = ?", (order_id,)
        ).fetchone()[0]
        replacement = f"{order_id}-R{made + 1}"
        db.execute(
            "INSERT INTO orders (id, customer_id, placed_at, status, lines, total_cents,"
            " shipping_cents, replaces_order_id) VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
            (replacement, order["customer_id"], datetime.now(UTC).isoformat(),
             "Replacement: preparing to ship", order["lines"], order_id),
        )  # fmt: skip
        return replacement
    return None


def _result(row: sqlite3.Row) -> dict[str, Any]:
    result = {"id": row["key"], "status": "done", "reference": row["reference"]}
    if row["replacement_order_id"] is not None:
        result["replacement_order_id"] = row["replacement_order_id"]
    return result


@web.middleware
async def front_door(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count, then inject the failures asked for (before the signature, as a shop that is down
    answers before reading anything), then refuse what is not signed and fresh; slowness comes
    after the work, as a shop whose answer is late although it did what was asked."""
    if request.path == "/_control" or request.path.startswith("/_control/"):
        return await handler(request)
    shop = request.app[SHOP]
    faults = shop.faults
    shop.seen += 1
    if IDEMPOTENCY_KEY in request.headers:
        shop.by_key[request.headers[IDEMPOTENCY_KEY]] += 1
    if faults.fail_next > 0:
        faults.fail_next -= 1
        return _error(faults.fail_status, "injected_fault", "fail_next")
    if faults.error_rate and faults.rng.random() < faults.error_rate:
        return _error(503, "injected_fault", "error_rate")
    body = await request.read()
    wrong = verify(
        shop.secret, request.headers, request.method, request.raw_path, body, time.time()
    )
    if wrong is not None:
        return _error(401, "bad_signature", wrong)
    response = await handler(request)
    if faults.slow_seconds:  # the work is done (and committed); the answer is late
        await asyncio.sleep(faults.slow_seconds)
    return response


async def get_customer(request: web.Request) -> web.Response:
    customer_id = request.match_info["id"]
    record = customer_record(request.app[SHOP].db, customer_id)
    if record is None:
        return _error(404, "not_found", f"there is no customer {customer_id!r}")
    return web.json_response(record)


async def find_customers(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    found = search(request.app[SHOP].db, query) if query else []
    return web.json_response({"customers": found})


async def post_remedy(request: web.Request) -> web.Response:
    shop = request.app[SHOP]
    key = request.headers.get(IDEMPOTENCY_KEY, "")
    try:
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise Refused(422, "bad_body", "the body is not JSON") from None
        status, result = execute(shop.db, key, _checked(key, body))
    except Refused as refused:
        return _error(refused.status, refused.error, refused.message)
    if shop.faults.apply_then_fail_next > 0:  # committed, and the answer is lost
        shop.faults.apply_then_fail_next -= 1
        return _error(503, "injected_fault", "apply_then_fail_next")
    return web.json_response(result, status=status)


async def control(request: web.Request) -> web.Response:
    """Set any of the faults; answers all of them as they now are."""
    faults = request.app[SHOP].faults
    try:
        changes = await request.json()
    except ValueError:
        return _error(422, "bad_body", "the body is not JSON")
    if not isinstance(changes, dict) or not changes.keys() <= CONTROLS.keys():
        return _error(422, "bad_body", f"a JSON object with any of {', '.join(CONTROLS)}")
    for name, value in changes.items():
        kind, least = CONTROLS[name]
        if type(value) not in (kind, int) or value < least:  # an int will do for a float
            return _error(422, "bad_body", f"{name} must be a {kind.__name__} from {least}")
    if changes.get("error_rate", 0) > 1:
        return _error(422, "bad_body", "error_rate must be from 0 to 1")
    for name, value in changes.items():
        setattr(faults, name, value)
    if "seed" in changes:
        faults.rng = random.Random(faults.seed)
    return web.json_response(faults.as_json())


async def control_remedies(request: web.Request) -> web.Response:
    rows = request.app[SHOP].db.execute("SELECT * FROM remedies ORDER BY rowid")
    return web.json_response({"remedies": [dict(row) for row in rows]})


async def control_requests(request: web.Request) -> web.Response:
    shop = request.app[SHOP]
    return web.json_response({"count": shop.seen, "by_key": dict(shop.by_key)})


def create_app(db_path: Path, secret: str) -> web.Application:
    app = web.Application(middlewares=[front_door])
    app[SHOP] = Shop(open_db(db_path), secret)

    async def close(app: web.Application) -> None:
        app[SHOP].db.close()

    app.on_cleanup.append(close)
    app.router.add_get("/customers/{id}", get_customer)
    app.router.add_get("/customers", find_customers)
    app.router.add_post("/remedies", post_remedy)
    app.router.add_post("/_control", control)
    app.router.add_get("/_control/remedies", control_remedies)
    app.router.add_get("/_control/requests", control_requests)
    return app


async def serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, shutdown_timeout=2)  # a test shop owes no one a graceful end
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()  # the control routes are unsigned
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"shop backend on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.shop.backend", description=__doc__)
    parser.add_argument("--port", type=int, default=8700, help="0 for any free port")
    parser.add_argument("--db", type=Path, default=Path("var/shop.db"))
    parser.add_argument("--secret-env", default="SHOP_SECRET", help="names the shared secret")
    args = parser.parse_args(argv)
    secret = os.environ.get(args.secret_env, "")
    if len(secret) < 32:
        sys.exit(
            f"${args.secret_env} must hold the secret shared with the bot service "
            f"(SHOP_SECRET there), at least 32 characters; it has {len(secret)}"
        )
    args.db.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(create_app(args.db, secret), args.port))


if __name__ == "__main__":
    main()
