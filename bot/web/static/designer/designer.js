// The conversation designer's page: the inbox of messages worth a look, grouped (largest first);
// labelling a group, or messages picked across groups, with an existing intent, a new FAQ topic
// or "out of scope" (and undoing it); retraining in the background with live progress; the
// before/after report; and promoting the candidate when the designer chooses to.
//
// Everything comes from /desk/api/designer/ (bot/designer/views.py). Training progress is polled
// every second while a run is going, and the desk socket's "training" frames make it immediate.
// Every text a customer wrote goes on screen through textContent (shared/dom.js).

import { ApiError, get, post } from "../desk/api.js";
import { DeskSocket, showConnection } from "../desk/socket.js";
import { fail, table, toast } from "../desk/ui.js";
import { $, clear, clock, day, h, languageName, plural, words } from "../shared/dom.js";
import { change, fixed, startPage } from "./frame.js";

const D = "/desk/api/designer";
const MIN_NEW_TOPIC = 5; // bot/designer/labels.py MIN_NEW_TOPIC
const POLL_MS = 1000;
const VERDICT = {
  better: "The candidate is better than the model serving now",
  worse: "The candidate is worse than the model serving now",
  mixed: "Mixed: the candidate is better in some ways and worse in others",
  same: "No real difference: the candidate measures the same as the model serving now",
};
const VERDICT_NOTE = {
  better: "No measure dropped by more than the noise of its test set.",
  worse: "Promoting it would make the bot worse at what these sets measure.",
  mixed: "Weigh what got better against what got worse before you promote it.",
  same: "Every measure is within one example of the serving model's.",
};
const STATUS = {
  running: "Running",
  ready: "Ready to review",
  failed: "Failed",
  promoted: "Promoted",
};
const LABEL_STATUS = {
  written: "Written, not trained yet",
  undone: "Undone",
  promoted: "In the serving model",
};
const KIND_TEXT = { intent: "Intent", new_topic: "New FAQ topic", out_of_scope: "Out of scope" };

const state = {
  days: 7,
  groups: [],
  figures: null, // messages, groups and their conversations, as the service counts them
  period: null,
  reasons: {},
  intents: [],
  faqFiles: [],
  selected: new Map(), // key -> {key, text, group}
  expanded: new Set(),
  labels: [],
  runs: [],
  shown: null, // the run whose details are on screen
  pollTimer: null,
  showAllLabels: false,
  step: "",
  confirming: null, // the run whose "promote it?" question is open
  promoting: false, // its promotion was asked for and has not answered yet
};

// --- small things --------------------------------------------------------------------------

function sentence(text) {
  const value = String(text || "");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

function reasonText(code) {
  return sentence(state.reasons[code] || words(code).toLowerCase());
}

function when(iso) {
  return h("time", { datetime: iso, text: `${day(iso)}, ${clock(iso)}` });
}

function lines(text) {
  return String(text || "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

function quoted(text) {
  return `“${text}”`;
}

// "Since Nov 27 (desk time)": the period's first local day, as the service counts it.
function periodText(period) {
  const [y, m, d] = period.since.slice(0, 10).split("-").map(Number);
  const first = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" }).format(
    new Date(y, m - 1, d),
  );
  return period.day_count === 1
    ? "Today, in the desk's time zone."
    : `Since ${first}, in the desk's time zone.`;
}

// --- the inbox, grouped --------------------------------------------------------------------

async function loadGroups() {
  const card = $("#groups-card");
  card.setAttribute("aria-busy", "true");
  $("#groups-summary").textContent = "Loading…";
  try {
    const body = await get(`${D}/groups?days=${state.days}`);
    state.groups = body.groups;
    state.figures = body.figures;
    state.period = body.period;
    state.reasons = body.reasons || {};
  } finally {
    card.setAttribute("aria-busy", "false");
  }
  const present = new Map(state.groups.flatMap((g) => g.items.map((i) => [i.key, g.id])));
  for (const key of [...state.selected.keys()]) {
    if (!present.has(key)) state.selected.delete(key);
  }
  for (const id of [...state.expanded]) {
    if (!state.groups.some((g) => g.id === id)) state.expanded.delete(id);
  }
  renderGroups();
  renderSelection();
}

function renderGroups() {
  // the service's figures (bot/designer/figures.py), the very ones Insights shows
  const f = state.figures;
  $("#groups-count").textContent = String(f.groups);
  $("#groups-summary").textContent = f.groups
    ? `${plural(f.messages, "message")} from ${plural(f.conversations, "conversation")}, in ` +
      `${plural(f.groups, "group")}, largest first. ${periodText(state.period)}`
    : "";
  clear(
    $("#groups"),
    state.groups.length
      ? state.groups.map(groupItem)
      : h("li", {
          class: "empty",
          text:
            `Nothing to review in this period. Messages the bot did not understand, was ` +
            `unsure of or answered as out of scope, and those before a handoff for frustration ` +
            `or repeated misunderstanding, appear here.`,
        }),
  );
}

function groupItem(group, index) {
  const id = `g-${group.id}`;
  const check = h("input", {
    type: "checkbox",
    id: `${id}-all`,
    class: "group-check",
    dataset: { group: group.id },
    onchange: (event) => selectGroup(group, event.currentTarget.checked),
  });
  const reasons = Object.entries(group.reasons);
  const previews = group.items.slice(0, 3);
  const expanded = state.expanded.has(group.id);
  const toggle = h("button", {
    type: "button",
    class: "btn btn-quiet btn-small",
    "aria-expanded": String(expanded),
    "aria-controls": `${id}-items`,
    text: expanded ? "Hide the messages" : `Show ${plural(group.size, "message")}`,
    onclick: () => toggleGroup(group),
  });
  const node = h(
    "li",
    {
      class: `group${group.items.some((i) => state.selected.has(i.key)) ? " is-selected" : ""}`,
      id,
      dataset: { group: group.id },
    },
    h(
      "div",
      { class: "group-head" },
      h(
        "span",
        { class: "group-check-wrap" },
        check,
        h("label", {
          for: check.id,
          class: "sr-only",
          text: `Select all ${plural(group.size, "message")} of group ${index + 1}`,
        }),
      ),
      h(
        "div",
        { class: "group-main" },
        h(
          "h3",
          { class: "group-title", id: `${id}-title` },
          h("span", { class: "group-size", text: plural(group.size, "message") }),
          group.likely_intent
            ? h(
                "span",
                { class: "group-intent" },
                "Likely ",
                h("code", { text: group.likely_intent }),
              )
            : null,
        ),
        h(
          "ul",
          { class: "chips reasons", "aria-label": "Why these are here" },
          reasons.map(([code, count]) =>
            h(
              "li",
              { class: "chip chip-reason" },
              h("strong", { text: String(count) }),
              ` ${reasonText(code)}`,
            ),
          ),
        ),
        group.why
          ? h(
              "p",
              { class: "group-why" },
              h("strong", {
                text:
                  group.why.messages === group.size
                    ? "Why the bot was unsure: "
                    : `Why the bot was unsure of ${group.why.messages} of ${group.size}: `,
              }),
              `${group.why.text}.`,
            )
          : null,
        h(
          "ul",
          { class: "previews", "aria-label": "Examples" },
          previews.map((item) => h("li", { text: quoted(item.text) })),
          group.size > previews.length
            ? h("li", { class: "muted", text: `and ${group.size - previews.length} more` })
            : null,
        ),
        h(
          "div",
          { class: "group-actions" },
          toggle,
          h("button", {
            type: "button",
            class: "btn btn-secondary btn-small",
            text: "Label this group",
            "aria-label": `Label this group of ${plural(group.size, "message")}`,
            onclick: () => labelGroup(group),
          }),
        ),
      ),
    ),
    h(
      "ul",
      { class: "messages", id: `${id}-items`, hidden: !expanded, "aria-labelledby": `${id}-title` },
      expanded ? group.items.map((item) => messageItem(group, item)) : null,
    ),
  );
  syncGroupCheck(group, check);
  return node;
}

function messageItem(group, item) {
  const id = `m-${item.key}`;
  const check = h("input", {
    type: "checkbox",
    id,
    class: "message-check",
    dataset: { key: item.key },
    checked: state.selected.has(item.key),
    onchange: (event) => selectItem(group, item, event.currentTarget.checked),
  });
  const ranking = item.ranking?.length
    ? item.ranking
    : item.intent
      ? [[item.intent, item.confidence]]
      : [];
  return h(
    "li",
    { class: "message" },
    check,
    h(
      "div",
      { class: "message-body" },
      h("label", { for: id, class: "message-text", text: item.text }),
      h(
        "p",
        { class: "message-meta" },
        when(item.at),
        " · ",
        h("span", { class: "message-language", text: languageName(item.language || "en") }),
        " · ",
        h("span", { text: item.reasons.map(reasonText).join("; ") }),
      ),
      ranking.length
        ? h(
            "p",
            { class: "message-nlu" },
            h("span", { class: "muted", text: "The bot read it as " }),
            ranking.map(([name, confidence], i) => [
              i ? ", " : "",
              h("code", { text: name }),
              ` ${Math.round((confidence || 0) * 100)}%`,
            ]),
          )
        : null,
      item.why ? h("p", { class: "message-why", text: item.why }) : null,
    ),
  );
}

function toggleGroup(group) {
  if (state.expanded.has(group.id)) state.expanded.delete(group.id);
  else state.expanded.add(group.id);
  const node = document.getElementById(`g-${group.id}`);
  const index = state.groups.indexOf(group);
  const fresh = groupItem(group, index);
  node.replaceWith(fresh);
  fresh.querySelector("[aria-expanded]").focus();
}

function chosenItem(group, item) {
  return { key: item.key, text: item.text, group: group.id, language: item.language || "en" };
}

function selectGroup(group, on) {
  for (const item of group.items) {
    if (on) state.selected.set(item.key, chosenItem(group, item));
    else state.selected.delete(item.key);
  }
  syncChecks();
  renderSelection();
}

function selectItem(group, item, on) {
  if (on) state.selected.set(item.key, chosenItem(group, item));
  else state.selected.delete(item.key);
  syncChecks();
  renderSelection();
}

function syncGroupCheck(group, check) {
  const chosen = group.items.filter((i) => state.selected.has(i.key)).length;
  check.checked = chosen === group.items.length;
  check.indeterminate = chosen > 0 && chosen < group.items.length;
}

function syncChecks() {
  for (const check of document.querySelectorAll(".message-check"))
    check.checked = state.selected.has(check.dataset.key);
  for (const check of document.querySelectorAll(".group-check")) {
    const group = state.groups.find((g) => g.id === check.dataset.group);
    if (group) syncGroupCheck(group, check);
  }
  for (const node of document.querySelectorAll(".group")) {
    const group = state.groups.find((g) => g.id === node.dataset.group);
    node.classList.toggle(
      "is-selected",
      Boolean(group?.items.some((i) => state.selected.has(i.key))),
    );
  }
}

function labelGroup(group) {
  state.selected.clear();
  selectGroup(group, true);
  if (!state.expanded.has(group.id)) toggleGroup(group);
  if (group.likely_intent && state.intents.some((i) => i.name === group.likely_intent)) {
    $("#intent-filter").value = "";
    renderIntents(group.likely_intent);
  }
  $("#label-card").focus();
}

// --- the label panel -----------------------------------------------------------------------

function renderSelection() {
  const chosen = [...state.selected.values()];
  const groups = new Set(chosen.map((c) => c.group));
  const submit = $("#label-submit");
  submit.disabled = chosen.length === 0;
  submit.textContent = chosen.length ? `Label ${plural(chosen.length, "message")}` : "Label";
  clear(
    $("#selection"),
    chosen.length
      ? [
          h(
            "p",
            { class: "selection-count" },
            h("strong", { text: plural(chosen.length, "message") }),
            ` selected from ${plural(groups.size, "group")}`,
          ),
          h(
            "ul",
            { class: "previews" },
            chosen.slice(0, 3).map((c) => h("li", { text: quoted(c.text) })),
            chosen.length > 3
              ? h("li", { class: "muted", text: `and ${chosen.length - 3} more` })
              : null,
          ),
          h("button", {
            type: "button",
            class: "btn btn-quiet btn-small",
            text: "Clear the selection",
            onclick: clearSelection,
          }),
        ]
      : h("p", {
          class: "muted",
          text: "Nothing selected yet. Choose “Label this group”, or tick messages in any group.",
        }),
  );
  updateTopicCounts();
}

function clearSelection() {
  state.selected.clear();
  syncChecks();
  renderSelection();
}

async function loadIntents() {
  const body = await get(`${D}/intents`);
  state.intents = body.intents;
  state.faqFiles = body.faq_files;
  clear(
    $("#topic-file"),
    h("option", { value: "", text: "Choose the file…" }),
    state.faqFiles.map((name) => h("option", { value: name, text: name })),
  );
  renderIntents();
}

function renderIntents(choose) {
  const select = $("#intent-select");
  const wanted = choose || select.value;
  const query = $("#intent-filter").value.trim().toLowerCase();
  const terms = query.split(/\s+/).filter(Boolean);
  const matches = state.intents.filter((i) =>
    terms.every((t) => `${i.name} ${words(i.name)} ${i.file}`.toLowerCase().includes(t)),
  );
  const byFile = new Map();
  for (const intent of matches) {
    if (!byFile.has(intent.file)) byFile.set(intent.file, []);
    byFile.get(intent.file).push(intent);
  }
  clear(
    select,
    [...byFile].map(([file, intents]) =>
      h(
        "optgroup",
        { label: file },
        intents.map((i) =>
          h("option", { value: i.name, text: i.name, selected: i.name === wanted }),
        ),
      ),
    ),
  );
  if (matches.length === 1) select.value = matches[0].name;
  $("#intent-matches").textContent = query
    ? matches.length
      ? `${plural(matches.length, "intent")} match`
      : "No intent matches. Try another word."
    : `${plural(state.intents.length, "intent")} in the training data`;
}

function kind() {
  return $("#label-form").elements.kind.value;
}

function showKind() {
  const chosen = kind();
  for (const panel of document.querySelectorAll(".kind-panel"))
    panel.hidden = panel.dataset.kind !== chosen;
  $("#label-error").textContent = "";
}

function updateTopicCounts() {
  const examples = lines($("#topic-examples").value).length;
  const heldout = lines($("#topic-heldout").value).length;
  $("#topic-counts").textContent =
    `Written so far: ${plural(examples, "training phrasing")} and ` +
    `${plural(heldout, "held-out phrasing")}, with ` +
    `${plural(state.selected.size, "selected message")} to split between them ` +
    `(${MIN_NEW_TOPIC} of each needed).`;
}

function labelRequest() {
  const chosen = [...state.selected.values()];
  const body = { kind: kind(), items: chosen.map(({ key, text }) => ({ key, text })) };
  // a label writes into one language's training files
  const languages = [...new Set(chosen.map((c) => c.language))];
  if (languages.length > 1) {
    throw new Error(
      `These messages are in ${languages.map(languageName).join(" and ")}: ` +
        "label one language at a time.",
    );
  }
  body.language = languages[0] || "en";
  if (body.kind === "intent") {
    body.intent = $("#intent-select").value;
    if (!body.intent) throw new Error("Choose the intent these messages mean.");
  } else if (body.kind === "new_topic") {
    body.topic = $("#topic-name").value.trim();
    body.file = $("#topic-file").value;
    body.answers = Object.fromEntries(
      [...document.querySelectorAll("fieldset.answers textarea")]
        .map((area) => [area.dataset.language, area.value.trim()])
        .filter(([, text]) => text),
    );
    body.examples = lines($("#topic-examples").value);
    body.heldout = lines($("#topic-heldout").value);
    if (!body.topic) throw new Error("Give the new topic a name, like rewards_program.");
    if (!body.file) throw new Error("Choose the FAQ file the topic belongs in.");
    for (const needed of new Set(["en", body.language]))
      if (!body.answers[needed])
        throw new Error(`Write the answer the bot should give in ${languageName(needed)}.`);
  }
  return body;
}

async function submitLabel(event) {
  event.preventDefault();
  const error = $("#label-error");
  error.textContent = "";
  let body;
  try {
    body = labelRequest();
  } catch (problem) {
    error.textContent = problem.message;
    return;
  }
  const submit = $("#label-submit");
  submit.disabled = true;
  try {
    const label = await post(`${D}/labels`, body);
    state.selected.clear();
    if (body.kind === "new_topic")
      for (const area of document.querySelectorAll(
        "#topic-name, fieldset.answers textarea, #topic-examples, #topic-heldout",
      ))
        area.value = "";
    showResult(label);
    await Promise.all([
      loadGroups(),
      loadLabels(),
      body.kind === "new_topic" ? loadIntents() : null,
    ]);
  } catch (problem) {
    error.textContent =
      problem instanceof ApiError
        ? problem.message
        : "The label could not be saved. Please try again.";
  } finally {
    renderSelection();
  }
}

function written(title, texts, note) {
  if (!texts.length) return null;
  return h(
    "div",
    { class: "written" },
    h("h4", {}, title, " ", h("span", { class: "count", text: String(texts.length) })),
    note ? h("p", { class: "muted small-text", text: note }) : null,
    h(
      "ul",
      { class: "previews" },
      texts.map((t) => h("li", { text: quoted(t) })),
    ),
  );
}

function showResult(label) {
  const box = $("#label-result");
  clear(
    box,
    h(
      "div",
      { class: "result" },
      h(
        "h3",
        { class: "result-title", id: "result-title", tabindex: "-1" },
        `Label ${label.id}: `,
        h("code", { text: label.intent }),
      ),
      written("Training examples", label.training, `added to ${label.train_file}`),
      written(
        "Held out for testing",
        label.heldout,
        "added to tests/nlu/test_nlu.yml, so the report measures them",
      ),
      written("Skipped", label.skipped, "already in the training or held-out data"),
      h("button", {
        type: "button",
        class: "btn btn-quiet btn-small",
        text: "Undo this label",
        onclick: (e) => undo(label.id, e.currentTarget),
      }),
    ),
  );
  $("#result-title").focus();
}

async function undo(id, button) {
  if (button) button.disabled = true;
  try {
    await post(`${D}/labels/${id}/undo`);
    const box = $("#label-result");
    clear(
      box,
      h(
        "div",
        { class: "result result-undone" },
        h("h3", {
          class: "result-title",
          id: "result-title",
          tabindex: "-1",
          text: `Label ${id} undone`,
        }),
        h("p", {
          class: "muted",
          text: "What it wrote is out of the files again, and its messages are back in the inbox.",
        }),
      ),
    );
    $("#result-title").focus();
    await Promise.all([loadGroups(), loadLabels()]);
  } catch (error) {
    fail(error);
    if (button) button.disabled = false;
  }
}

async function loadLabels() {
  const { labels } = await get(`${D}/labels`);
  state.labels = labels;
  const recent = labels.slice(0, 12);
  clear(
    $("#labels"),
    recent.length
      ? h(
          "ul",
          { class: "label-list" },
          recent.map((l) =>
            h(
              "li",
              { class: `label-row status-${l.status}` },
              h(
                "div",
                { class: "label-what" },
                h("code", { text: l.intent }),
                h("span", { class: "badge", text: KIND_TEXT[l.kind] || l.kind }),
              ),
              h("p", {
                class: "muted small-text",
                text:
                  `Label ${l.id} · ${day(l.created_at)}, ${clock(l.created_at)} · ` +
                  `${l.training.length} training, ${l.heldout.length} held out, ` +
                  `${l.skipped.length} skipped`,
              }),
              h("p", {
                class: "label-status small-text",
                text: LABEL_STATUS[l.status] || l.status,
              }),
              l.status === "written"
                ? h("button", {
                    type: "button",
                    class: "btn btn-quiet btn-small",
                    text: "Undo",
                    "aria-label": `Undo label ${l.id} (${l.intent})`,
                    onclick: (e) => undo(l.id, e.currentTarget),
                  })
                : null,
            ),
          ),
        )
      : h("p", { class: "empty", text: "No labels yet." }),
  );
}

// --- retraining ----------------------------------------------------------------------------

async function loadRuns() {
  const { runs } = await get(`${D}/runs`);
  state.runs = runs;
  renderRuns();
  const running = runs.find((r) => r.status === "running");
  $("#train").disabled = Boolean(running);
  return runs;
}

function renderRuns() {
  clear(
    $("#runs"),
    table(
      "Training runs, newest first",
      ["Run", "Started", "Status", "Verdict", "Candidate", ""],
      state.runs.map((r) =>
        h(
          "tr",
          { class: state.shown && state.shown.id === r.id ? "is-shown" : "" },
          h("td", { text: String(r.id) }),
          h("td", { class: "nowrap" }, when(r.created_at)),
          h(
            "td",
            {},
            h("span", { class: `badge run-${r.status}`, text: STATUS[r.status] || r.status }),
          ),
          h("td", { text: r.verdict ? sentence(r.verdict) : "–" }),
          h("td", { class: "model-name", text: r.candidate || "–" }),
          h(
            "td",
            { class: "actions" },
            h("button", {
              type: "button",
              class: "btn btn-quiet btn-small",
              text: state.shown && state.shown.id === r.id ? "Shown" : "Show",
              disabled: Boolean(state.shown && state.shown.id === r.id),
              "aria-label": `Show run ${r.id}`,
              onclick: () => showRun(r.id),
            }),
          ),
        ),
      ),
      { empty: "No runs yet. Label some messages, then train and compare." },
    ),
  );
}

async function showRun(id) {
  const run = await get(`${D}/runs/${id}`);
  state.shown = run;
  renderRun(run);
  renderRuns();
  if (run.status === "running") poll();
  return run;
}

function announce(text) {
  $("#run-announce").textContent = text;
}

function renderRun(run) {
  const box = $("#run");
  if (run.status === "running") {
    const bar = h("progress", {
      max: "100",
      value: String(run.progress),
      id: "run-progress",
      "aria-labelledby": "run-step",
    });
    clear(
      box,
      h(
        "div",
        { class: "progress-box" },
        h(
          "p",
          { class: "run-line", id: "run-step" },
          h("strong", { text: `Run ${run.id}: ` }),
          sentence(run.step),
          h("span", { class: "run-percent", text: ` ${run.progress}%` }),
        ),
        bar,
        h("p", {
          class: "muted small-text",
          text:
            `Started ${clock(run.created_at)}. The model serving now keeps answering ` +
            `customers meanwhile.`,
        }),
      ),
    );
    clear($("#report"));
    if (state.step !== `${run.id}:${run.step}`) {
      state.step = `${run.id}:${run.step}`;
      announce(`Run ${run.id}: ${run.step}`);
    }
    return;
  }
  if (run.status === "failed") {
    clear(
      box,
      h(
        "div",
        { class: "failed", role: "alert" },
        h("h3", { text: `Run ${run.id} failed` }),
        h("p", {
          text: run.current
            ? `Nothing changed for customers: ${run.current} keeps answering them.`
            : "Nothing changed for customers: the model serving now keeps answering them.",
        }),
        h("pre", {
          class: "error-output",
          tabindex: "0",
          "aria-label": "What went wrong",
          text: run.error || "No reason was given.",
        }),
      ),
    );
    clear($("#report"));
    return;
  }
  clear(box);
  clear($("#report"), run.report ? report(run) : null);
}

function poll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(refreshShown, POLL_MS);
}

async function refreshShown() {
  clearTimeout(state.pollTimer);
  const shown = state.shown;
  if (!shown) return;
  let run;
  try {
    run = await get(`${D}/runs/${shown.id}`);
  } catch {
    poll(); // a blip: try again
    return;
  }
  if (!state.shown || state.shown.id !== run.id) return;
  const finished = state.shown.status === "running" && run.status !== "running";
  const same = JSON.stringify(run) === JSON.stringify(state.shown);
  state.shown = run;
  if (!same) renderRun(run);
  if (run.status === "running") {
    poll();
    return;
  }
  if (finished) {
    announce(
      run.status === "failed"
        ? `Run ${run.id} failed.`
        : `Run ${run.id} is ready: ${VERDICT[run.verdict] || run.verdict}.`,
    );
    await loadRuns();
  }
}

async function train() {
  const button = $("#train");
  button.disabled = true;
  try {
    const run = await post(`${D}/runs`);
    state.shown = run;
    renderRun(run);
    await loadRuns();
    poll();
  } catch (error) {
    fail(error);
    await loadRuns().catch(() => {});
  }
}

function onTraining(frame) {
  if (state.shown && state.shown.id === frame.run) refreshShown();
  else if (state.shown?.status !== "running") showRun(frame.run).catch(() => {});
  loadRuns().catch(() => {});
}

// --- the report ----------------------------------------------------------------------------

function measure(value, integer) {
  return integer ? String(value) : fixed(value);
}

function toneOf(value, lowerIsBetter) {
  if (!value || Math.abs(value) < 0.0005) return "same";
  return value > 0 !== Boolean(lowerIsBetter) ? "up" : "down";
}

function changeCell(value, integer, lowerIsBetter) {
  const tone = toneOf(value, lowerIsBetter);
  const text = integer
    ? value > 0
      ? `+${value}`
      : value < 0
        ? `−${-value}`
        : "±0"
    : change(value);
  const said = tone === "up" ? "better" : tone === "down" ? "worse" : "no change";
  return h(
    "td",
    { class: `num change change-${tone}` },
    text,
    h("span", { class: "sr-only", text: ` (${said})` }),
  );
}

function report(run) {
  const comparison = run.report.comparison;
  const verdict = comparison.verdict;
  const rows = comparison.headline;
  const perLabel = [...comparison.per_label].sort(
    (a, b) => a.f1_change - b.f1_change || a.label.localeCompare(b.label),
  );
  const changed = perLabel.filter(
    (r) => Math.abs(r.f1_change) >= 0.0005 || !r.current || !r.candidate,
  );
  const labelRows = state.showAllLabels ? perLabel : changed;
  const labelsShown = state.showAllLabels
    ? `all ${perLabel.length}`
    : `${changed.length} of ${perLabel.length} changed`;
  const confusions = comparison.confusions.candidate || [];
  const before = (comparison.confusions.current || []).length;
  const promote = h("button", {
    type: "button",
    class: "btn btn-primary",
    id: "promote",
    text: run.status === "promoted" ? "Promoted" : "Promote this model",
    disabled: run.status !== "ready",
    "aria-describedby": "promote-note",
    onclick: () => confirmPromote(run),
  });
  return h(
    "div",
    { class: "report" },
    h(
      "div",
      { class: `verdict verdict-${verdict}`, id: "verdict" },
      h(
        "p",
        { class: "verdict-title" },
        h("span", { class: "verdict-word", text: sentence(verdict) }),
        h("span", { text: VERDICT[verdict] || verdict }),
      ),
      h("p", { class: "verdict-note", text: VERDICT_NOTE[verdict] || "" }),
      comparison.worse.length || comparison.better.length
        ? h(
            "ul",
            { class: "verdict-lines" },
            comparison.worse.map((line) =>
              h(
                "li",
                { class: "line-worse" },
                h("span", { class: "line-tag", text: "Worse" }),
                sentence(line),
              ),
            ),
            comparison.better.map((line) =>
              h(
                "li",
                { class: "line-better" },
                h("span", { class: "line-tag", text: "Better" }),
                sentence(line),
              ),
            ),
          )
        : null,
    ),
    h(
      "div",
      { class: "promote-bar" },
      h(
        "div",
        {},
        h(
          "p",
          { class: "models" },
          h("span", { class: "muted", text: "Serving now " }),
          h("code", { text: run.current || "?" }),
          h("span", { class: "muted", text: " · candidate " }),
          h("code", { text: run.candidate || "?" }),
        ),
        h("p", {
          class: "muted small-text",
          id: "promote-note",
          text:
            run.status === "promoted"
              ? `Promoted ${day(run.promoted_at)}, ${clock(run.promoted_at)}: Rasa answers with ` +
                `the candidate.`
              : run.status === "ready"
                ? "Customers keep the serving model until you promote the candidate."
                : "Only a run that is ready to review can be promoted.",
        }),
      ),
      h(
        "div",
        { class: "promote-actions", id: "promote-actions" },
        state.confirming === run.id && run.status === "ready" ? promoteQuestion(run) : promote,
      ),
    ),
    h("h3", { class: "report-title", text: "Headline measures" }),
    table(
      "Headline measures, the serving model beside the candidate",
      [
        { label: "Measure" },
        { label: "Serving now", numeric: true },
        { label: "Candidate", numeric: true },
        { label: "Change", numeric: true },
      ],
      rows.map((row) => {
        const integer = row.measure === "test stories failing";
        return h(
          "tr",
          {},
          h("th", { scope: "row", text: sentence(row.measure) }),
          h("td", { class: "num", text: measure(row.current, integer) }),
          h("td", { class: "num", text: measure(row.candidate, integer) }),
          changeCell(row.change, integer, integer),
        );
      }),
      { class: "headline" },
    ),
    h(
      "div",
      { class: "report-head" },
      h("h3", {
        class: "report-title",
        id: "per-label-title",
        text: `Per label, biggest F1 drops first (${labelsShown})`,
      }),
      perLabel.length > changed.length || state.showAllLabels
        ? h("button", {
            type: "button",
            class: "btn btn-quiet btn-small",
            "aria-pressed": String(state.showAllLabels),
            text: state.showAllLabels
              ? "Only labels that changed"
              : `Show all ${perLabel.length} labels`,
            onclick: () => {
              state.showAllLabels = !state.showAllLabels;
              renderRun(state.shown);
            },
          })
        : null,
    ),
    labelRows.length
      ? perLabelTable(labelRows)
      : h("p", { class: "empty", text: "No label's scores changed." }),
    h("h3", {
      class: "report-title",
      text: `What the candidate confuses (${confusions.length}; the serving model: ${before})`,
    }),
    table(
      "Held-out messages the candidate labels wrongly",
      ["Expected", "The candidate said", "Message"],
      confusions
        .slice(0, 50)
        .map(([expected, predicted, text]) =>
          h(
            "tr",
            {},
            h("td", {}, h("code", { text: expected })),
            h("td", {}, h("code", { text: predicted })),
            h("td", { class: "reason-cell", text: text }),
          ),
        ),
      {
        scroll: confusions.length > 12,
        empty: "The candidate labels every held-out message right.",
      },
    ),
  );
}

function perLabelTable(rows) {
  const side = (scores) =>
    (scores
      ? [fixed(scores.precision), fixed(scores.recall), fixed(scores.f1), String(scores.support)]
      : ["–", "–", "–", "–"]
    ).map((v) => h("td", { class: "num", text: v }));
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      h("th", { scope: "col", rowspan: "2", text: "Label" }),
      h("th", { scope: "colgroup", colspan: "4", class: "group-head-cell", text: "Serving now" }),
      h("th", { scope: "colgroup", colspan: "4", class: "group-head-cell", text: "Candidate" }),
      h("th", { scope: "col", rowspan: "2", class: "num", text: "F1 change" }),
    ),
    h(
      "tr",
      {},
      ["Precision", "Recall", "F1", "Support", "Precision", "Recall", "F1", "Support"].map((c) =>
        h("th", { scope: "col", class: "num", text: c }),
      ),
    ),
  );
  return table(
    "Precision, recall, F1 and support per label, the serving model beside the candidate, " +
      "biggest F1 drops first",
    [],
    rows.map((r) =>
      h(
        "tr",
        {},
        h(
          "th",
          { scope: "row" },
          h("code", { text: r.label }),
          !r.current ? h("span", { class: "badge badge-new", text: "new" }) : null,
        ),
        side(r.current),
        side(r.candidate),
        changeCell(r.f1_change),
      ),
    ),
    { head, class: "per-label", scroll: rows.length > 14 },
  );
}

// The question "promote it?" is state, not just DOM: a refresh of the shown run (the poll, or
// the socket's training frame arriving late) re-renders the report and must not take the
// question away from under the designer's pointer.
function confirmPromote(run) {
  state.confirming = run.id;
  renderRun(state.shown);
  $("#promote-yes").focus();
}

function promoteQuestion(run) {
  const yes = h("button", {
    type: "button",
    class: "btn btn-primary",
    id: "promote-yes",
    text: "Yes, promote it",
    disabled: state.promoting,
    onclick: () => promote(run, yes),
  });
  const no = h("button", {
    type: "button",
    class: "btn btn-quiet",
    text: "Cancel",
    onclick: () => {
      state.confirming = null;
      renderRun(state.shown);
      $("#promote").focus();
    },
  });
  return h(
    "div",
    { class: "confirm", role: "group", "aria-labelledby": "confirm-text" },
    h("p", {
      id: "confirm-text",
      text: `Customers will be answered by ${run.candidate} from now on. Promote it?`,
    }),
    h("div", { class: "confirm-buttons" }, no, yes),
  );
}

async function promote(run, button) {
  button.disabled = true;
  state.promoting = true;
  try {
    await post(`${D}/runs/${run.id}/promote`);
    state.confirming = null;
    state.promoting = false;
    toast(`Run ${run.id} promoted: Rasa now answers with ${run.candidate}.`, "success");
    announce(`Run ${run.id} promoted.`);
    await showRun(run.id);
    await Promise.all([loadRuns(), loadLabels()]);
    $("#verdict").scrollIntoView({ block: "nearest" });
  } catch (error) {
    state.promoting = false;
    fail(error);
    renderRun(state.shown);
  }
}

// --- start ---------------------------------------------------------------------------------

async function main() {
  const user = await startPage();
  if (!user) return;
  const socket = new DeskSocket({
    onState: showConnection(() =>
      Promise.all([loadGroups(), loadRuns(), state.shown ? refreshShown() : null]).catch(() => {}),
    ),
    onFrame(frame) {
      if (frame.type === "training" && typeof frame.run === "number") onTraining(frame);
    },
  });
  socket.start();
  const wanted = new URLSearchParams(location.search).get("days");
  if ([...$("#period").options].some((o) => o.value === wanted)) {
    $("#period").value = wanted;
    state.days = Number(wanted);
  }
  $("#period").addEventListener("change", (event) => {
    state.days = Number(event.currentTarget.value);
    loadGroups().catch(fail);
  });
  const form = $("#label-form");
  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") showKind();
  });
  form.addEventListener("submit", submitLabel);
  $("#intent-filter").addEventListener("input", () => renderIntents());
  $("#intent-filter").addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "Enter") {
      event.preventDefault(); // Enter here picks from the list; it does not send the label
      $("#intent-select").focus();
    }
  });
  for (const id of ["#topic-examples", "#topic-heldout"])
    $(id).addEventListener("input", updateTopicCounts);
  $("#train").addEventListener("click", train);
  showKind();
  renderSelection();
  await Promise.all([loadIntents(), loadGroups(), loadLabels()]).catch(fail);
  const runs = await loadRuns().catch((error) => {
    fail(error);
    return [];
  });
  if (runs.length) await showRun(runs[0].id).catch(fail);
}

main().catch((error) => {
  console.error(error);
  toast("The designer page could not start. Reload the page.", "error");
});
