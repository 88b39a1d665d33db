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
  const orders = view.customer.orders.filter((o) => !o.replaces_order_id);
  const mentioned = (
    (view.brief && view.brief.entities && view.brief.entities.order_id) ||
    []
  ).find((id) => orders.some((o) => o.id === id));
  const kinds = state.config.remedies;
  const kindGroup = h(
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
  const orderSelect = h(
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
  const amount = h("input", {
    name: "amount",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: "0.00",
    "aria-describedby": "remedy-limit",
  });
  const reason = h("input", {
    name: "reason",
    maxlength: "500",
    autocomplete: "off",
    placeholder: "e.g. late delivery, asked twice",
  });
  const limit = h("p", { class: "limit", id: "remedy-limit", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", text: "Give" });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "remedy", novalidate: true },
    h("p", { class: "field-label", id: "remedy-kind-label", text: "Remedy" }),
    kindGroup,
    field("remedy-order", "Order", orderSelect),
    h(
      "div",
      { class: "field" },
      h("label", { for: "remedy-amount", text: "Amount" }),
      h(
        "div",
        { class: "money" },
        h("span", { "aria-hidden": "true", text: "$" }),
        Object.assign(amount, { id: "remedy-amount" }),
      ),
    ),
    limit,
    field("remedy-reason", "Reason (kept in the ledger)", reason),
    error,
    submit,
  );
  const current = () => {
    const kind = form.elements.kind.value;
    const order = orders.find((o) => o.id === orderSelect.value);
    const cents = parseDollars(amount.value);
    const left = view.authority[kind] || { per_conversation: 0, per_day: 0 };
    const allowed = Math.min(left.per_conversation, left.per_day);
    return { kind, order, cents, left, allowed };
  };
  const update = () => {
    const { kind, order, cents, left, allowed } = current();
    const cap = orderLimit(order, kind);
    const label = REMEDY_LABEL[kind].toLowerCase();
    limit.className = "limit";
    let text = `Your authority: ${money(left.per_conversation)} in this conversation, ${money(left.per_day)} left today.`;
    if (cents !== null && cents > cap) {
      text = `This order allows at most ${money(cap)} for a ${label}.`;
      limit.classList.add("is-over");
    } else if (cents !== null && cents > allowed) {
      text = `${money(cents)} is above your authority (${money(allowed)} left). A supervisor can approve it in one click.`;
      limit.classList.add("is-warning");
    } else if (cents !== null && cents >= state.config.audit_threshold_cents) {
      text += " It will be flagged for a supervisor's review afterwards.";
    }
    limit.textContent = text;
    const above = cents !== null && cents > allowed;
    submit.textContent =
      cents === null
        ? `Give a ${label}`
        : above
          ? `Ask a supervisor to approve ${money(cents)}`
          : `Give ${money(cents)} ${kind === "credit" ? "credit" : label}`;
    submit.classList.toggle("btn-warning", above);
  };
  const prefill = () => {
    const { kind, order } = current();
    if (kind === "replacement" || kind === "fee_waiver") {
      const cap = orderLimit(order, kind);
      amount.value = Number.isFinite(cap) && cap > 0 ? (cap / 100).toFixed(2) : "";
    }
    update();
  };
  form.addEventListener("change", (event) => (event.target === amount ? update() : prefill()));
  amount.addEventListener("input", update);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { kind, order, cents, allowed } = current();
    error.textContent = "";
    if (!order) return void (error.textContent = "Choose the order.");
    if (cents === null || cents <= 0)
      return void (error.textContent = "Give an amount in dollars, like 15 or 15.50.");
    if (!reason.value.trim()) {
      error.textContent = "Say why: it goes in the ledger.";
      reason.focus();
      return;
    }
    const body = { kind, order_id: order.id, amount_cents: cents, reason: reason.value.trim() };
    submit.disabled = true;
    try {
      if (cents > allowed) {
        await post(`/desk/api/conversations/${state.selected}/approvals`, body);
        toast(
          `Approval requested: ${REMEDY_LABEL[kind].toLowerCase()} of ${money(cents)}. You'll see the decision here.`,
        );
        await loadApprovals();
      } else {
        const made = await post(`/desk/api/conversations/${state.selected}/grants`, body);
        toast(
          `${REMEDY_LABEL[kind]} of ${money(cents)} done${made.applied && made.applied.replacement_order_id ? `: order ${made.applied.replacement_order_id}` : ""}.`,
          "success",
        );
      }
      await reloadView(state.selected);
    } catch (failure) {
      error.textContent = failure.message;
      submit.disabled = false;
    }
  });
  queueMicrotask(prefill);
  const requests = state.approvals.filter((a) => a.conversation_id === view.conversation_id);
  return h(
    "section",
    { class: "card", "aria-labelledby": "remedy-title" },
    h("h2", { id: "remedy-title", class: "card-title", text: "Put it right" }),
    form,
    view.grants.length
      ? h(
          "div",
          { class: "given" },
          h("h3", { text: "Given in this conversation" }),
          h(
            "ul",
            { class: "plain" },
            view.grants.map((g) =>
              h(
                "li",
                { class: "grant" },
                h("strong", { text: `${REMEDY_LABEL[g.kind]} ${money(g.amount_cents)}` }),
                ` on #${g.order_id}`,
                g.flagged_for_audit
                  ? h("span", { class: "badge badge-escalated", text: "Flagged for audit" })
                  : null,
                g.approval_id ? h("span", { class: "badge", text: "Approved" }) : null,
              ),
            ),
          ),
        )
      : null,
    requests.length
      ? h(
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
        )
      : null,
  );
}
