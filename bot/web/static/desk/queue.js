// The queue: tickets waiting for a person, each with its reason, wait and a Claim button.

import { post } from "./api.js";
import { socket } from "./live.js";
import { loadMine, loadQueue } from "./load.js";
import { open } from "./mine.js";
import { state } from "./state.js";
import { fail, toast } from "./ui.js";
import { $, clear, h, since, reasonLabel } from "../shared/dom.js";

export function renderQueue() {
  const list = $("#queue-list");
  $("#queue-count").textContent = String(state.queue.length);
  $("#queue-empty").hidden = state.queue.length > 0;
  clear(
    list,
    state.queue.map((t) =>
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
          h("span", {
            class: "badge badge-lang",
            title: "Language",
            text: t.language.toUpperCase(),
          }),
          t.escalated ? h("span", { class: "badge badge-escalated", text: "Escalated" }) : null,
          h(
            "span",
            { class: "waiting", dataset: { since: t.waiting_since } },
            h("span", { class: "sr-only", text: "Waiting " }),
            since(t.waiting_since),
          ),
        ),
        h("p", { class: "queue-summary", text: t.summary || "No summary." }),
        t.callback
          ? h("p", {
              class: "queue-callback",
              text:
                `Left contact details: ` +
                `${[t.callback.email, t.callback.phone].filter(Boolean).join(", ")}`,
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
