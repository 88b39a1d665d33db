// One conversation in the middle column: its header and actions, the case brief, the transcript
// (with the brief's turns and signals marked on it) and the composer.

import { brief, signalLabel } from "./brief.js";
import { composer } from "./composer.js";
import { renderContext } from "./customer.js";
import { escalateDialog, resolveDialog, returnDialog, transferDialog } from "./dialogs.js";
import { MODE_LABEL, state, customerName } from "./state.js";
import { $, clear, clock, h, linkify } from "../shared/dom.js";

// Which transcript message each of the brief's turns is: the brief counts the customer's messages
// the bot saw since it last took over, up to the handoff (the latest "handoff" event).
function turnMessages(view) {
  const turns = new Map();
  const brief = view.brief || {};
  const count = Math.max(
    0,
    ...(brief.intents || []).map((i) => i.turn || 0),
    ...(brief.signals || []).map((s) => s.turn || 0),
  );
  const handoffs = view.events.filter((e) => e.kind === "handoff");
  if (!count || !handoffs.length) return turns;
  const at = new Date(handoffs[handoffs.length - 1].at).getTime();
  const before = view.transcript.filter(
    (m) => m.role === "customer" && new Date(m.created_at).getTime() <= at,
  );
  const first = before.length - count;
  for (let turn = 1; turn <= count; turn += 1) {
    const message = before[first + turn - 1];
    if (message) turns.set(turn, message.seq);
  }
  return turns;
}

export function renderConversation() {
  const body = $("#conversation-body");
  const view = state.selected ? state.views.get(state.selected) : null;
  $("#placeholder").hidden = Boolean(view);
  body.hidden = !view;
  $("#context").hidden = !view;
  if (!view) {
    clear(body);
    clear($("#context"));
    return;
  }
  // a re-render of the same conversation keeps what the agent is typing
  const typed = $("#composer-text");
  const keep =
    typed && body.dataset.cid === state.selected
      ? { value: typed.value, focused: document.activeElement === typed }
      : null;
  // each conversation opens on Reply: a note mode carried over would send a greeting as a note
  if (body.dataset.cid !== state.selected) state.composing = "reply";
  body.dataset.cid = state.selected;
  const turns = turnMessages(view);
  view.turnOf = new Map([...turns].map(([turn, seq]) => [seq, turn]));
  view.signalsBySeq = new Map();
  for (const signal of view.brief?.signals || []) {
    const seq = turns.get(signal.turn);
    if (seq === undefined) continue;
    if (!view.signalsBySeq.has(seq)) view.signalsBySeq.set(seq, []);
    view.signalsBySeq.get(seq).push(signal);
  }
  clear(body, header(view), brief(view, turns), thread(view), composer(view));
  renderStatus();
  const text = $("#composer-text");
  text.value = keep ? keep.value : state.drafts.get(state.selected) || "";
  if (keep?.focused) text.focus();
  scrollTranscript();
  renderContext();
}

function header(view) {
  return h(
    "header",
    { class: "conv-head" },
    h(
      "div",
      { class: "conv-who" },
      h("h2", { id: "conv-title", tabindex: "-1", text: customerName(view) }),
      h("p", { class: "conv-sub", id: "conv-status" }),
    ),
    h(
      "div",
      { class: "conv-actions", role: "group", "aria-label": "Conversation actions" },
      h("button", {
        type: "button",
        class: "btn btn-quiet",
        text: "Transfer",
        onclick: transferDialog,
      }),
      h("button", {
        type: "button",
        class: "btn btn-quiet",
        text: "Escalate",
        onclick: escalateDialog,
      }),
      h("button", {
        type: "button",
        class: "btn btn-secondary",
        text: "Return to bot",
        onclick: returnDialog,
      }),
      h("button", {
        type: "button",
        class: "btn btn-primary",
        text: "Resolve",
        onclick: resolveDialog,
      }),
    ),
  );
}

export function renderStatus() {
  const view = state.views.get(state.selected);
  const line = $("#conv-status");
  if (!view || !line) return;
  const ticket = view.ticket;
  const bits = [MODE_LABEL[view.mode] || view.mode, view.language.toUpperCase()];
  if (ticket.claimed_at) bits.push(`claimed ${clock(ticket.claimed_at)}`);
  if (view.customer) bits.push(view.customer.id);
  line.textContent = bits.join(" · ");
  const closed = view.mode !== "assigned";
  for (const button of document.querySelectorAll(
    ".conv-actions button, .composer button, .composer textarea",
  )) {
    button.disabled = closed;
  }
  const notice = $("#conv-notice");
  if (notice) {
    notice.hidden = !closed;
    notice.textContent = closed
      ? `This conversation is ${MODE_LABEL[view.mode].toLowerCase()} now.`
      : "";
  }
}

export function highlight(seq) {
  const item = document.querySelector(`.transcript [data-seq="${seq}"]`);
  if (!item) return;
  item.scrollIntoView({ block: "center", behavior: "smooth" });
  item.classList.remove("flash");
  void item.offsetWidth;
  item.classList.add("flash");
  item.focus();
}

function thread(view) {
  const items = [
    ...view.transcript.map((m) => ({ ...m, kind: "message" })),
    ...view.notes.map((n) => ({ ...n, kind: "note" })),
  ];
  items.sort(
    (a, b) => new Date(a.created_at) - new Date(b.created_at) || (a.seq || 0) - (b.seq || 0),
  );
  return h(
    "section",
    { class: "thread", "aria-labelledby": "transcript-title" },
    h("h3", { class: "sr-only", id: "transcript-title", text: "Transcript" }),
    h("p", { class: "conv-notice", id: "conv-notice", role: "status", hidden: true }),
    h(
      "ol",
      {
        class: "transcript",
        id: "transcript",
        role: "log",
        "aria-live": "polite",
        "aria-relevant": "additions",
      },
      items.map((item) => transcriptItem(view, item)),
    ),
    h("p", { class: "typing-line", id: "typing-line", "aria-live": "polite" }),
  );
}

function senderLabel(message) {
  if (message.role === "customer") return "Customer";
  if (message.role === "bot") return "Bot";
  if (message.role === "agent") return message.agent || "Agent";
  return "Notice";
}

function transcriptItem(view, item) {
  if (item.kind === "note") {
    return h(
      "li",
      { class: "item note" },
      h(
        "p",
        { class: "item-head" },
        h("strong", { text: `Private note · ${item.author}` }),
        h("time", { datetime: item.created_at, text: clock(item.created_at) }),
      ),
      h("p", { class: "item-text", text: item.text }),
    );
  }
  const signals = view.signalsBySeq?.get(item.seq) || [];
  const turn = view.turnOf?.get(item.seq);
  return h(
    "li",
    {
      class: `item role-${item.role}${signals.length ? " has-signal" : ""}`,
      dataset: { seq: item.seq },
      tabindex: signals.length ? "-1" : undefined,
    },
    h(
      "p",
      { class: "item-head" },
      h("strong", { text: senderLabel(item) }),
      turn ? h("span", { class: "turn", text: `turn ${turn}` }) : null,
      h("time", { datetime: item.created_at, text: clock(item.created_at) }),
    ),
    h("p", { class: "item-text" }, linkify(item.text)),
    item.buttons
      ? h("p", {
          class: "item-buttons",
          text: `Offered: ${item.buttons.map((b) => b.title).join(" · ")}`,
        })
      : null,
    signals.length
      ? h(
          "ul",
          { class: "chips item-signals", "aria-label": "Signals in this message" },
          signals.map((s) =>
            h("li", {
              class: "chip chip-signal",
              text: `${signalLabel(s.name)} +${s.weight}`,
            }),
          ),
        )
      : null,
  );
}

export function appendItem(item) {
  const list = $("#transcript");
  const view = state.views.get(state.selected);
  if (!list || !view) return;
  const stick =
    list.parentElement.scrollHeight -
      list.parentElement.scrollTop -
      list.parentElement.clientHeight <
    160;
  list.append(transcriptItem(view, item.kind ? item : { ...item, kind: "message" }));
  if (stick || item.role === "agent" || item.kind === "note") scrollTranscript();
}

function scrollTranscript() {
  const thread = document.querySelector(".thread");
  if (thread) requestAnimationFrame(() => (thread.scrollTop = thread.scrollHeight));
}
