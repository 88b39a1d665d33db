// Your conversations: the ones this person holds or was escalated, with unread markers; opening
// one draws it in the middle column.

import { renderConversation } from "./conversation.js";
import { reloadView } from "./load.js";
import { state, customerName, myConversationIds, ticketOf, updateTitle } from "./state.js";
import { $, clear, h, reasonLabel } from "../shared/dom.js";

export function renderMine() {
  const ids = myConversationIds();
  const list = $("#mine-list");
  // the seats count only what this person holds: a conversation a supervisor joined takes none
  const seats = state.me ? `${state.assigned.length}/${state.me.max_concurrent}` : "";
  $("#mine-count").textContent =
    ids.length === state.assigned.length ? seats : `${ids.length} · seats ${seats}`;
  $("#mine-empty").hidden = ids.length > 0;
  clear(
    list,
    ids.map((cid) => {
      const view = state.views.get(cid);
      const ticket = ticketOf(cid) || view?.ticket;
      const unread = state.unread.get(cid) || 0;
      const last = view ? [...view.transcript].reverse().find((m) => m.role !== "system") : null;
      const label = `${customerName(view)}${unread ? `, ${unread} unread` : ""}`;
      return h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class:
              `mine-item${cid === state.selected ? " is-selected" : ""}` +
              (unread ? " is-unread" : ""),
            "aria-current": cid === state.selected ? "true" : undefined,
            "aria-label": label,
            onclick: () => open(cid),
          },
          h("span", { class: "avatar", "aria-hidden": "true", text: customerName(view).charAt(0) }),
          h(
            "span",
            { class: "mine-text" },
            h("span", { class: "mine-name", text: customerName(view) }),
            h("span", {
              class: "mine-preview",
              text: last ? `${last.role === "agent" ? "You: " : ""}${last.text}` : "",
            }),
            ticket ? h("span", { class: "mine-reason", text: reasonLabel(ticket.reason) }) : null,
          ),
          unread ? h("span", { class: "unread", text: String(unread) }) : null,
        ),
      );
    }),
  );
}

export async function open(cid) {
  if (state.selected && state.selected !== cid) saveDraft();
  state.selected = cid;
  history.replaceState(null, "", `#c=${encodeURIComponent(cid)}`);
  state.unread.delete(cid);
  updateTitle();
  if (!state.views.has(cid)) await reloadView(cid, false);
  renderMine();
  renderConversation();
  const title = $("#conv-title");
  if (title) title.focus();
}

function saveDraft() {
  const text = $("#composer-text");
  if (text && state.selected) state.drafts.set(state.selected, text.value);
}
