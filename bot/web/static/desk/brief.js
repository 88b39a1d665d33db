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

export function brief(view, turns) {
  const b = view.brief || {};
  const answered = (b.answered || []).filter((a) => a.response);
  const steps = b.suggested_next_steps || [];
  const orders = b.entities?.order_id || [];
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
                    `${signalLabel(s.name)} · turn ${s.turn} · +${s.weight}`,
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
