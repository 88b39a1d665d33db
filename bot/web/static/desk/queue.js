// The queue: tickets waiting for a person, each with its reason, wait and a Claim button.

import { post } from "./api.js";
import { socket } from "./live.js";
import { loadMine, loadQueue } from "./load.js";
import { open } from "./mine.js";
import { state } from "./state.js";
import { fail, toast } from "./ui.js";
import { $, clear, h, languageName, since, reasonLabel } from "../shared/dom.js";

// Whether this person speaks the conversation's language.
const speaks = (t) => (state.me?.languages || ["en"]).includes(t.language);

// The server's order (high priority first, then the longest waiting), with the conversations
// in this person's languages offered first within each priority, those fewest people online
// can answer first among them (an English-speaking colleague can take the English ones).
function offered(queue) {
  const key = (t) => [
    t.priority === "high" ? 0 : 1,
    speaks(t) ? 0 : 1,
    speaks(t) ? t.speakers_online : 0,
  ];
  const byKey = (a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  return [...queue].sort(byKey);
}

function languageBadge(t) {
  const name = languageName(t.language);
  if (speaks(t)) {
    return h("span", { class: "badge badge-lang is-yours", text: `${name}: you speak it` });
  }
  const nobody = t.speakers_online === 0;
  return h("span", {
    class: `badge badge-lang${nobody ? " is-unspoken" : ""}`,
    text: nobody ? `${name}: nobody online speaks it` : name,
  });
}

function waitingWho(t) {
  if (t.customer) return t.customer;
  return t.callback?.name ? `${t.callback.name} (guest)` : "Guest customer";
}

// How to reach a customer who left details, and what they asked us to know.
export function contact(callback) {
  const ways = [callback.email, callback.phone].filter(Boolean).join(", ");
  return callback.note ? `${ways} · “${callback.note}”` : ways;
}

export function renderQueue() {
  const list = $("#queue-list");
  $("#queue-count").textContent = String(state.queue.length);
  $("#queue-empty").hidden = state.queue.length > 0;
  clear(
    list,
    offered(state.queue).map((t) =>
      h(
        "li",
        {
          class: `queue-item${t.priority === "high" ? " is-high" : ""}`,
          dataset: { ticket: t.ticket_id },
        },
        h(
          "div",
          { class: "queue-top" },
          t.priority === "high"
            ? h("span", { class: "badge badge-high", text: "High priority" })
            : null,
          h("span", { class: "badge badge-reason", text: reasonLabel(t.reason) }),
          languageBadge(t),
          t.escalated ? h("span", { class: "badge badge-escalated", text: "Escalated" }) : null,
          h(
            "span",
            { class: "waiting", dataset: { since: t.waiting_since } },
            h("span", { class: "sr-only", text: "Waiting " }),
            since(t.waiting_since),
          ),
        ),
        h("p", { class: "queue-who", text: waitingWho(t) }),
        h("p", { class: "queue-summary", text: t.summary || "No summary." }),
        t.callback
          ? h("p", {
              class: "queue-callback",
              text: `Left contact details: ${contact(t.callback)}`,
            })
          : null,
        t.team ? h("p", { class: "queue-team", text: `For the ${t.team} team` }) : null,
        h("button", {
          type: "button",
          class: "btn btn-primary btn-small claim",
          text: "Claim",
          "aria-label": `Claim: ${reasonLabel(t.reason)}, waiting ${since(t.waiting_since)}`,
          onclick: (event) => claim(t, event.currentTarget),
        }),
      ),
    ),
  );
}

async function claim(ticket, button) {
  button.disabled = true;
  try {
    const { conversation_id: cid } = await post(`/desk/api/tickets/${ticket.ticket_id}/claim`);
    socket.watch(cid);
    await loadMine();
    await loadQueue();
    await open(cid);
    toast("Claimed. The customer has been told you've joined.");
  } catch (error) {
    fail(error);
    button.disabled = false;
    loadQueue().catch(() => {});
  }
}
