// The right-hand column: the customer (or a lookup to link one), remedies, orders, Autoship and
// earlier conversations.

import { get, post } from "./api.js";
import { field } from "./dialogs.js";
import { reloadView } from "./load.js";
import { remedyCard } from "./remedies.js";
import { MODE_LABEL, state } from "./state.js";
import { fail, toast } from "./ui.js";
import { $, clear, clock, day, h, money } from "../shared/dom.js";

export function renderContext() {
  const view = state.views.get(state.selected);
  const box = $("#context");
  if (!view) return;
  // a record with figures: the shop's (or the copy made when it last answered)
  const known = Boolean(view.customer?.orders);
  clear(
    box,
    view.callback ? callbackCard(view.callback) : null,
    customerCard(view),
    known ? remedyCard(view) : null,
    known ? ordersCard(view) : null,
    known ? extrasCard(view) : null,
  );
}

// The shop's systems did not answer: what is shown is from the last time they did, if ever.
function staleNotice(c) {
  if (!c.stale) return null;
  return h("p", {
    class: "stale-notice",
    role: "status",
    text: c.orders
      ? `${c.stale}. These figures are from ${day(c.as_of)} ${clock(c.as_of)} and may be out ` +
        "of date."
      : `${c.stale}, and their record has not been read before: nothing of it can be shown. ` +
        "Try again in a moment.",
  });
}

// The details a customer left when nobody could answer: the agent who claims needs them too.
function callbackCard(callback) {
  const rows = [
    ["Name", callback.name],
    [
      "E-mail",
      callback.email && h("a", { href: `mailto:${callback.email}`, text: callback.email }),
    ],
    ["Phone", callback.phone && h("a", { href: `tel:${callback.phone}`, text: callback.phone })],
    ["Note", callback.note],
  ].filter(([, value]) => value);
  return h(
    "section",
    { class: "card callback-card", "aria-labelledby": "callback-title" },
    h("h2", { id: "callback-title", class: "card-title", text: "Asked to be contacted" }),
    h(
      "dl",
      { class: "facts" },
      rows.map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]),
    ),
    h("p", { class: "muted", text: `Left at ${clock(callback.requested_at)}` }),
  );
}

function customerCard(view) {
  const c = view.customer;
  if (c && !c.orders) {
    return h(
      "section",
      { class: "card customer", "aria-labelledby": "customer-title" },
      h("h2", { id: "customer-title", class: "card-title", text: `Customer ${c.id}` }),
      staleNotice(c),
    );
  }
  if (!c) {
    const q = h("input", {
      type: "search",
      placeholder: "E-mail, name, phone or order number",
      autocomplete: "off",
    });
    const found = h("ul", { class: "plain lookup-results", "aria-live": "polite" });
    const form = h(
      "form",
      {
        class: "lookup",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const { customers } = await get(
              `/desk/api/customers?q=${encodeURIComponent(q.value.trim())}`,
            );
            clear(
              found,
              customers.length
                ? customers.map((x) =>
                    h(
                      "li",
                      {},
                      h("span", { text: `${x.name} · ${x.email}` }),
                      h("button", {
                        type: "button",
                        class: "btn btn-small btn-secondary",
                        text: "Link",
                        onclick: () => link(x.id),
                      }),
                    ),
                  )
                : h("li", { class: "muted", text: "Nobody found." }),
            );
          } catch (error) {
            fail(error);
          }
        },
      },
      field(
        "lookup-q",
        "Find the customer",
        q,
        "Check who they are first, e.g. order number and e-mail.",
      ),
      h("button", { type: "submit", class: "btn btn-secondary btn-small", text: "Search" }),
    );
    return h(
      "section",
      { class: "card", "aria-labelledby": "customer-title" },
      h("h2", { id: "customer-title", class: "card-title", text: "Customer" }),
      h("p", {
        class: "muted",
        text:
          "Not signed in on the website. Link the conversation to a customer to see their " +
          "orders and give remedies.",
      }),
      form,
      found,
    );
  }
  return h(
    "section",
    { class: "card customer", "aria-labelledby": "customer-title" },
    h(
      "div",
      { class: "customer-head" },
      h("span", { class: "avatar avatar-large", "aria-hidden": "true", text: c.name.charAt(0) }),
      h(
        "div",
        {},
        h("h2", { id: "customer-title", class: "card-title", text: c.name }),
        h("p", {
          class: "muted",
          text: `${c.id} · member since ${new Date(c.member_since).getFullYear()}`,
        }),
      ),
    ),
    staleNotice(c),
    h(
      "dl",
      { class: "facts" },
      h("dt", { text: "E-mail" }),
      h("dd", { text: c.email }),
      c.phone ? [h("dt", { text: "Phone" }), h("dd", { text: c.phone })] : null,
      c.pets ? [h("dt", { text: "Pets" }), h("dd", { text: c.pets })] : null,
      h("dt", { text: "Store credit" }),
      h("dd", { class: "credit", id: "credit-balance", text: money(c.credit_balance_cents) }),
    ),
  );
}

async function link(customerId) {
  try {
    await post(`/desk/api/conversations/${state.selected}/customer`, { customer_id: customerId });
    await reloadView(state.selected);
    toast("Customer linked.");
  } catch (error) {
    fail(error);
  }
}

function ordersCard(view) {
  const c = view.customer;
  return h(
    "section",
    { class: "card", "aria-labelledby": "orders-title" },
    h("h2", { id: "orders-title", class: "card-title", text: `Orders (${c.orders.length})` }),
    h(
      "ul",
      { class: "orders" },
      c.orders.map((o) =>
        h(
          "li",
          { class: "order", dataset: { order: o.id } },
          h(
            "p",
            { class: "order-head" },
            h("strong", { text: `#${o.id}` }),
            h("span", {
              class: `status status-${o.status.toLowerCase().replace(/[^a-z]+/g, "-")}`,
              text: o.status,
            }),
          ),
          h("p", {
            class: "muted",
            text:
              `Placed ${day(o.placed_at)}` +
              (o.replaces_order_id ? ` · replaces #${o.replaces_order_id}` : ""),
          }),
          h(
            "ul",
            { class: "lines" },
            o.lines.map((l) => h("li", { text: `${l.qty} × ${l.name}` })),
          ),
          h(
            "p",
            { class: "order-money" },
            h("span", { text: `Total ${money(o.total_cents)}` }),
            o.shipping_cents ? h("span", { text: `Shipping ${money(o.shipping_cents)}` }) : null,
            o.refunded_cents
              ? h("span", { class: "changed", text: `Refunded ${money(o.refunded_cents)}` })
              : null,
            o.fees_waived_cents
              ? h("span", { class: "changed", text: `Fees waived ${money(o.fees_waived_cents)}` })
              : null,
          ),
        ),
      ),
    ),
  );
}

function extrasCard(view) {
  const c = view.customer;
  const earlier = c.earlier_conversations.filter((e) => e.id !== view.conversation_id);
  return h(
    "section",
    { class: "card", "aria-labelledby": "more-title" },
    h("h2", { id: "more-title", class: "card-title", text: "Autoship and history" }),
    c.autoships.length
      ? h(
          "ul",
          { class: "plain autoships" },
          c.autoships.map((a) =>
            h(
              "li",
              {},
              h("strong", { text: a.product }),
              h("span", {
                class: "muted",
                text:
                  ` every ${a.every_weeks} weeks · next ${day(a.next_delivery)} · ` +
                  `${money(a.price_cents)} · ${a.status}`,
              }),
            ),
          ),
        )
      : h("p", { class: "muted", text: "No Autoship." }),
    h("h3", { text: "Earlier conversations" }),
    earlier.length
      ? h(
          "ul",
          { class: "plain" },
          earlier.slice(0, 6).map((e) =>
            h("li", {
              class: "muted",
              text: `${day(e.started)} · ${MODE_LABEL[e.mode] || e.mode}`,
            }),
          ),
        )
      : h("p", { class: "muted", text: "This is their first chat." }),
  );
}
