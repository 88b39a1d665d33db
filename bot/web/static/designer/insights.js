// Insights over a chosen period (7, 30 or 90 days), from /desk/api/designer/insights: the number
// of conversations and the share the bot answered alone (containment), handoffs by reason,
// frustration over time, satisfaction for bot-only and agent-handled conversations, the busiest
// hours, and the largest groups of questions the bot could not answer.
//
// Each chart is inline SVG (charts.js) with a summary in words as its accessible name, and a
// table of its numbers under "Show the numbers". Days and hours are the desk's local time.

import { get } from "../desk/api.js";
import { fail, table, tile, toast } from "../desk/ui.js";
import { $, clear, h, plural, reasonLabel } from "../shared/dom.js";
import { columns, niceMax, rows } from "./charts.js";
import { percent, startPage } from "./frame.js";

const state = { days: 30, data: null };
const dayFormat = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });
const longDay = new Intl.DateTimeFormat("en-US", {
  weekday: "short",
  month: "short",
  day: "numeric",
});
const fullDate = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
});

function parseDay(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(y, m - 1, d);
}

function hourLabel(hour) {
  return `${String(hour).padStart(2, "0")}:00`;
}

function width(figure) {
  return Math.max(260, Math.floor(figure.querySelector(".chart-body").clientWidth));
}

function numbers(caption, columnsNames, body) {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", { text: "Show the numbers" }),
    table(caption, columnsNames, body, { class: "data-table" }),
  );
}

function legend(items) {
  return h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    items.map(([kind, text]) => h("li", {}, h("span", { class: `swatch swatch-${kind}` }), text)),
  );
}

function empty(text) {
  return h("p", { class: "empty", text });
}

// --- figures -------------------------------------------------------------------------------

function satisfactionText(entry) {
  return entry ? `${entry.average.toFixed(1)} / 5` : "–";
}

// Each figure as the service defines it (bot/designer/figures.py), the designer's page included.
function renderTiles(data) {
  const bot = data.satisfaction.bot;
  const agent = data.satisfaction.agent;
  const inbox = data.inbox;
  // handoffs can outnumber the conversations handed over: say so rather than show 5 for 4
  const handedNote = !data.handoffs
    ? "no handoffs"
    : data.handoffs > data.handed_over
      ? `${plural(data.handoffs, "handoff")}: some were handed over more than once`
      : plural(data.handoffs, "handoff");
  clear(
    $("#tiles"),
    tile("Conversations", String(data.conversations), "a customer wrote in the period", {
      id: "tile-conversations",
    }),
    tile("Answered by the bot alone", percent(data.containment), "containment: never handed over", {
      id: "tile-containment",
    }),
    tile("Handed to a person", String(data.handed_over), `conversations · ${handedNote}`, {
      id: "tile-handoffs",
    }),
    tile(
      "Worth a look",
      String(inbox.messages),
      `messages from ${plural(inbox.conversations, "conversation")}, in ` +
        plural(inbox.groups, "group"),
      { id: "tile-inbox" },
    ),
    tile(
      "Satisfaction, bot only",
      satisfactionText(bot),
      bot ? plural(bot.answers, "answer") : "no answers yet",
      { id: "tile-csat-bot" },
    ),
    tile(
      "Satisfaction, with a person",
      satisfactionText(agent),
      agent ? plural(agent.answers, "answer") : "no answers yet",
      { id: "tile-csat-agent" },
    ),
  );
}

// --- charts --------------------------------------------------------------------------------

function renderConversations(data, days) {
  const figure = $("#chart-conversations");
  const total = days.reduce((n, d) => n + d.conversations, 0);
  const busiest = days.reduce(
    (best, d) => (d.conversations > (best ? best.conversations : -1) ? d : best),
    null,
  );
  const contained = days.filter((d) => d.containment !== null);
  const shares = contained.map((d) => d.containment);
  const range =
    contained.length > 1
      ? `, from ${percent(Math.min(...shares))} to ${percent(Math.max(...shares))} a day`
      : "";
  const summary = total
    ? `Column chart of conversations per day, ${fullDate.format(parseDay(days[0].day))} to ` +
      `${fullDate.format(parseDay(days[days.length - 1].day))}: ${total} in all, most on ` +
      `${longDay.format(parseDay(busiest.day))} (${busiest.conversations}). Line: the share the ` +
      `bot answered alone, ${percent(data.containment)} over the period${range}.`
    : "No conversations in this period.";
  const chart = columns({
    width: width(figure),
    categories: days.map((d) => ({
      label: longDay.format(parseDay(d.day)),
      short: dayFormat.format(parseDay(d.day)),
    })),
    bars: {
      values: days.map((d) => d.conversations),
      name: "Conversations",
      format: (v) => plural(v, "conversation"),
      className: "bars-conversations",
    },
    line: {
      values: days.map((d) => d.containment),
      name: "Answered by the bot alone",
      max: 1,
      format: (v) => `${percent(v)} answered by the bot alone`,
      tickFormat: (v) => `${Math.round(v * 100)}%`,
      className: "line-containment",
    },
    summary,
  });
  clear(
    figure.querySelector(".chart-body"),
    total
      ? [
          legend([
            ["conversations", "Conversations (left axis)"],
            ["containment", "Answered by the bot alone (right axis)"],
          ]),
          chart,
        ]
      : empty(summary),
    numbers(
      "Conversations and containment per day",
      [
        "Day",
        { label: "Conversations", numeric: true },
        { label: "Answered by the bot alone", numeric: true },
      ],
      days.map((d) =>
        h(
          "tr",
          { dataset: { day: d.day } },
          h("th", { scope: "row", text: longDay.format(parseDay(d.day)) }),
          h("td", { class: "num", text: String(d.conversations) }),
          h("td", { class: "num", text: percent(d.containment) }),
        ),
      ),
    ),
  );
}

function renderReasons(data) {
  const figure = $("#chart-reasons");
  const entries = Object.entries(data.handoffs_by_reason).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((n, [, v]) => n + v, 0);
  const summary = total
    ? `Bar chart of handoffs by reason, ${total} in all: ` +
      `${entries.map(([r, n]) => `${reasonLabel(r)} ${n}`).join(", ")}.`
    : "No handoffs in this period.";
  clear(
    figure.querySelector(".chart-body"),
    total
      ? rows({
          width: width(figure),
          rows: entries.map(([reason, n]) => ({
            label: reasonLabel(reason),
            value: n,
            text: `${n} (${percent(n / total)})`,
          })),
          summary,
          className: "rows-reasons",
        })
      : empty(summary),
    numbers(
      "Handoffs by reason",
      ["Reason", { label: "Handoffs", numeric: true }, { label: "Share", numeric: true }],
      entries.map(([reason, n]) =>
        h(
          "tr",
          { dataset: { reason } },
          h("th", { scope: "row", text: reasonLabel(reason) }),
          h("td", { class: "num", text: String(n) }),
          h("td", { class: "num", text: percent(n / total) }),
        ),
      ),
    ),
  );
}

function renderSatisfaction(data) {
  const figure = $("#chart-satisfaction");
  const who = [
    ["bot", "Bot only"],
    ["agent", "With a person"],
  ];
  const answered = who.filter(([key]) => data.satisfaction[key]);
  const averages = who.map(([key, name]) => {
    const answers = data.satisfaction[key];
    if (!answers) return `${name.toLowerCase()} no answers`;
    const from = plural(answers.answers, "answer");
    return `${name.toLowerCase()} ${answers.average.toFixed(2)} from ${from}`;
  });
  const summary = answered.length
    ? `Bar chart of average satisfaction out of 5: ${averages.join("; ")}.`
    : "Nobody answered the satisfaction question in this period.";
  clear(
    figure.querySelector(".chart-body"),
    answered.length
      ? rows({
          width: width(figure),
          max: 5,
          rows: who.map(([key, name]) => {
            const entry = data.satisfaction[key];
            return {
              label: name,
              value: entry ? entry.average : 0,
              text: entry ? `${entry.average.toFixed(1)} / 5 · ${entry.answers}` : "no answers",
            };
          }),
          summary,
          className: "rows-satisfaction",
        })
      : empty(summary),
    answered.length
      ? h("p", {
          class: "muted small-text chart-note",
          text:
            "Average of the answers to the question at the end (1 to 5), and how many " +
            "answered.",
        })
      : null,
    numbers(
      "Satisfaction by who handled the conversation",
      [
        "Handled by",
        { label: "Average (1-5)", numeric: true },
        { label: "Answers", numeric: true },
      ],
      who.map(([key, name]) =>
        h(
          "tr",
          { dataset: { who: key } },
          h("th", { scope: "row", text: name }),
          h("td", {
            class: "num",
            text: data.satisfaction[key] ? data.satisfaction[key].average.toFixed(2) : "–",
          }),
          h("td", {
            class: "num",
            text: String(data.satisfaction[key] ? data.satisfaction[key].answers : 0),
          }),
        ),
      ),
    ),
  );
}

function renderFrustration(days) {
  const figure = $("#chart-frustration");
  const total = days.reduce((n, d) => n + d.frustration_handoffs, 0);
  const scores = days.map((d) => d.mean_frustration_score).filter((v) => v !== null);
  // the day with the most (days is not empty when there are any)
  const most = total
    ? days.reduce((a, b) => (b.frustration_handoffs > a.frustration_handoffs ? b : a))
    : null;
  const mostOn = most ? `, most on ${longDay.format(parseDay(most.day))}` : "";
  const range = scores.length
    ? `, from ${Math.min(...scores).toFixed(1)} to ${Math.max(...scores).toFixed(1)}`
    : "";
  const summary =
    total || scores.length
      ? `Column chart of handoffs for frustration per day: ${total} in all${mostOn}. ` +
        `Line: the mean frustration score of the day's handoffs${range}.`
      : "No handoffs for frustration and no frustration scores in this period.";
  const chart = columns({
    width: width(figure),
    categories: days.map((d) => ({
      label: longDay.format(parseDay(d.day)),
      short: dayFormat.format(parseDay(d.day)),
    })),
    bars: {
      values: days.map((d) => d.frustration_handoffs),
      name: "Handoffs for frustration",
      format: (v) => `${plural(v, "handoff")} for frustration`,
      className: "bars-frustration",
    },
    line: {
      values: days.map((d) => d.mean_frustration_score),
      name: "Mean frustration score",
      max: niceMax(Math.max(0, ...scores), 5),
      whole: true,
      format: (v) => `mean frustration score ${v.toFixed(1)}`,
      className: "line-score",
    },
    summary,
  });
  clear(
    figure.querySelector(".chart-body"),
    total || scores.length
      ? [
          legend([
            ["frustration", "Handoffs for frustration (left axis)"],
            ["score", "Mean frustration score of the day's handoffs (right axis)"],
          ]),
          chart,
        ]
      : empty(summary),
    numbers(
      "Frustration per day",
      [
        "Day",
        { label: "Handoffs for frustration", numeric: true },
        { label: "Mean frustration score", numeric: true },
      ],
      days.map((d) =>
        h(
          "tr",
          { dataset: { day: d.day } },
          h("th", { scope: "row", text: longDay.format(parseDay(d.day)) }),
          h("td", { class: "num", text: String(d.frustration_handoffs) }),
          h("td", {
            class: "num",
            text: d.mean_frustration_score === null ? "–" : d.mean_frustration_score.toFixed(1),
          }),
        ),
      ),
    ),
  );
}

function renderHours(data) {
  const figure = $("#chart-hours");
  const values = data.messages_by_hour;
  const total = values.reduce((a, b) => a + b, 0);
  const peak = values.indexOf(Math.max(...values));
  const summary = total
    ? `Column chart of customer messages by hour of day: ${total} in all, the busiest hour ` +
      `${hourLabel(peak)} to ${hourLabel((peak + 1) % 24)} with ${values[peak]}.`
    : "No customer messages in this period.";
  clear(
    figure.querySelector(".chart-body"),
    total
      ? columns({
          width: width(figure),
          height: 200,
          categories: values.map((_, hour) => ({
            label: `${hourLabel(hour)}-${hourLabel((hour + 1) % 24)}`,
            short: String(hour),
          })),
          bars: {
            values,
            name: "Messages",
            format: (v) => plural(v, "message"),
            className: "bars-hours",
          },
          summary,
          everyTick: 26,
        })
      : empty(summary),
    total
      ? h("p", { class: "muted small-text chart-note", text: "Hours of the desk's local time." })
      : null,
    numbers(
      "Customer messages by hour of day",
      ["Hour", { label: "Messages", numeric: true }],
      values.map((n, hour) =>
        h(
          "tr",
          { dataset: { hour: String(hour) } },
          h("th", { scope: "row", text: `${hourLabel(hour)}-${hourLabel((hour + 1) % 24)}` }),
          h("td", { class: "num", text: String(n) }),
        ),
      ),
    ),
  );
}

function renderUnanswered(data) {
  const groups = data.top_unanswered;
  clear(
    $("#unanswered .chart-body"),
    groups.length
      ? h(
          "ol",
          { class: "unanswered" },
          groups.map((g) =>
            h(
              "li",
              {},
              h("p", { class: "unanswered-size", text: plural(g.size, "message") }),
              h(
                "ul",
                { class: "previews" },
                g.examples.map((text) => h("li", { text: `“${text}”` })),
              ),
            ),
          ),
        )
      : empty("No unanswered questions in this period."),
    h(
      "p",
      { class: "chart-note" },
      h("a", {
        href: `/desk/designer?days=${state.days}`,
        text: "Review and label them in the designer",
      }),
    ),
  );
}

function render() {
  const data = state.data;
  if (!data) return;
  // Every day of the period, quiet ones too: the service lists them all, in the desk's time zone
  // (data.timezone), so a chart never depends on the browser's own clock.
  const days = data.days;
  const open = [...document.querySelectorAll(".chart-data[open]")].map(
    (d) => d.closest(".chart").id,
  );
  $("#period-text").textContent =
    `${fullDate.format(parseDay(days[0].day))} to ` +
    `${fullDate.format(parseDay(days[days.length - 1].day))} (${plural(data.days.length, "day")}` +
    `, to now). Days and hours are the desk's local time (${data.timezone}).`;
  renderTiles(data);
  renderConversations(data, days);
  renderReasons(data);
  renderSatisfaction(data);
  renderFrustration(days);
  renderHours(data);
  renderUnanswered(data);
  for (const id of open) document.querySelector(`#${id} .chart-data`).open = true;
}

async function load() {
  const charts = $("#charts");
  charts.setAttribute("aria-busy", "true");
  try {
    state.data = await get(`/desk/api/designer/insights?days=${state.days}`);
    render();
  } finally {
    charts.setAttribute("aria-busy", "false");
  }
}

async function main() {
  const user = await startPage();
  if (!user) return;
  const wanted = new URLSearchParams(location.search).get("days");
  const picker = document.querySelectorAll("input[name=days]");
  if ([...picker].some((r) => r.value === wanted)) state.days = Number(wanted);
  for (const radio of picker) {
    radio.checked = Number(radio.value) === state.days;
    radio.addEventListener("change", () => {
      state.days = Number(radio.value);
      history.replaceState(null, "", `?days=${state.days}`);
      load().catch(fail);
    });
  }
  let timer = null;
  let lastWidth = 0;
  new ResizeObserver((entries) => {
    const now = Math.round(entries[0].contentRect.width);
    if (now === lastWidth) return;
    lastWidth = now;
    clearTimeout(timer);
    timer = setTimeout(render, 120);
  }).observe($("#charts"));
  await load();
}

main().catch((error) => {
  console.error(error);
  toast("The insights could not load. Reload the page.", "error");
});
