// The dialogs: return to the bot, resolve, escalate, transfer and searching the bot's answers;
// and the labelled field they (and the customer's cards) are made of.

import { get, post } from "./api.js";
import { insert, setComposing } from "./composer.js";
import { renderConversation } from "./conversation.js";
import { dropConversation, loadMine, reloadView } from "./load.js";
import { open } from "./mine.js";
import { state, firstName, myConversationIds, saveExtra } from "./state.js";
import { fail, toast } from "./ui.js";
import { $, clear, h, words } from "../shared/dom.js";

const OUTCOME_FOR = {
  credit: "credited",
  refund: "refunded",
  fee_waiver: "fee_waived",
  replacement: "replaced",
};

function dialog(title, fields, okLabel, onOk) {
  const box = $("#dialog");
  const form = box.querySelector("form");
  $("#dialog-title").textContent = title;
  clear(box.querySelector(".dialog-body"), fields);
  // no okLabel: a dialog to look things up, with one way out
  const ok = box.querySelector("[data-ok]");
  ok.hidden = !okLabel;
  ok.textContent = okLabel || "";
  box.querySelector("[data-cancel]").textContent = okLabel ? "Cancel" : "Close";
  const error = box.querySelector(".form-error");
  error.textContent = "";
  const close = () => box.close();
  box.querySelector("[data-cancel]").onclick = close;
  form.onsubmit = async (event) => {
    event.preventDefault();
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

export function field(id, label, control, hint) {
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

export function returnDialog() {
  const cid = state.selected;
  const view = state.views.get(cid);
  dialog(
    "Return to the bot",
    [
      h("p", {
        text:
          `The bot takes the conversation back and confirms to ${firstName(view)} what you ` +
          `arranged.`,
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

export function resolveDialog() {
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

export function escalateDialog() {
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

export async function transferDialog() {
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

export function faqDialog() {
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
  // Enter searches at once rather than closing the dialog
  dialog("Search the bot's answers", [field("faq-q", "Search", search), results], null, () => {
    clearTimeout(timer);
    run();
    return false;
  });
}
