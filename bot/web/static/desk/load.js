// Loading from the desk API: the queue, this person's conversations, each conversation's view
// and the approval requests. The database is the source of truth: after a change, load again.

import { get, ApiError } from "./api.js";
import { renderConversation } from "./conversation.js";
import { socket } from "./live.js";
import { renderMine } from "./mine.js";
import { renderQueue } from "./queue.js";
import { BASE_TITLE, chime, state, myConversationIds, saveExtra, updateTitle } from "./state.js";
import { toast } from "./ui.js";

export async function loadQueue() {
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

export function loadMine() {
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

export async function reloadView(cid, render = true) {
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

export async function loadApprovals() {
  const { approvals } = await get("/desk/api/approvals");
  state.approvals = approvals;
}

export function dropConversation(cid) {
  state.views.delete(cid);
  state.unread.delete(cid);
  socket.unwatch(cid);
  updateTitle();
}

export async function refreshAll() {
  await Promise.all([loadQueue(), loadApprovals()]);
  for (const id of myConversationIds()) await reloadView(id, false);
  await loadMine();
  if (state.selected) renderConversation();
}
