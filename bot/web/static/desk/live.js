// The desk websocket: frames about the queue, messages, notes, modes, typing and approvals,
// applied to what is on screen.

import { appendItem, renderStatus } from "./conversation.js";
import { renderContext } from "./customer.js";
import { loadApprovals, loadMine, loadQueue, refreshAll, reloadView } from "./load.js";
import { renderMine } from "./mine.js";
import { DeskSocket, showConnection } from "./socket.js";
import { chime, state, firstName, updateTitle } from "./state.js";
import { toast } from "./ui.js";
import { $, REMEDY_LABEL, money } from "../shared/dom.js";

export const socket = new DeskSocket({
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
        if (decided) {
          const kind = REMEDY_LABEL[decided.kind].toLowerCase();
          const what = `${kind} of ${money(decided.amount_cents)}`;
          toast(
            frame.approved
              ? `A supervisor approved your ${what}: it has been given.`
              : `A supervisor declined your ${what}.`,
            frame.approved ? "success" : "warn",
          );
        }
      }
      break;
    case "delivery":
      onDelivery(cid, frame);
      break;
    case "escalation":
      if (state.me.role === "supervisor") {
        toast(
          `Escalation: ${frame.by || "an agent"} asks for a supervisor. The conversation is in ` +
            "your conversations.",
          "warn",
        );
        reloadSoon();
      }
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

export function onNote(cid, note) {
  const view = state.views.get(cid);
  if (!view || view.notes.some((n) => n.id === note.id)) return;
  view.notes.push(note);
  if (cid === state.selected) appendItem({ ...note, kind: "note" });
}

// The shop's systems confirmed (or failed) a grant: the conversation's list shows it, and the
// agent holding it hears of it.
async function onDelivery(cid, frame) {
  if (!state.views.has(cid)) return;
  await reloadView(cid);
  const made = state.views.get(cid)?.grants.find((g) => g.grant_id === frame.grant_id);
  if (!made || !["done", "failed"].includes(frame.state)) return;
  const what = `${REMEDY_LABEL[made.kind]} of ${money(made.amount_cents)}`;
  toast(
    frame.state === "done"
      ? `The shop's systems confirmed the ${what.toLowerCase()}.`
      : `The shop's systems did not carry out the ${what.toLowerCase()}: don't tell the ` +
          "customer it is done. A supervisor can send it again.",
    frame.state === "done" ? "success" : "warn",
  );
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
