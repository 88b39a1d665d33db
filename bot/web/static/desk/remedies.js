// Remedies ("Put it right"): credit, refund, fee waiver or replacement within this person's
// authority, or a request for a supervisor's approval above it; and what was already given.

import { post } from "./api.js";
import { field } from "./dialogs.js";
import { loadApprovals, reloadView } from "./load.js";
import { state } from "./state.js";
import { toast } from "./ui.js";
import { REMEDY_LABEL, h, money, words, parseDollars } from "../shared/dom.js";

function orderLimit(order, kind) {
  if (!order) return Infinity;
  if (kind === "refund") return order.total_cents - order.refunded_cents;
  if (kind === "fee_waiver") return order.shipping_cents - order.fees_waived_cents;
  // The server values a replacement from the lines it re-ships and refuses any other figure.
  if (kind === "replacement") return order.lines.reduce((sum, l) => sum + l.qty * l.price_cents, 0);
  return Infinity;
}

export function remedyCard(view) {
  const requests = state.approvals.filter((a) => a.conversation_id === view.conversation_id);
  return h(
    "section",
    { class: "card", "aria-labelledby": "remedy-title" },
    h("h2", { id: "remedy-title", class: "card-title", text: "Put it right" }),
    remedyForm(view),
    view.grants.length ? givenList(view.grants) : null,
    requests.length ? requestList(requests) : null,
  );
}

// The form's controls travel together as `parts`: what it shows depends on all of them.
function remedyForm(view) {
  const orders = view.customer.orders.filter((o) => !o.replaces_order_id);
  const parts = {
    view,
    orders,
    orderSelect: orderChoice(orders, mentionedOrder(view, orders)),
    amount: h("input", {
      name: "amount",
      inputmode: "decimal",
      autocomplete: "off",
      placeholder: "0.00",
      "aria-describedby": "remedy-limit",
    }),
    reason: h("input", {
      name: "reason",
      maxlength: "500",
      autocomplete: "off",
      placeholder: "e.g. late delivery, asked twice",
    }),
    limit: h("p", { class: "limit", id: "remedy-limit", "aria-live": "polite" }),
    submit: h("button", { type: "submit", class: "btn btn-primary btn-block", text: "Give" }),
    error: h("p", { class: "form-error", role: "alert" }),
  };
  const form = h(
    "form",
    { class: "remedy", novalidate: true },
    h("p", { class: "field-label", id: "remedy-kind-label", text: "Remedy" }),
    kindGroup(state.config.remedies),
    field("remedy-order", "Order", parts.orderSelect),
    amountField(parts.amount),
    parts.limit,
    field("remedy-reason", "Reason (kept in the ledger)", parts.reason),
    parts.error,
    parts.submit,
  );
  parts.form = form;
  form.addEventListener("change", (event) =>
    event.target === parts.amount ? showLimit(parts) : prefill(parts),
  );
  parts.amount.addEventListener("input", () => showLimit(parts));
  form.addEventListener("submit", (event) => giveRemedy(parts, event));
  queueMicrotask(() => prefill(parts));
  return form;
}

// The order the brief mentions, when it is one of the customer's.
function mentionedOrder(view, orders) {
  const mentioned = view.brief?.entities?.order_id || [];
  return mentioned.find((id) => orders.some((o) => o.id === id));
}

function kindGroup(kinds) {
  return h(
    "div",
    { class: "kinds", role: "radiogroup", "aria-labelledby": "remedy-kind-label" },
    kinds.map((k, i) =>
      h(
        "label",
        { class: "kind" },
        h("input", { type: "radio", name: "kind", value: k, checked: i === 0 }),
        h("span", { text: REMEDY_LABEL[k] || words(k) }),
      ),
    ),
  );
}

function orderChoice(orders, mentioned) {
  return h(
    "select",
    { name: "order" },
    orders.map((o) =>
      h("option", {
        value: o.id,
        selected: o.id === mentioned,
        text: `#${o.id} · ${o.status} · ${money(o.total_cents)}`,
      }),
    ),
  );
}

function amountField(amount) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: "remedy-amount", text: "Amount" }),
    h(
      "div",
      { class: "money" },
      h("span", { "aria-hidden": "true", text: "$" }),
      Object.assign(amount, { id: "remedy-amount" }),
    ),
  );
}

// What the form says now: the remedy, the order, the amount, and this person's authority for it.
function currentChoice({ form, orders, orderSelect, amount, view }) {
  const kind = form.elements.kind.value;
  const order = orders.find((o) => o.id === orderSelect.value);
  const cents = parseDollars(amount.value);
  const left = view.authority[kind] || { per_conversation: 0, per_day: 0 };
  const allowed = Math.min(left.per_conversation, left.per_day);
  return { kind, order, cents, left, allowed };
}

// A replacement or a fee waiver has one right amount: the order's.
function prefill(parts) {
  const { kind, order } = currentChoice(parts);
  if (kind === "replacement" || kind === "fee_waiver") {
    const cap = orderLimit(order, kind);
    parts.amount.value = Number.isFinite(cap) && cap > 0 ? (cap / 100).toFixed(2) : "";
  }
  showLimit(parts);
}

function showLimit(parts) {
  const { limit, submit } = parts;
  const choice = currentChoice(parts);
  const label = REMEDY_LABEL[choice.kind].toLowerCase();
  const note = limitNote(choice, orderLimit(choice.order, choice.kind), label);
  limit.className = "limit";
  if (note.tone) limit.classList.add(note.tone);
  limit.textContent = note.text;
  const above = choice.cents !== null && choice.cents > choice.allowed;
  submit.textContent = submitLabel(choice, label, above);
  submit.classList.toggle("btn-warning", above);
}

function limitNote({ cents, left, allowed }, cap, label) {
  const here = money(left.per_conversation);
  const today = money(left.per_day);
  const authority = `Your authority: ${here} in this conversation, ${today} left today.`;
  if (cents === null) return { text: authority };
  if (cents > cap) {
    return { text: `This order allows at most ${money(cap)} for a ${label}.`, tone: "is-over" };
  }
  if (cents > allowed) {
    const over = `${money(cents)} is above your authority (${money(allowed)} left).`;
    return { text: `${over} A supervisor can approve it in one click.`, tone: "is-warning" };
  }
  if (cents >= state.config.audit_threshold_cents) {
    return { text: `${authority} It will be flagged for a supervisor's review afterwards.` };
  }
  return { text: authority };
}

function submitLabel({ kind, cents }, label, above) {
  if (cents === null) return `Give a ${label}`;
  if (above) return `Ask a supervisor to approve ${money(cents)}`;
  return `Give ${money(cents)} ${kind === "credit" ? "credit" : label}`;
}

async function giveRemedy(parts, event) {
  event.preventDefault();
  const { error, reason, submit } = parts;
  const { kind, order, cents, allowed } = currentChoice(parts);
  error.textContent = "";
  if (!order) {
    error.textContent = "Choose the order.";
    return;
  }
  if (cents === null || cents <= 0) {
    error.textContent = "Give an amount in dollars, like 15 or 15.50.";
    return;
  }
  if (!reason.value.trim()) {
    error.textContent = "Say why: it goes in the ledger.";
    reason.focus();
    return;
  }
  const body = { kind, order_id: order.id, amount_cents: cents, reason: reason.value.trim() };
  submit.disabled = true;
  try {
    if (cents > allowed) await askApproval(body);
    else await grant(body);
    await reloadView(state.selected);
  } catch (failure) {
    error.textContent = failure.message;
    submit.disabled = false;
  }
}

// Above this person's authority: a supervisor decides (the socket says when).
async function askApproval(body) {
  await post(`/desk/api/conversations/${state.selected}/approvals`, body);
  const what = `${REMEDY_LABEL[body.kind].toLowerCase()} of ${money(body.amount_cents)}`;
  toast(`Approval requested: ${what}. You'll see the decision here.`);
  await loadApprovals();
}

async function grant(body) {
  const made = await post(`/desk/api/conversations/${state.selected}/grants`, body);
  if (made.delivery?.state === "pending") {
    // the shop's own systems carry it out: the list below says when they have
    const what = `${REMEDY_LABEL[body.kind]} of ${money(made.amount_cents)}`;
    toast(`${what} sent to the shop's systems. It shows as done here once they confirm it.`);
    return;
  }
  const replacement = made.applied?.replacement_order_id;
  const amount = money(body.amount_cents);
  const done = {
    credit: `${amount} credit added to the customer's account`,
    refund: `Refund of ${amount} issued`,
    fee_waiver: `Fee of ${amount} waived`,
    replacement: `Replacement worth ${amount} sent`,
  }[body.kind];
  toast(`${done}${replacement ? `: order ${replacement}` : ""}.`, "success");
}

function givenList(grants) {
  return h(
    "div",
    { class: "given" },
    h("h3", { text: "Given in this conversation" }),
    h(
      "ul",
      { class: "plain" },
      grants.map((g) =>
        h(
          "li",
          { class: "grant" },
          h("strong", { text: `${REMEDY_LABEL[g.kind]} ${money(g.amount_cents)}` }),
          ` on #${g.order_id}`,
          deliveryBadge(g.delivery),
          g.flagged_for_audit
            ? h("span", { class: "badge badge-escalated", text: "Flagged for audit" })
            : null,
          g.approval_id ? h("span", { class: "badge", text: "Approved" }) : null,
          g.delivery?.state === "failed"
            ? h("p", {
                class: "delivery-error",
                text:
                  `The shop's systems did not carry it out (${g.delivery.last_error}). ` +
                  "Don't tell the customer it is done; a supervisor can send it again.",
              })
            : null,
        ),
      ),
    ),
  );
}

function requestList(requests) {
  return h(
    "div",
    { class: "given" },
    h("h3", { text: "Approval requests" }),
    h(
      "ul",
      { class: "plain" },
      requests.map((a) =>
        h(
          "li",
          { class: `approval status-${a.status}` },
          `${REMEDY_LABEL[a.kind]} ${money(a.amount_cents)} on #${a.order_id}: `,
          h("strong", {
            text: a.status === "pending" ? "waiting for a supervisor" : a.status,
          }),
        ),
      ),
    ),
  );
}

// Where a grant stands with the shop's systems; the built-in shop's are done when made.
export function deliveryBadge(delivery) {
  if (!delivery || (delivery.state === "done" && delivery.reference === "built-in")) return null;
  const words = {
    pending: "Sending to the shop…",
    done: "Done by the shop",
    failed: "Not done",
    cancelled: "Cancelled",
  };
  return h("span", {
    class: `badge badge-delivery delivery-${delivery.state}`,
    text: words[delivery.state] || delivery.state,
  });
}
