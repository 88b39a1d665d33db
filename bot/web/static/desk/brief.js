// The case brief: why the bot handed over, the signals it saw, what it already answered and the
// suggested next steps.

import { highlight } from "./conversation.js";
import { state } from "./state.js";
import { h, languageName, words, reasonLabel } from "../shared/dom.js";

// The words agents see for a signal come with the desk's configuration (policy.py SIGNALS).
export function signalLabel(name) {
  return state.config.signal_labels[name] || words(name);
}

// A brief the service wrote when the bot failed lists no turns, only how often the bot answered.
function earlierAnswers(count) {
  if (!count) return "Nothing yet.";
  return (
    `${count} answer${count === 1 ? "" : "s"} earlier in this conversation: ` +
    "see the transcript."
  );
}

// What the agent asked to see in full, by conversation: a re-render keeps it open.
const expanded = new Set();
const COMPACT_STEPS = 2; // the first ones matter most: the policy lists them in order

// One line per answer: what the customer asked and what the bot said (a brief the service
// wrote from the transcript), or the bot's response by name (a brief from the bot).
function answerLine(a) {
  if (a.asked) return [h("strong", { text: `“${a.asked}”` }), ` → ${a.answer || ""}`];
  return words(a.response);
}

function signalChips(signals, turns) {
  return h(
    "ul",
    { class: "chips", "aria-label": "Signals" },
    signals.map((s) =>
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
          `${signalLabel(s.name)} · turn ${s.turn} · +${s.weight}`,
        ),
      ),
    ),
  );
}

function stepList(steps) {
  return h(
    "ol",
    { class: "steps" },
    steps.map((s) => h("li", { text: s, title: s })),
  );
}

// The compact default (issue 12, item 8): the reason in the title row, the signals and the first
// next steps one line each; the summary, what the bot answered and every step on demand, so
// the transcript keeps most of the column.
export function brief(view, turns) {
  const b = view.brief || {};
  const cid = state.selected;
  const open = expanded.has(cid);
  const answered = (b.answered || []).filter((a) => a.response || a.asked);
  const steps = b.suggested_next_steps || [];
  const signals = b.signals || [];
  const orders = b.entities?.order_id || [];
  const score = typeof b.frustration_score === "number" && b.frustration_score > 0;
  const more = h(
    "div",
    { class: "brief-more", id: "brief-more", hidden: !open },
    h("p", { class: "brief-summary", text: b.summary || view.ticket.summary || "No summary." }),
    h(
      "div",
      { class: "brief-grid" },
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
                  h("span", {}, answerLine(a)),
                ),
              ),
            )
          : h("p", { class: "muted", text: earlierAnswers(b.bot_answers) }),
      ),
      h(
        "section",
        { "aria-labelledby": "brief-steps" },
        h("h3", { id: "brief-steps", text: "Suggested next steps" }),
        steps.length ? stepList(steps) : h("p", { class: "muted", text: "Read the transcript." }),
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
  const compact = h(
    "div",
    { class: "brief-compact", hidden: open },
    steps.length
      ? h(
          "div",
          { class: "brief-next" },
          h("h3", { text: "Next" }),
          stepList(steps.slice(0, COMPACT_STEPS)),
        )
      : null,
  );
  const toggle = h("button", {
    type: "button",
    class: "brief-toggle",
    "aria-expanded": String(open),
    "aria-controls": "brief-more",
    text: open ? "Show less of the brief" : "Show the whole brief",
  });
  toggle.addEventListener("click", () => {
    const show = !expanded.has(cid);
    if (show) expanded.add(cid);
    else expanded.delete(cid);
    more.hidden = !show;
    compact.hidden = show;
    toggle.setAttribute("aria-expanded", String(show));
    toggle.textContent = show ? "Show less of the brief" : "Show the whole brief";
  });
  return h(
    "section",
    { class: "brief", "aria-labelledby": "brief-title" },
    h(
      "div",
      { class: "brief-head" },
      h("h2", { class: "brief-title", id: "brief-title", text: "Case brief" }),
      h("span", {
        class: "badge badge-reason",
        text: reasonLabel(b.reason || view.ticket.reason, b.rule),
      }),
      view.ticket.priority === "high"
        ? h("span", { class: "badge badge-high", text: "High priority" })
        : null,
      h("span", {
        class: "badge badge-lang",
        text: `Writes in ${languageName(b.language || view.language)}`,
      }),
      score
        ? h("span", {
            class: "badge badge-score",
            text: `Frustration score ${b.frustration_score} (hands over at ${b.threshold})`,
          })
        : null,
      view.ticket.escalation_note
        ? h("span", { class: "badge badge-escalated", text: "Escalated" })
        : null,
      toggle,
    ),
    view.ticket.escalation_note
      ? h("p", {
          class: "brief-escalation",
          text: `Escalation note: ${view.ticket.escalation_note}`,
        })
      : null,
    signals.length ? signalChips(signals, turns) : null,
    compact,
    more,
  );
}
