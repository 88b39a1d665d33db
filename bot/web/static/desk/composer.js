// The composer: a reply to the customer or a private note, canned replies and the bot's answers.

import { post } from "./api.js";
import { faqDialog } from "./dialogs.js";
import { socket, onNote } from "./live.js";
import { state, firstName } from "./state.js";
import { fail, toast } from "./ui.js";
import { $, h, money } from "../shared/dom.js";

export function composer(view) {
  const text = h("textarea", {
    id: "composer-text",
    rows: "3",
    maxlength: String(state.config.max_message_chars),
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
        if (reply) insert(cannedText(reply, state.views.get(state.selected)));
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

export function setComposing(kind) {
  state.composing = kind;
  const form = document.querySelector(".composer");
  if (!form) return;
  const [reply, note] = form.querySelectorAll(".seg");
  reply.setAttribute("aria-pressed", String(kind === "reply"));
  note.setAttribute("aria-pressed", String(kind === "note"));
  form.classList.toggle("is-note", kind === "note");
  const view = state.views.get(state.selected);
  const who = firstName(view);
  $("#composer-hint").textContent =
    kind === "note"
      ? "Private note: the customer does not see this."
      : `${who[0].toUpperCase()}${who.slice(1)} sees this.`;
  $("#composer-label").textContent = kind === "note" ? "Private note" : `Reply to ${who}`;
  $("#composer-text").placeholder =
    kind === "note"
      ? "Private note: only colleagues see it…"
      : `Write to ${who}… (Enter sends, Shift+Enter for a new line)`;
  $("#composer-send").textContent = kind === "note" ? "Add note" : "Send";
}

// A reply about a remedy says the amount just given: the latest such grant in the conversation
// the shop has done (grants come oldest first); without one, the sentence reads without it. One
// the shop's systems have not confirmed yet is not "done" to tell the customer.
function cannedText(reply, view) {
  if (!reply.remedy) return reply.text;
  const ofKind = (view.grants || []).filter((g) => g.kind === reply.remedy);
  if (
    ofKind.some(
      (g) => g.delivery && g.delivery.state !== "done" && g.delivery.state !== "cancelled",
    )
  )
    toast(
      "The shop's systems have not confirmed every such grant yet: wait for “Done by the shop” " +
        "before telling the customer it is done.",
      "warn",
    );
  const given = ofKind.filter((g) => !g.delivery || g.delivery.state === "done").at(-1);
  return given
    ? reply.text.replaceAll("{amount}", money(given.amount_cents))
    : reply.text.replace(/ (of )?\{amount\}/g, "");
}

export function insert(text) {
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
