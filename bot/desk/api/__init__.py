"""The agent desk's API: sign-in, the queue, conversations, remedies, resources, live figures.

POST /desk/api/login                           {username, password} -> session cookie + csrf_token
POST /desk/api/logout                          also returns your conversations to the queue
GET  /desk/api/me
GET  /desk/api/queue                           waiting tickets, by priority then waiting time
GET  /desk/api/mine                            your conversations (supervisors: + escalated ones)
POST /desk/api/tickets/{id}/claim
POST /desk/api/tickets/{id}/heartbeat          keeps the claim's lease while the agent is there
GET  /desk/api/conversations/{id}              brief, transcript, customer, notes, authority
POST /desk/api/conversations/{id}/messages     {text}
POST /desk/api/conversations/{id}/notes        {text}: private, never shown to the customer
POST /desk/api/conversations/{id}/return       {outcome}: back to the bot, which confirms it
POST /desk/api/conversations/{id}/resolve      {wrap_up}: closes, asks the satisfaction question
POST /desk/api/conversations/{id}/transfer     {to_agent: username} or {to_team: team}
POST /desk/api/conversations/{id}/escalate     {note}: asks a supervisor to look
POST /desk/api/conversations/{id}/join         supervisors: join the conversation
POST /desk/api/conversations/{id}/customer     {customer_id}: link the verified customer
POST /desk/api/conversations/{id}/grants       {kind, order_id, amount_cents, reason}
POST /desk/api/conversations/{id}/approvals    the same, above your authority: asks a supervisor
GET  /desk/api/approvals                       pending (supervisors) or your own requests
POST /desk/api/approvals/{id}/decide           {approve: true|false}, one step (supervisors)
GET  /desk/api/audit                           grants at or above the audit threshold
GET  /desk/api/deliveries                      grants the shop has not confirmed (supervisors)
POST /desk/api/deliveries/{id}/retry           a failed delivery tried again (supervisors)
POST /desk/api/deliveries/{id}/cancel          a failed delivery given up (supervisors)
GET  /desk/api/canned-replies, /desk/api/faq?q=, /desk/api/customers?q=, /desk/api/customers/{id}
GET  /desk/api/colleagues                      desk users and teams, for transfers
GET  /desk/api/stats                           live figures (supervisors)
GET  /desk/api/open                            every open conversation (supervisors)
GET  /desk/api/desk-config                     the pages' menus and limits, from policy.yml
GET  /desk/ws                                  live queue, watched conversations, typing, presence

Every route but login needs the session cookie; every state-changing one also the X-CSRF-Token
header from login (the cookie is SameSite=Strict as well). Views parse and validate, call one
function of the desk's domain (bot/desk/queue.py, remedies.py, customers.py, presence.py, staff.py,
stats.py), passing it the app's clock where it needs the time, and map its errors
(bot/desk/api/auth.py). No view queries the database itself.
"""

from __future__ import annotations

from aiohttp import web

from bot.desk.api import auth, conversations, overview, remedies, socket, tools
from bot.desk.api.auth import desk_auth

__all__ = ["desk_auth", "setup_routes"]


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/desk/api/login", auth.login)
    r.add_post("/desk/api/logout", auth.logout)
    r.add_get("/desk/api/me", auth.me)
    r.add_get("/desk/api/queue", conversations.waiting)
    r.add_get("/desk/api/mine", conversations.mine)
    r.add_post("/desk/api/tickets/{id}/claim", conversations.claim)
    r.add_post("/desk/api/tickets/{id}/heartbeat", conversations.heartbeat)
    c = "/desk/api/conversations/{id}"
    r.add_get(c, conversations.view)
    r.add_post(f"{c}/messages", conversations.reply)
    r.add_post(f"{c}/notes", conversations.note)
    r.add_post(f"{c}/return", conversations.return_to_bot)
    r.add_post(f"{c}/resolve", conversations.resolve)
    r.add_post(f"{c}/transfer", conversations.transfer)
    r.add_post(f"{c}/escalate", conversations.escalate)
    r.add_post(f"{c}/join", conversations.join)
    r.add_post(f"{c}/customer", conversations.link_customer)
    r.add_post(f"{c}/grants", remedies.give)
    r.add_post(f"{c}/approvals", remedies.ask)
    r.add_get("/desk/api/approvals", remedies.pending)
    r.add_post("/desk/api/approvals/{id}/decide", remedies.decide)
    r.add_get("/desk/api/audit", remedies.audit)
    r.add_get("/desk/api/deliveries", remedies.undelivered)
    r.add_post("/desk/api/deliveries/{id}/retry", remedies.retry_delivery)
    r.add_post("/desk/api/deliveries/{id}/cancel", remedies.cancel_delivery)
    r.add_get("/desk/api/canned-replies", tools.canned_replies)
    r.add_get("/desk/api/faq", tools.faq)
    r.add_get("/desk/api/customers", tools.customers)
    r.add_get("/desk/api/customers/{id}", tools.customer)
    r.add_get("/desk/api/colleagues", tools.colleagues)
    r.add_get("/desk/api/stats", tools.live_stats)
    r.add_get("/desk/api/open", overview.open_conversations)
    r.add_get("/desk/api/desk-config", overview.desk_config)
    r.add_get("/desk/ws", socket.desk_socket)
