// The agent desk: the queue, the conversations this person holds (several at once, with unread
// markers), the case brief, the transcript, the composer, the customer and the remedies.
//
// What it shows comes from the desk API (bot/desk/__init__.py); live changes come over the desk
// websocket (bot/desk/api/socket.py). After a reconnect it reloads, since the database is the
// source of truth. All text goes in with textContent (shared/dom.js).
//
// This file signs in and starts the rest: state.js holds what the desk knows, load.js fetches it,
// live.js applies the websocket's frames; queue.js, mine.js, conversation.js (with brief.js and
// composer.js), customer.js (with remedies.js) and dialogs.js draw each part of the page.

import { get, post } from "./api.js";
import { socket } from "./live.js";
import { loadApprovals, loadMine, loadQueue } from "./load.js";
import { open, renderMine } from "./mine.js";
import { currentUser, showRoleLinks, signIn, signOut } from "./session.js";
import { state, myConversationIds, saveExtra, updateTitle } from "./state.js";
import { toast } from "./ui.js";
import { $, paw, since } from "../shared/dom.js";

for (const mark of document.querySelectorAll("[data-paw]")) mark.append(paw());

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
  // the menus, labels and limits come from the service: without them the desk does not start
  const [config, canned] = await Promise.all([
    get("/desk/api/desk-config"),
    get("/desk/api/canned-replies"),
  ]);
  state.config = config;
  state.canned = canned.replies;
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
  setInterval(heartbeats, Math.max(10, Math.min(60, state.config.lease_seconds / 4)) * 1000);
}

main().catch((error) => {
  console.error(error);
  toast("The desk could not start. Reload the page.", "error");
});
