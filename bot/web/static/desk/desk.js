// The agent desk: the queue, the conversations this person holds (several at once, with unread
// markers), the case brief, the transcript, the composer, the customer and the remedies.
//
// What it shows comes from the desk API (bot/desk/__init__.py); live changes come over the desk
// websocket (bot/desk/api/socket.py). After a reconnect it reloads, since the database is the
// source of truth. All text goes in with textContent (shared/dom.js).

import { ApiError, get, post } from "./api.js";
import { currentUser, showRoleLinks, signIn, signOut } from "./session.js";
import { DeskSocket, showConnection } from "./socket.js";
import { fail, toast } from "./ui.js";
import {
  $,
  REMEDY_LABEL,
  clear,
  clock,
  day,
  h,
  linkify,
  money,
  parseDollars,
  paw,
  reasonLabel,
  since,
  words,
} from "../shared/dom.js";

for (const mark of document.querySelectorAll("[data-paw]")) mark.append(paw());

const BASE_TITLE = document.title;
const OUTCOME_FOR = {
  credit: "credited",
  refund: "refunded",
  fee_waiver: "fee_waived",
  replacement: "replaced",
};
const MODE_LABEL = {
  bot: "With the bot",
  queued: "Waiting in the queue",
  assigned: "With a person",
  closed: "Closed",
};
const SIGNAL_LABEL = {
  repeated_question: "Repeated question",
  negative_feedback: "Said it didn't help",
  shouting: "Shouting",
  insult: "Insult",
  urgency: "Urgent",
  churn_threat: "Threatens to leave",
  misunderstood: "Not understood",
};

const state = {
  me: null,
  config: {
    wrap_ups: ["resolved"],
    teams: [],
    remedies: ["credit", "refund", "fee_waiver", "replacement"],
    audit_threshold_cents: 25000,
  },
  canned: [],
  queue: [],
  seenTickets: null,
  assigned: [],
  escalated: [],
  extra: new Set(JSON.parse(sessionStorage.getItem("desk-extra") || "[]")),
  views: new Map(),
  unread: new Map(),
  typingTimers: new Map(),
  drafts: new Map(),
  approvals: [],
  selected: null,
  composing: "reply",
  sound: localStorage.getItem("desk-sound") !== "off",
  lastTyping: 0,
};

// --- small things ------------------------------------------------------------------------------

let audio = null;
// A brief the service wrote when the bot failed lists no turns, only how often the bot answered.
function earlierAnswers(count) {
  if (!count) return "Nothing yet.";
  return `${count} answer${count === 1 ? "" : "s"} earlier in this conversation: see the transcript.`;
}

function chime() {
  if (!state.sound) return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.12, 1320],
    ]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.12, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.3);
    }
  } catch {
    /* no audio: the title still says it */
  }
}

function totalUnread() {
  let total = 0;
  for (const count of state.unread.values()) total += count;
  return total;
}

function updateTitle() {
  const total = totalUnread();
  document.title = total ? `(${total}) ${BASE_TITLE}` : BASE_TITLE;
}

function customerName(view) {
  return view && view.customer ? view.customer.name : "Guest customer";
}

function firstName(view) {
  return view && view.customer ? view.customer.name.split(" ")[0] : "the customer";
}

function myConversationIds() {
  const ids = [];
  for (const t of state.assigned) ids.push(t.conversation_id);
  for (const t of state.escalated)
    if (!ids.includes(t.conversation_id)) ids.push(t.conversation_id);
  for (const id of state.extra) if (!ids.includes(id)) ids.push(id);
  return ids;
}

function ticketOf(cid) {
  return (
    state.assigned.find((t) => t.conversation_id === cid) ||
    state.escalated.find((t) => t.conversation_id === cid) ||
    null
  );
}

function saveExtra() {
  sessionStorage.setItem("desk-extra", JSON.stringify([...state.extra]));
}

// --- the socket --------------------------------------------------------------------------------

const socket = new DeskSocket({
  onState: showConnection(refreshAll, {
    open: "Online",
    connecting: "Connecting…",
    signed_out: "Signed out",
    down: "Offline, reconnecting…",
  }),
  onFrame,
});

let reloadTimer = null;
function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    loadQueue().catch(() => {});
    loadMine().catch(() => {});
  }, 150);
}

function onFrame(frame) {
  const cid = frame.conversation_id;
  switch (frame.type) {
    case "queue":
      reloadSoon();
      break;
    case "message":
      onMessage(cid, frame);
      break;
    case "note":
      onNote(cid, frame);
      break;
    case "mode":
      onMode(cid, frame);
      break;
    case "typing":
      if (frame.role === "customer") showTyping(cid);
      break;
    case "approvals":
      loadApprovals().then(() => {
        if (frame.decided && state.views.has(frame.conversation_id))
          reloadView(frame.conversation_id);
        if (state.selected) renderContext();
      });
      if (frame.decided) {
        const decided = state.approvals.find((a) => a.id === frame.decided);
        if (decided)
          toast(`A supervisor decided your ${REMEDY_LABEL[decided.kind].toLowerCase()} request.`);
      }
      break;
    case "escalation":
      if (state.me.role === "supervisor") reloadSoon();
      break;
    default:
      break;
  }
}

function onMessage(cid, message) {
  const view = state.views.get(cid);
  if (!view) return;
  if (view.transcript.some((m) => m.seq === message.seq)) return;
  view.transcript.push(message);
  view.transcript.sort((a, b) => a.seq - b.seq);
  if (message.role === "customer") {
    clearTyping(cid);
    if (cid !== state.selected || document.hidden) {
      state.unread.set(cid, (state.unread.get(cid) || 0) + 1);
      chime();
    }
  }
  if (cid === state.selected) appendItem(message);
  renderMine();
  updateTitle();
}

function onNote(cid, note) {
  const view = state.views.get(cid);
  if (!view || view.notes.some((n) => n.id === note.id)) return;
  view.notes.push(note);
  if (cid === state.selected) appendItem({ ...note, kind: "note" });
}

function onMode(cid, frame) {
  const view = state.views.get(cid);
  if (view) view.mode = frame.mode;
  if (cid === state.selected) renderStatus();
  if (frame.mode !== "assigned") reloadSoon();
}

function showTyping(cid) {
  clearTimeout(state.typingTimers.get(cid));
  state.typingTimers.set(
    cid,
    setTimeout(() => clearTyping(cid), 4000),
  );
  if (cid === state.selected) {
    const line = $("#typing-line");
    if (line) line.textContent = `${firstName(state.views.get(cid))} is typing…`;
  }
}

function clearTyping(cid) {
  clearTimeout(state.typingTimers.get(cid));
  state.typingTimers.delete(cid);
  if (cid === state.selected) {
    const line = $("#typing-line");
    if (line) line.textContent = "";
  }
}

// --- loading -----------------------------------------------------------------------------------

async function loadQueue() {
  const { waiting } = await get("/desk/api/queue");
  const fresh = state.seenTickets ? waiting.filter((t) => !state.seenTickets.has(t.ticket_id)) : [];
  state.seenTickets = new Set(waiting.map((t) => t.ticket_id));
  state.queue = waiting;
  renderQueue();
  if (fresh.length) {
    chime();
    if (document.hidden) document.title = `New in queue · ${BASE_TITLE}`;
  }
}

// One at a time, so an answer fetched before a claim never overwrites one fetched after it.
let mineRun = Promise.resolve();
function loadMine() {
  mineRun = mineRun.then(loadMineNow, loadMineNow);
  return mineRun;
}

async function loadMineNow() {
  const { assigned, escalated } = await get("/desk/api/mine");
  state.assigned = assigned;
  state.escalated = escalated;
  const ids = myConversationIds();
  for (const id of ids) {
    if (!socket.watching.has(id)) socket.watch(id);
    if (!state.views.has(id)) await reloadView(id, false);
  }
  for (const id of [...state.views.keys()]) {
    if (!ids.includes(id)) dropConversation(id);
  }
  renderMine();
  if (state.selected && !ids.includes(state.selected)) {
    toast("That conversation is no longer yours: it went back to the queue or to the bot.");
    state.selected = null;
    renderConversation();
  }
}

async function reloadView(cid, render = true) {
  try {
    const view = await get(`/desk/api/conversations/${encodeURIComponent(cid)}`);
    state.views.set(cid, view);
  } catch (error) {
    if (
      error instanceof ApiError &&
      (error.status === 403 || error.status === 409 || error.status === 404)
    ) {
      state.extra.delete(cid);
      saveExtra();
      dropConversation(cid);
      if (render) toast(error.message, "error");
      return;
    }
    throw error;
  }
  if (render && cid === state.selected) {
    renderConversation();
  }
  renderMine();
}

async function loadApprovals() {
  const { approvals } = await get("/desk/api/approvals");
  state.approvals = approvals;
}

function dropConversation(cid) {
  state.views.delete(cid);
  state.unread.delete(cid);
  socket.unwatch(cid);
  updateTitle();
}

async function refreshAll() {
  await Promise.all([loadQueue(), loadApprovals()]);
  for (const id of myConversationIds()) await reloadView(id, false);
  await loadMine();
  if (state.selected) renderConversation();
}

// --- the queue ---------------------------------------------------------------------------------

function renderQueue() {
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
              text: `Left contact details: ${[t.callback.email, t.callback.phone].filter(Boolean).join(", ")}`,
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

// --- your conversations ------------------------------------------------------------------------

function renderMine() {
  const ids = myConversationIds();
  const list = $("#mine-list");
  $("#mine-count").textContent =
    `${state.assigned.length}${state.me ? `/${state.me.max_concurrent}` : ""}`;
  $("#mine-empty").hidden = ids.length > 0;
  clear(
    list,
    ids.map((cid) => {
      const view = state.views.get(cid);
      const ticket = ticketOf(cid) || (view && view.ticket);
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
            class: `mine-item${cid === state.selected ? " is-selected" : ""}${unread ? " is-unread" : ""}`,
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

async function open(cid) {
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

// --- one conversation --------------------------------------------------------------------------

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

function renderConversation() {
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
  body.dataset.cid = state.selected;
  const turns = turnMessages(view);
  view.turnOf = new Map([...turns].map(([turn, seq]) => [seq, turn]));
  view.signalsBySeq = new Map();
  for (const signal of (view.brief && view.brief.signals) || []) {
    const seq = turns.get(signal.turn);
    if (seq === undefined) continue;
    if (!view.signalsBySeq.has(seq)) view.signalsBySeq.set(seq, []);
    view.signalsBySeq.get(seq).push(signal);
  }
  clear(body, header(view), brief(view, turns), thread(view), composer(view));
  renderStatus();
  const text = $("#composer-text");
  text.value = keep ? keep.value : state.drafts.get(state.selected) || "";
  if (keep && keep.focused) text.focus();
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

function renderStatus() {
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

function brief(view, turns) {
  const b = view.brief || {};
  const answered = (b.answered || []).filter((a) => a.response);
  const steps = b.suggested_next_steps || [];
  const orders = (b.entities && b.entities.order_id) || [];
  const score = typeof b.frustration_score === "number" && b.frustration_score > 0;
  return h(
    "details",
    { class: "brief", open: true },
    h(
      "summary",
      {},
      h("span", { class: "brief-title", id: "brief-title", text: "Case brief" }),
      h("span", {
        class: "badge badge-reason",
        text: reasonLabel(b.reason || view.ticket.reason, b.rule),
      }),
      view.ticket.priority === "high"
        ? h("span", { class: "badge badge-high", text: "High priority" })
        : null,
      score
        ? h("span", {
            class: "badge badge-score",
            text: `Frustration score ${b.frustration_score} (hands over at ${b.threshold})`,
          })
        : null,
      view.ticket.escalation_note
        ? h("span", { class: "badge badge-escalated", text: "Escalated" })
        : null,
    ),
    h("p", { class: "brief-summary", text: b.summary || view.ticket.summary || "No summary." }),
    view.ticket.escalation_note
      ? h("p", {
          class: "brief-escalation",
          text: `Escalation note: ${view.ticket.escalation_note}`,
        })
      : null,
    h(
      "div",
      { class: "brief-grid" },
      (b.signals || []).length
        ? h(
            "section",
            { "aria-labelledby": "brief-signals" },
            h("h3", { id: "brief-signals", text: "Signals" }),
            h(
              "ul",
              { class: "chips" },
              b.signals.map((s) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "chip chip-signal",
                      title: s.text || "",
                      disabled: !turns.has(s.turn),
                      onclick: () => highlight(turns.get(s.turn)),
                    },
                    `${SIGNAL_LABEL[s.name] || words(s.name)} · turn ${s.turn} · +${s.weight}`,
                  ),
                ),
              ),
            ),
          )
        : null,
      h(
        "section",
        { "aria-labelledby": "brief-answered" },
        h("h3", { id: "brief-answered", text: "Bot already answered" }),
        answered.length
          ? h(
              "ul",
              { class: "plain" },
              answered.map((a) =>
                h(
                  "li",
                  {},
                  h("span", { class: "turn", text: `Turn ${a.turn}` }),
                  words(a.response),
                ),
              ),
            )
          : h("p", { class: "muted", text: earlierAnswers(b.bot_answers) }),
      ),
      h(
        "section",
        { "aria-labelledby": "brief-steps" },
        h("h3", { id: "brief-steps", text: "Suggested next steps" }),
        steps.length
          ? h(
              "ol",
              { class: "steps" },
              steps.map((s) => h("li", { text: s })),
            )
          : h("p", { class: "muted", text: "Read the transcript." }),
        orders.length
          ? h(
              "p",
              { class: "brief-orders" },
              "Order mentioned: ",
              orders.map((o, i) => [i ? ", " : "", h("strong", { text: o })]),
            )
          : null,
      ),
    ),
  );
}

function highlight(seq) {
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
  const signals = (view.signalsBySeq && view.signalsBySeq.get(item.seq)) || [];
  const turn = view.turnOf && view.turnOf.get(item.seq);
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
              text: `${SIGNAL_LABEL[s.name] || words(s.name)} +${s.weight}`,
            }),
          ),
        )
      : null,
  );
}

function appendItem(item) {
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

// --- composer ----------------------------------------------------------------------------------

function composer(view) {
  const text = h("textarea", {
    id: "composer-text",
    rows: "3",
    maxlength: String(state.config.max_message_chars || 2000),
    placeholder: `Write to ${firstName(view)}… (Enter sends, Shift+Enter for a new line)`,
  });
  const label = h("label", {
    for: "composer-text",
    class: "sr-only",
    id: "composer-label",
    text: `Reply to ${firstName(view)}`,
  });
  const replyTab = h("button", {
    type: "button",
    class: "seg",
    "aria-pressed": "true",
    text: "Reply",
    onclick: () => setComposing("reply"),
  });
  const noteTab = h("button", {
    type: "button",
    class: "seg",
    "aria-pressed": "false",
    text: "Private note",
    onclick: () => setComposing("note"),
  });
  const canned = h(
    "select",
    {
      id: "canned",
      onchange: (event) => {
        const reply = state.canned.find((r) => r.id === event.target.value);
        if (reply) insert(reply.text);
        event.target.value = "";
      },
    },
    h("option", { value: "", text: "Insert a canned reply…" }),
    state.canned.map((r) => h("option", { value: r.id, text: r.title })),
  );
  const form = h(
    "form",
    { class: "composer", novalidate: true, onsubmit: sendComposer },
    h(
      "div",
      { class: "composer-top" },
      h("div", { class: "segmented", role: "group", "aria-label": "Write a" }, replyTab, noteTab),
      h("p", { class: "composer-hint", id: "composer-hint", text: "The customer sees this." }),
    ),
    label,
    text,
    h(
      "div",
      { class: "composer-bar" },
      h("label", { for: "canned", class: "sr-only", text: "Canned replies" }),
      canned,
      h("button", {
        type: "button",
        class: "btn btn-quiet",
        text: "Search answers",
        onclick: faqDialog,
      }),
      h("button", { type: "submit", class: "btn btn-primary", id: "composer-send", text: "Send" }),
    ),
  );
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener("input", () => {
    if (state.composing === "reply" && Date.now() - state.lastTyping > 2000) {
      state.lastTyping = Date.now();
      socket.send({ typing: state.selected });
    }
  });
  queueMicrotask(() => setComposing(state.composing));
  return form;
}

function setComposing(kind) {
  state.composing = kind;
  const form = document.querySelector(".composer");
  if (!form) return;
  const [reply, note] = form.querySelectorAll(".seg");
  reply.setAttribute("aria-pressed", String(kind === "reply"));
  note.setAttribute("aria-pressed", String(kind === "note"));
  form.classList.toggle("is-note", kind === "note");
  const view = state.views.get(state.selected);
  $("#composer-hint").textContent =
    kind === "note" ? "Only colleagues see private notes." : `${firstName(view)} sees this.`;
  $("#composer-label").textContent =
    kind === "note" ? "Private note" : `Reply to ${firstName(view)}`;
  $("#composer-send").textContent = kind === "note" ? "Add note" : "Send";
}

function insert(text) {
  const area = $("#composer-text");
  const start = area.selectionStart ?? area.value.length;
  const before = area.value.slice(0, start);
  const spacer = before && !/\s$/.test(before) ? " " : "";
  area.value = before + spacer + text + area.value.slice(area.selectionEnd ?? start);
  area.focus();
  area.selectionStart = area.selectionEnd = (before + spacer + text).length;
}

async function sendComposer(event) {
  event.preventDefault();
  const area = $("#composer-text");
  const text = area.value.trim();
  if (!text) return;
  const cid = state.selected;
  const button = $("#composer-send");
  button.disabled = true;
  try {
    if (state.composing === "note") {
      const note = await post(`/desk/api/conversations/${cid}/notes`, { text });
      onNote(cid, note);
    } else {
      await post(`/desk/api/conversations/${cid}/messages`, { text });
    }
    state.drafts.delete(cid);
    // the composer may have been drawn again meanwhile: clear the one on screen
    const now = $("#composer-text");
    if (now && state.selected === cid && now.value.trim() === text) now.value = "";
    area.value = "";
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
    const now = $("#composer-text");
    if (now) now.focus();
  }
}

// --- dialogs -----------------------------------------------------------------------------------

function dialog(title, fields, okLabel, onOk) {
  const box = $("#dialog");
  const form = box.querySelector("form");
  $("#dialog-title").textContent = title;
  clear(box.querySelector(".dialog-body"), fields);
  box.querySelector("[data-ok]").textContent = okLabel;
  const error = box.querySelector(".form-error");
  error.textContent = "";
  const close = () => box.close();
  box.querySelector("[data-cancel]").onclick = close;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const ok = box.querySelector("[data-ok]");
    ok.disabled = true;
    error.textContent = "";
    try {
      if ((await onOk(form)) !== false) close();
    } catch (failure) {
      error.textContent = String(failure.message || failure);
    } finally {
      ok.disabled = false;
    }
  };
  box.showModal();
  const first = box.querySelector(".dialog-body input, .dialog-body select, .dialog-body textarea");
  if (first) first.focus();
}

function field(id, label, control, hint) {
  control.id = id;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id, text: label }),
    control,
    hint ? h("p", { class: "hint", text: hint }) : null,
  );
}

function wrapUpDefault(view) {
  const last = [...view.grants].reverse()[0];
  const code = last ? OUTCOME_FOR[last.kind] : "resolved";
  return state.config.wrap_ups.includes(code) ? code : state.config.wrap_ups[0];
}

function wrapUpSelect(view) {
  const chosen = wrapUpDefault(view);
  return h(
    "select",
    { name: "code" },
    state.config.wrap_ups.map((code) =>
      h("option", { value: code, selected: code === chosen, text: words(code) }),
    ),
  );
}

function afterLeaving(cid, message) {
  toast(message);
  state.extra.delete(cid);
  saveExtra();
  state.selected = null;
  dropConversation(cid);
  loadMine().then(() => {
    const next = myConversationIds()[0];
    if (next) open(next);
    else renderConversation();
  });
}

function returnDialog() {
  const cid = state.selected;
  const view = state.views.get(cid);
  dialog(
    "Return to the bot",
    [
      h("p", {
        text: `The bot takes the conversation back and confirms to ${firstName(view)} what you arranged.`,
      }),
      field("return-outcome", "Outcome", wrapUpSelect(view)),
    ],
    "Return to bot",
    async (form) => {
      await post(`/desk/api/conversations/${cid}/return`, { outcome: form.elements.code.value });
      afterLeaving(cid, "Back with the bot. It has confirmed the outcome to the customer.");
    },
  );
}

function resolveDialog() {
  const cid = state.selected;
  const view = state.views.get(cid);
  dialog(
    "Resolve the conversation",
    [
      h("p", { text: `The chat closes and ${firstName(view)} is asked how satisfied they are.` }),
      field("resolve-code", "Wrap-up code", wrapUpSelect(view)),
    ],
    "Resolve",
    async (form) => {
      await post(`/desk/api/conversations/${cid}/resolve`, { wrap_up: form.elements.code.value });
      afterLeaving(cid, "Resolved. The customer has been asked for a rating.");
    },
  );
}

function escalateDialog() {
  const cid = state.selected;
  dialog(
    "Escalate to a supervisor",
    [
      field(
        "escalate-note",
        "What should the supervisor look at?",
        h("textarea", { name: "note", rows: "3", maxlength: "500", required: true }),
      ),
    ],
    "Escalate",
    async (form) => {
      const note = form.elements.note.value.trim();
      if (!note) throw new Error("Say what the supervisor should look at.");
      await post(`/desk/api/conversations/${cid}/escalate`, { note });
      toast("Escalated. A supervisor can see it and join.");
      reloadView(cid);
    },
  );
}

async function transferDialog() {
  const cid = state.selected;
  let colleagues = [];
  try {
    colleagues = (await get("/desk/api/colleagues")).users.filter(
      (u) => u.username !== state.me.username,
    );
  } catch (error) {
    fail(error);
  }
  const person = h(
    "select",
    { name: "agent" },
    h("option", { value: "", text: "Choose a colleague…" }),
    colleagues.map((u) =>
      h("option", {
        value: u.username,
        text: `${u.display_name} (${u.role}${u.online ? ", online" : ", offline"})`,
      }),
    ),
  );
  const team = h(
    "select",
    { name: "team" },
    h("option", { value: "", text: "Or a team…" }),
    state.config.teams.map((t) => h("option", { value: t, text: words(t) })),
  );
  dialog(
    "Transfer the conversation",
    [
      field("transfer-agent", "To a colleague", person, "They take it over at once."),
      field("transfer-team", "Or back to the queue for a team", team),
    ],
    "Transfer",
    async (form) => {
      const to = form.elements.agent.value;
      const teamName = form.elements.team.value;
      if (!to && !teamName) throw new Error("Choose a colleague or a team.");
      await post(
        `/desk/api/conversations/${cid}/transfer`,
        to ? { to_agent: to } : { to_team: teamName },
      );
      afterLeaving(cid, "Transferred.");
    },
  );
}

function faqDialog() {
  const view = state.views.get(state.selected);
  const results = h("ul", { class: "faq-results", "aria-live": "polite" });
  const search = h("input", {
    type: "search",
    name: "q",
    autocomplete: "off",
    placeholder: "e.g. refund timing, skip autoship",
  });
  let timer = null;
  const run = async () => {
    const q = search.value.trim();
    if (q.length < 2) {
      clear(results);
      return;
    }
    try {
      const { answers } = await get(
        `/desk/api/faq?q=${encodeURIComponent(q)}&language=${encodeURIComponent(view.language)}`,
      );
      clear(
        results,
        answers.length
          ? answers.map((a) =>
              h(
                "li",
                { class: "faq-result" },
                h("p", { class: "faq-topic", text: words(a.topic) }),
                h("p", { class: "faq-text", text: a.text }),
                h("button", {
                  type: "button",
                  class: "btn btn-small btn-secondary",
                  text: "Use this answer",
                  onclick: () => {
                    $("#dialog").close();
                    setComposing("reply");
                    insert(a.text);
                  },
                }),
              ),
            )
          : h("li", { class: "muted", text: "No answer matches. Try other words." }),
      );
    } catch (error) {
      fail(error);
    }
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  dialog(
    "Search the bot's answers",
    [field("faq-q", "Search", search), results],
    "Close",
    () => true,
  );
}

// --- the customer and remedies -----------------------------------------------------------------

function renderContext() {
  const view = state.views.get(state.selected);
  const box = $("#context");
  if (!view) return;
  clear(
    box,
    customerCard(view),
    view.customer ? remedyCard(view) : null,
    view.customer ? ordersCard(view) : null,
    view.customer ? extrasCard(view) : null,
  );
}

function customerCard(view) {
  const c = view.customer;
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
        text: "Not signed in on the website. Link the conversation to a customer to see their orders and give remedies.",
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

function orderLimit(order, kind) {
  if (!order) return Infinity;
  if (kind === "refund") return order.total_cents - order.refunded_cents;
  if (kind === "fee_waiver") return order.shipping_cents - order.fees_waived_cents;
  // The server values a replacement from the lines it re-ships and refuses any other figure.
  if (kind === "replacement") return order.lines.reduce((sum, l) => sum + l.qty * l.price_cents, 0);
  return Infinity;
}

function remedyCard(view) {
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
            text: `Placed ${day(o.placed_at)}${o.replaces_order_id ? ` · replaces #${o.replaces_order_id}` : ""}`,
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
                text: ` every ${a.every_weeks} weeks · next ${day(a.next_delivery)} · ${money(a.price_cents)} · ${a.status}`,
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
          earlier
            .slice(0, 6)
            .map((e) =>
              h("li", {
                class: "muted",
                text: `${day(e.started)} · ${MODE_LABEL[e.mode] || e.mode}`,
              }),
            ),
        )
      : h("p", { class: "muted", text: "This is their first chat." }),
  );
}

// --- start -------------------------------------------------------------------------------------

function tick() {
  for (const node of document.querySelectorAll(".waiting[data-since]")) {
    node.lastChild.textContent = since(node.dataset.since);
  }
}

function heartbeats() {
  for (const ticket of state.assigned) {
    post(`/desk/api/tickets/${ticket.id}/heartbeat`).catch(() => {});
  }
}

async function main() {
  let user = await currentUser().catch(() => null);
  if (!user) user = await signIn($("#login"));
  if (user.role === "designer") {
    location.replace("/desk/designer"); // designers have no queue; their page is the designer
    return;
  }
  state.me = user;
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name;
  $("#me-role").textContent = user.role;
  showRoleLinks(user);
  $("#sign-out").addEventListener("click", signOut);
  const sound = $("#sound-toggle");
  const showSound = () => {
    sound.setAttribute("aria-pressed", String(state.sound));
    sound.textContent = state.sound ? "Sound on" : "Sound off";
  };
  showSound();
  sound.addEventListener("click", () => {
    state.sound = !state.sound;
    localStorage.setItem("desk-sound", state.sound ? "on" : "off");
    showSound();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.selected) {
      state.unread.delete(state.selected);
      renderMine();
    }
    if (!document.hidden) updateTitle();
  });
  try {
    const [config, canned] = await Promise.all([
      get("/desk/api/desk-config"),
      get("/desk/api/canned-replies"),
    ]);
    state.config = config;
    state.canned = canned.replies;
  } catch (error) {
    fail(error);
  }
  socket.start();
  await Promise.all([loadQueue(), loadApprovals()]);
  await loadMine();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("c");
  if (wanted && !myConversationIds().includes(wanted)) {
    state.extra.add(wanted);
    saveExtra();
    await loadMine();
  }
  // the queue is usable before all this has loaded: an agent who claimed meanwhile is working
  const first = wanted && myConversationIds().includes(wanted) ? wanted : myConversationIds()[0];
  if (first && !state.selected) await open(first);
  setInterval(tick, 1000);
  setInterval(
    heartbeats,
    Math.max(10, Math.min(60, (state.config.lease_seconds || 300) / 4)) * 1000,
  );
}

main().catch((error) => {
  console.error(error);
  toast("The desk could not start. Reload the page.", "error");
});
