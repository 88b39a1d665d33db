/*
 * Fetch & Home chat widget. One script tag embeds it on any page:
 *
 *   <script src="https://chat.fetchandhome.example/widget.js" defer
 *           data-language="en" data-accent="#0b6b53"
 *           data-greeting="Hi! How can we help today?"
 *           data-customer="<identity the shop's site signs for a signed-in customer>"></script>
 *
 * Options, all optional (data- attributes of the script tag):
 *   data-service      the bot service's address (default: where this script was loaded from)
 *   data-language     the customer's language, passed to the bot (default: the page's lang, or en)
 *   data-accent       the brand colour, any CSS colour (text on it is picked for contrast)
 *   data-title        the name in the header (default "Fetch & Home")
 *   data-greeting     the first thing the assistant says
 *   data-suggestions  starter questions, separated by "|"
 *   data-customer     a signed customer identity (bot/channel/identity.py); never an unsigned id
 *   data-open         "true": start with the chat open
 *   data-position     "right" (default) or "left"
 *
 * Safety: message text is only ever set with textContent; a link becomes an <a> element
 * (rel="noopener noreferrer") only for http and https addresses: the DOM helpers are the desk's
 * own, from shared/dom.js. No inline styles or
 * scripts (the service's Content-Security-Policy forbids them): styles come from widget.css,
 * colours through CSS custom properties set with the CSSOM.
 *
 * Reliability: each message gets a client_msg_id and stays in an outbox (kept in localStorage)
 * until the service acknowledges it; resending is safe because the service stores a repeated id
 * once. Messages are placed by their seq, so replays and echoes never duplicate, and a reconnect
 * asks for everything after the last seq seen. If the websocket cannot connect, the widget sends
 * over HTTP and polls until it can.
 *
 * Served as one classic script (a module could not find its own script tag): bot/web/pages.py
 * puts shared/dom.js, in a scope of its own, in place of the import below, and wraps the whole
 * in a strict function.
 */
import { h, linkify } from "../shared/dom.js";

const script = document.currentScript;
if (script && !window.FetchAndHomeChat) start(script);

function start(script) {
  const data = script.dataset;
  const SERVICE = (data.service || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const LANGUAGE = (data.language || document.documentElement.lang || "en").slice(0, 5);
  const STORE_KEY = `fetchandhome-chat:${SERVICE}`;
  const MAX_CHARS = 2000;
  const ACK_TIMEOUT_MS = 10000;
  const HTTP_FALLBACK_MS = 4000;
  const POLL_MS = 3000;

  const STRINGS = {
    en: {
      title: "Fetch & Home",
      launcher: "Chat with us",
      launcherUnread: (n) => `Chat with us, ${n} new message${n === 1 ? "" : "s"}`,
      dialog: "Chat with Fetch & Home",
      botStatus: "Virtual assistant",
      personStatus: (name) => `${name} · Customer Care`,
      queuedStatus: "Connecting you to a person",
      // writing again reopens this chat with the assistant, which starts afresh
      // (bot/channel/chat.py)
      closedStatus: "Chat ended · the assistant is here",
      minimise: "Minimise chat",
      log: "Conversation",
      input: "Your message",
      placeholder: "Type your message…",
      placeholderClosed: "Anything else? Ask the assistant…",
      send: "Send",
      tooLong: (n) => `Messages are limited to ${n} characters.`,
      sending: "Sending",
      sent: "Sent",
      failed: "Not sent",
      retry: "Retry",
      you: "You",
      youSaid: "You said:",
      assistant: "Assistant",
      assistantSaid: "The assistant said:",
      personSaid: (name) => `${name} said:`,
      notice: "Notice:",
      greeting:
        "Hi! I'm the Fetch & Home virtual assistant. I can help with orders, delivery, Autoship, " +
        "returns, payments and the Pet Pharmacy. What can I do for you?",
      suggestions: [
        "Where is my order?",
        "How much is shipping?",
        "Skip an Autoship delivery",
        "Talk to a person",
      ],
      suggested: "Suggested replies",
      reconnecting: "Connection lost. Reconnecting…",
      offline: "You're offline. We'll send your messages when you're back.",
      handoffTitle: "Connecting you to a person",
      handoffLead:
        "Everything you've written so far is passed on, so you won't need to repeat yourself.",
      findingPlace: "Finding your place in the queue…",
      position: (n) => (n === 1 ? "You're next in line." : `You're number ${n} in line.`),
      eta: (text) => `Estimated wait: ${text}.`,
      etaSoon: "a few minutes",
      etaMinutes: (low, high) => (low === high ? `about ${low} minutes` : `${low}-${high} minutes`),
      etaHours: (n) => `about ${n} hour${n === 1 ? "" : "s"}`,
      offlineTeam:
        "Our team can't answer right now. Leave your details below and we'll contact you.",
      backToBot: "Back to the assistant",
      backFailed: "A person is already picking up your chat.",
      joined: (name) => `${name} has joined the chat`,
      surveyLabel: "How satisfied are you? 1 is not at all, 5 is very.",
      scale: ["Not at all", "", "", "", "Very"],
      surveyThanks: (n) => `Thank you! You rated this chat ${n} out of 5.`,
      callbackTitle: "Ask us to contact you",
      callbackName: "Name (optional)",
      callbackEmail: "E-mail",
      callbackPhone: "Phone",
      callbackNote: "Anything we should know? (optional)",
      callbackHint: "An e-mail address or a phone number is enough.",
      callbackSend: "Send my details",
      callbackDone: "Thanks, we've got your details.",
      expired: "Your earlier chat has expired, so this is a new one.",
      error: "Something went wrong. Please try again.",
      typingPerson: (name) => `${name} is typing`,
      typingBot: "The assistant is typing",
      today: "Today",
    },
  };
  const T = STRINGS[LANGUAGE.split("-")[0]] || STRINGS.en;
  const OPTIONS = {
    title: data.title || T.title,
    greeting: data.greeting || T.greeting,
    suggestions: data.suggestions
      ? data.suggestions
          .split("|")
          .map((s) => s.trim())
          .filter(Boolean)
      : T.suggestions,
    customer: data.customer || null,
    position: data.position === "left" ? "left" : "right",
  };

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat:
      "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 " +
      "3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5z",
    paw:
      "M8.5 11.5c1.2 0 2-1.3 2-2.8S9.7 6 8.5 6s-2 1.2-2 2.7.8 2.8 2 2.8zm7 0c1.2 0 2-1.3 " +
      "2-2.8S16.7 6 15.5 6s-2 1.2-2 2.7.8 2.8 2 2.8zM5 15.2c1 0 1.7-1 1.7-2.2S6 10.8 5 10.8s-1.7 " +
      "1-1.7 2.2.7 2.2 1.7 2.2zm14 0c1 0 1.7-1 1.7-2.2s-.7-2.2-1.7-2.2-1.7 1-1.7 2.2.7 2.2 1.7 " +
      "2.2zM12 13c-2.6 0-5 3-5 5 0 1.3 1 2 2.3 2 1 0 1.7-.5 2.7-.5s1.7.5 2.7.5c1.3 0 2.3-.7 " +
      "2.3-2 0-2-2.4-5-5-5z",
    person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8c0-3.3 3.1-6 7-6s7 2.7 7 6",
  };

  function icon(name, label) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", `fh-icon fh-icon-${name}`);
    if (label) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", label);
    } else {
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("focusable", "false");
    }
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i;

  const timeFormat = new Intl.DateTimeFormat(LANGUAGE, { hour: "numeric", minute: "2-digit" });
  const dayFormat = new Intl.DateTimeFormat(LANGUAGE, { month: "short", day: "numeric" });
  function when(iso) {
    const date = iso ? new Date(iso) : new Date();
    const sameDay = date.toDateString() === new Date().toDateString();
    return {
      iso: date.toISOString(),
      text: (sameDay ? "" : `${dayFormat.format(date)}, `) + timeFormat.format(date),
    };
  }

  // [shortest, likely, longest] seconds: an agent free now reads as "a few minutes", a longer
  // wait as the range it honestly is
  function etaText([low, likely, high]) {
    if (low === 0 || high <= 180) return T.etaSoon;
    const minutes = (seconds) => Math.max(1, Math.round(seconds / 60));
    if (likely >= 90 * 60) return T.etaHours(Math.round(likely / 3600));
    return T.etaMinutes(minutes(low), minutes(high));
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }

  // --- what survives a reload --------------------------------------------------------------

  const customerOf = (signed) => (signed ? signed.split(".")[0] : null);
  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (!saved || typeof saved !== "object") return {};
      // a different signed-in customer (or none) gets their own conversation
      if (saved.customer !== customerOf(OPTIONS.customer)) return { open: saved.open };
      if (saved.expires && saved.expires * 1000 < Date.now())
        return { open: saved.open, expiredBefore: true };
      return saved;
    } catch {
      return {};
    }
  }
  const saved = load();
  const state = {
    conversationId: saved.conversation_id || null,
    token: saved.token || null,
    expires: saved.expires || null,
    open: data.open === "true" || Boolean(saved.open),
    outbox: Array.isArray(saved.outbox) ? saved.outbox : [],
    rated: saved.rated || {},
    callbackDone: saved.callbackDone || {},
    mode: "bot",
    agent: null,
    contiguous: 0, // every seq up to this one is shown
    lastReplySeq: 0, // the newest message not from the customer
    unread: 0,
    starting: null,
  };
  function persist() {
    try {
      localStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          conversation_id: state.conversationId,
          token: state.token,
          expires: state.expires,
          customer: customerOf(OPTIONS.customer),
          open: state.open,
          outbox: state.outbox.map(({ client_msg_id, text, at }) => ({ client_msg_id, text, at })),
          rated: state.rated,
          callbackDone: state.callbackDone,
        }),
      );
    } catch {
      /* private mode or full storage: the chat still works, it just won't survive a reload */
    }
  }

  // --- the DOM -------------------------------------------------------------------------------

  const host = h("div", { id: "fetch-and-home-chat", "data-position": OPTIONS.position });
  host.hidden = true; // until the stylesheet has loaded
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = h("link", { rel: "stylesheet", href: `${SERVICE}/static/widget/widget.css` });
  stylesheet.addEventListener("load", () => (host.hidden = false));
  stylesheet.addEventListener("error", () => (host.hidden = false));
  applyAccent(data.accent);

  const badge = h("span", { class: "fh-badge", "aria-hidden": "true", hidden: true });
  const launcher = h(
    "button",
    {
      class: "fh-launcher",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "fh-panel",
      "aria-label": T.launcher,
    },
    icon("chat"),
    h("span", { class: "fh-launcher-text", text: T.launcher }),
    badge,
  );
  const statusLine = h("p", { class: "fh-status", text: T.botStatus });
  const avatar = h("span", { class: "fh-avatar", "aria-hidden": "true" }, icon("paw"));
  const minimise = h(
    "button",
    { class: "fh-minimise", type: "button", "aria-label": T.minimise },
    icon("close"),
  );
  const header = h(
    "header",
    { class: "fh-header" },
    avatar,
    h(
      "div",
      { class: "fh-heading" },
      h("h2", { class: "fh-title", id: "fh-title", text: OPTIONS.title }),
      statusLine,
    ),
    minimise,
  );
  const banner = h("div", { class: "fh-banner", role: "status", hidden: true });
  const queueText = h("p", { class: "fh-queue-text" });
  const queueEta = h("p", { class: "fh-queue-eta" });
  const backButton = h("button", { class: "fh-secondary", type: "button", text: T.backToBot });
  const queueError = h("p", { class: "fh-error", role: "alert" });
  const queueCard = h(
    "section",
    { class: "fh-queue", "aria-labelledby": "fh-queue-title", hidden: true },
    h(
      "div",
      { class: "fh-queue-head" },
      h("span", { class: "fh-pulse", "aria-hidden": "true" }),
      h("h3", { id: "fh-queue-title", text: T.handoffTitle }),
    ),
    h(
      "div",
      { class: "fh-queue-live", role: "status", "aria-live": "polite" },
      queueText,
      queueEta,
    ),
    h("p", { class: "fh-queue-lead", text: T.handoffLead }),
    backButton,
    queueError,
  );
  const log = h("ol", {
    class: "fh-log",
    role: "log",
    "aria-live": "polite",
    "aria-labelledby": "fh-log-label",
    tabindex: "0",
  });
  const logLabel = h("h3", { class: "fh-sr", id: "fh-log-label", text: T.log });
  const typing = h(
    "div",
    { class: "fh-typing", hidden: true },
    h("span", { class: "fh-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
    h("span", { class: "fh-typing-text" }),
  );
  const input = h("textarea", {
    id: "fh-input",
    class: "fh-input",
    rows: "1",
    placeholder: T.placeholder,
    maxlength: String(MAX_CHARS),
    "aria-describedby": "fh-input-error",
    autocomplete: "off",
  });
  const inputError = h("p", { class: "fh-error", id: "fh-input-error", role: "alert" });
  const sendButton = h(
    "button",
    { class: "fh-send", type: "submit", "aria-label": T.send },
    icon("send"),
  );
  const composer = h(
    "form",
    { class: "fh-composer", novalidate: true },
    h("label", { class: "fh-sr", for: "fh-input", text: T.input }),
    input,
    sendButton,
  );
  const panel = h(
    "section",
    {
      class: "fh-panel",
      id: "fh-panel",
      role: "dialog",
      "aria-labelledby": "fh-title",
      hidden: true,
    },
    header,
    banner,
    queueCard,
    h("div", { class: "fh-scroll" }, logLabel, log, typing),
    inputError,
    composer,
  );
  root.append(stylesheet, h("div", { class: "fh-root" }, panel, launcher));

  function applyAccent(colour) {
    if (!colour || !CSS.supports("color", colour)) return;
    host.style.setProperty("--fh-accent", colour);
    // pick white or near-black text on the accent, whichever reads better (WCAG contrast)
    const probe = document.createElement("span");
    probe.style.color = colour;
    document.documentElement.append(probe);
    const rgb = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || ["0", "0", "0"];
    probe.remove();
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    host.style.setProperty("--fh-on-accent", 1.05 / (lum + 0.05) >= 4.5 ? "#ffffff" : "#111418");
  }

  // --- opening and closing -----------------------------------------------------------------

  function setOpen(open, focus = true) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.querySelector(".fh-icon").replaceWith(icon(open ? "close" : "chat"));
    host.classList.toggle("fh-is-open", open);
    if (open) launcher.setAttribute("aria-label", T.minimise);
    if (open) {
      setUnread(0);
      scrollToEnd(true);
      if (focus) input.focus();
      if (state.conversationId) connect();
    } else {
      setUnread(state.unread);
      if (focus) launcher.focus();
    }
    persist();
  }
  launcher.addEventListener("click", () => setOpen(!state.open));
  minimise.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });

  function setUnread(count) {
    state.unread = count;
    badge.hidden = count === 0;
    badge.textContent = count > 9 ? "9+" : String(count);
    if (!state.open)
      launcher.setAttribute("aria-label", count ? T.launcherUnread(count) : T.launcher);
  }

  // --- messages ----------------------------------------------------------------------------

  const shown = new Map(); // seq -> <li>
  const pending = new Map(); // client_msg_id -> <li> not yet stored

  function nearEnd() {
    const scroller = log.parentElement;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }
  function scrollToEnd(force) {
    const scroller = log.parentElement;
    if (force || nearEnd())
      requestAnimationFrame(() => (scroller.scrollTop = scroller.scrollHeight));
  }

  function senderOf(message) {
    if (message.role === "customer") return { label: T.you, said: T.youSaid };
    if (message.role === "agent") {
      const name = message.agent || state.agent || "Customer Care";
      return { label: T.personStatus(name), said: T.personSaid(name) };
    }
    if (message.role === "bot" || message.role === "greeting")
      return { label: T.assistant, said: T.assistantSaid };
    return { label: "", said: T.notice };
  }

  function bubble(message) {
    const role = message.role === "greeting" ? "bot" : message.role;
    const time = when(message.created_at);
    const who = senderOf(message);
    const li = h("li", { class: `fh-msg fh-${role}`, "data-role": role });
    if (role === "system") {
      li.append(
        h(
          "p",
          { class: "fh-notice" },
          h("span", { class: "fh-sr", text: `${who.said} ` }),
          h("span", { class: "fh-text" }, linkify(message.text)),
        ),
      );
      return li;
    }
    li.append(
      h("p", { class: "fh-sender", "aria-hidden": "true", text: who.label }),
      h(
        "div",
        { class: "fh-bubble" },
        h("span", { class: "fh-sr", text: `${who.said} ` }),
        h("span", { class: "fh-text" }, linkify(message.text)),
      ),
      h(
        "p",
        { class: "fh-meta" },
        h("time", { datetime: time.iso, text: time.text }),
        role === "customer" ? h("span", { class: "fh-state" }) : null,
      ),
    );
    return li;
  }

  function setDelivery(li, stateName) {
    const holder = li.querySelector(".fh-state");
    if (!holder) return;
    li.dataset.state = stateName;
    holder.replaceChildren();
    if (stateName === "failed") {
      holder.append(
        h("span", { class: "fh-failed", text: T.failed }),
        h("button", {
          class: "fh-link",
          type: "button",
          text: T.retry,
          onclick: () => retry(li.dataset.clientMsgId),
        }),
      );
    } else {
      holder.append(h("span", { text: stateName === "sent" ? `· ${T.sent}` : `· ${T.sending}` }));
    }
  }

  // a sender label only where the sender changes
  function regroup(li) {
    for (const node of [li, li.nextElementSibling]) {
      if (!node) continue;
      const before = node.previousElementSibling;
      node.classList.toggle(
        "fh-cont",
        Boolean(
          before &&
            before.dataset.role === node.dataset.role &&
            (before.dataset.agent || "") === (node.dataset.agent || ""),
        ),
      );
    }
  }

  // stored messages by seq; pending ones after all of them
  function place(li, seq) {
    let next = null;
    for (const node of log.children) {
      const other = node.dataset.seq ? Number(node.dataset.seq) : Infinity;
      if (other > seq) {
        next = node;
        break;
      }
    }
    log.insertBefore(li, next);
    regroup(li);
  }

  function addStored(message) {
    if (typeof message.seq !== "number" || shown.has(message.seq)) return false;
    let li = message.client_msg_id ? pending.get(message.client_msg_id) : null;
    if (li) {
      pending.delete(message.client_msg_id);
      dropFromOutbox(message.client_msg_id);
      li.remove();
      const time = li.querySelector("time");
      const stamp = when(message.created_at);
      time.dateTime = stamp.iso;
      time.textContent = stamp.text;
    } else {
      li = bubble(message);
    }
    li.dataset.seq = String(message.seq);
    if (message.agent) li.dataset.agent = message.agent;
    if (message.role === "customer") setDelivery(li, "sent");
    shown.set(message.seq, li);
    place(li, message.seq);
    while (shown.has(state.contiguous + 1)) state.contiguous += 1;
    decorate(li, message);
    return true;
  }

  function decorate(li, message) {
    if (message.agent && message.agent !== state.agent) {
      state.agent = message.agent;
      setMode(state.mode); // the header names the person
    }
    if (message.role !== "customer") {
      state.lastReplySeq = Math.max(state.lastReplySeq, message.seq);
      if (message.role !== "system") hideTyping();
    }
    hideQuickReplies(); // only the newest answer's suggestions are offered
    if (Array.isArray(message.buttons) && message.buttons.length)
      li.append(quickReplies(message.buttons));
    if (message.survey) li.append(survey(message));
    if (message.callback && state.mode === "queued" && !state.callbackDone[state.conversationId])
      li.append(callbackForm());
  }

  function quickReplies(buttons) {
    const group = h("div", { class: "fh-quick", role: "group", "aria-label": T.suggested });
    for (const button of buttons.slice(0, 6)) {
      const title = String(button.title || button.payload || "");
      const payload = String(button.payload || title);
      const text = payload.startsWith("/") ? title : payload; // the service strips commands anyway
      if (!title) continue;
      group.append(
        h("button", {
          type: "button",
          class: "fh-chip",
          text: title,
          onclick: () => submit(text),
        }),
      );
    }
    return group;
  }
  function hideQuickReplies() {
    for (const group of log.querySelectorAll(".fh-quick")) group.remove();
  }

  function survey(message) {
    const box = h("div", { class: "fh-survey" });
    const key = `${state.conversationId}:${message.seq}`;
    if (state.rated[key]) {
      box.append(h("p", { class: "fh-thanks", text: T.surveyThanks(state.rated[key]) }));
      return box;
    }
    const scale =
      Array.isArray(message.scale) && message.scale.length ? message.scale : [1, 2, 3, 4, 5];
    const group = h("div", { class: "fh-scale", role: "group", "aria-label": T.surveyLabel });
    const status = h("p", { class: "fh-thanks", role: "status" });
    for (const [index, score] of scale.entries()) {
      const label = T.scale[index] || "";
      group.append(
        h(
          "button",
          {
            type: "button",
            class: "fh-score",
            "aria-label": label ? `${score}, ${label}` : String(score),
            onclick: () => rate(score),
          },
          h("span", { class: "fh-score-n", text: String(score) }),
          label ? h("span", { class: "fh-score-label", "aria-hidden": "true", text: label }) : null,
        ),
      );
    }
    async function rate(score) {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
      try {
        await api("POST", `/api/conversations/${state.conversationId}/satisfaction`, { score });
        state.rated[key] = score;
        persist();
        group.remove();
        status.textContent = T.surveyThanks(score);
      } catch {
        for (const b of group.querySelectorAll("button")) b.disabled = false;
        status.textContent = T.error;
      }
    }
    box.append(group, status);
    return box;
  }

  let formCount = 0;
  function callbackForm() {
    const n = ++formCount;
    const field = (name, label, type, extra = {}) =>
      h(
        "div",
        { class: "fh-field" },
        h("label", { for: `fh-cb-${name}-${n}`, text: label }),
        h(type === "textarea" ? "textarea" : "input", {
          id: `fh-cb-${name}-${n}`,
          name,
          type: type === "textarea" ? undefined : type,
          ...extra,
        }),
      );
    const error = h("p", { class: "fh-error", role: "alert" });
    const form = h(
      "form",
      { class: "fh-callback", novalidate: true, "aria-labelledby": `fh-cb-title-${n}` },
      h("h4", { id: `fh-cb-title-${n}`, text: T.callbackTitle }),
      h("p", { class: "fh-hint", text: T.callbackHint }),
      field("name", T.callbackName, "text", { autocomplete: "name", maxlength: "100" }),
      field("email", T.callbackEmail, "email", { autocomplete: "email", maxlength: "200" }),
      field("phone", T.callbackPhone, "tel", { autocomplete: "tel", maxlength: "40" }),
      field("note", T.callbackNote, "textarea", { rows: "2", maxlength: "500" }),
      error,
      h("button", { type: "submit", class: "fh-primary", text: T.callbackSend }),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      for (const name of ["name", "email", "phone", "note"]) {
        const value = form.elements[name].value.trim();
        if (value) body[name] = value;
      }
      if (!body.email && !body.phone) {
        error.textContent = T.callbackHint;
        form.elements.email.focus();
        return;
      }
      if (body.email && !EMAIL_PATTERN.test(body.email)) {
        error.textContent = "That doesn't look like an e-mail address.";
        form.elements.email.focus();
        return;
      }
      error.textContent = "";
      form.querySelector("button[type=submit]").disabled = true;
      try {
        await api("POST", `/api/conversations/${state.conversationId}/callback`, body);
        state.callbackDone[state.conversationId] = true;
        persist();
        form.replaceWith(h("p", { class: "fh-thanks", role: "status", text: T.callbackDone }));
      } catch (failure) {
        error.textContent = failure.message || T.error;
        form.querySelector("button[type=submit]").disabled = false;
      }
    });
    return form;
  }

  function showGreeting() {
    const li = bubble({ role: "greeting", text: OPTIONS.greeting });
    li.classList.add("fh-greeting");
    li.querySelector(".fh-meta").remove();
    li.dataset.seq = "0";
    log.prepend(li);
    if (!state.conversationId && OPTIONS.suggestions.length) {
      li.append(quickReplies(OPTIONS.suggestions.map((s) => ({ title: s, payload: s }))));
    }
  }

  // --- typing --------------------------------------------------------------------------------

  let typingTimer = null;
  function showTyping(text, ms) {
    typing.querySelector(".fh-typing-text").textContent = text;
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, ms);
    scrollToEnd();
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  // --- mode, queue, header -----------------------------------------------------------------

  function setMode(mode, frame = {}) {
    const before = state.mode;
    state.mode = mode;
    if (frame.agent) state.agent = frame.agent;
    panel.dataset.mode = mode;
    queueCard.hidden = mode !== "queued";
    if (mode === "queued" && before !== "queued") {
      queueText.textContent = T.findingPlace;
      queueEta.textContent = "";
      queueError.textContent = "";
      backButton.disabled = false;
    }
    if (mode !== "bot") hideTyping();
    if (mode !== "queued") for (const form of log.querySelectorAll(".fh-callback")) form.remove();
    avatar.replaceChildren(mode === "assigned" ? personInitial() : icon("paw"));
    avatar.classList.toggle("fh-avatar-person", mode === "assigned");
    statusLine.textContent =
      mode === "assigned"
        ? T.personStatus(state.agent || "Customer Care")
        : mode === "queued"
          ? T.queuedStatus
          : mode === "closed"
            ? T.closedStatus
            : T.botStatus;
    input.placeholder = mode === "closed" ? T.placeholderClosed : T.placeholder;
  }
  function personInitial() {
    return state.agent
      ? h("span", { class: "fh-initial", text: state.agent.trim().charAt(0).toUpperCase() })
      : icon("person");
  }

  function onQueue(frame) {
    if (state.mode !== "queued" || frame.position === null || frame.position === undefined) return;
    const open = frame.availability === "open";
    const line = T.position(frame.position);
    if (queueText.textContent !== line) queueText.textContent = line;
    const eta =
      open && Array.isArray(frame.estimated_wait_range)
        ? T.eta(etaText(frame.estimated_wait_range))
        : open
          ? ""
          : T.offlineTeam;
    if (queueEta.textContent !== eta) queueEta.textContent = eta;
    queueCard.dataset.availability = frame.availability || "open";
  }

  backButton.addEventListener("click", async () => {
    backButton.disabled = true;
    queueError.textContent = "";
    try {
      await api("POST", `/api/conversations/${state.conversationId}/back-to-bot`);
      setMode("bot");
      input.focus();
    } catch (failure) {
      queueError.textContent = failure.status === 409 ? T.backFailed : T.error;
      backButton.disabled = false;
    }
  });

  // --- talking to the service --------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(SERVICE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      const failure = new Error(answer?.message || `HTTP ${response.status}`);
      failure.status = response.status;
      failure.code = answer?.error;
      failure.retryAfter = answer?.retry_after;
      throw failure;
    }
    return answer;
  }

  async function ensureConversation() {
    if (state.conversationId) return;
    if (!state.starting) {
      state.starting = (async () => {
        const body = { language: LANGUAGE.split("-")[0] };
        if (OPTIONS.customer) body.customer = OPTIONS.customer;
        let started;
        try {
          started = await api("POST", "/api/conversations", body);
        } catch (failure) {
          if (failure.code !== "invalid_customer") throw failure;
          // an expired or bad identity must not stop someone from getting help
          delete body.customer;
          started = await api("POST", "/api/conversations", body);
        }
        state.conversationId = started.conversation_id;
        state.token = started.token;
        state.expires = started.expires;
        persist();
        for (const group of log.querySelectorAll(".fh-greeting .fh-quick")) group.remove();
      })().finally(() => (state.starting = null));
    }
    await state.starting;
  }

  const conn = {
    ws: null,
    ready: false,
    attempts: 0,
    retryTimer: null,
    pollTimer: null,
    downSince: Date.now(),
  };

  function connect() {
    if (!state.conversationId || conn.ws || conn.retryTimer) return;
    const id = encodeURIComponent(state.conversationId);
    const url = `${SERVICE.replace(/^http/, "ws")}/api/conversations/${id}/ws`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    conn.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "hello", token: state.token, since_seq: state.contiguous }));
      conn.ready = true;
      conn.attempts = 0;
      setBanner(null);
      stopPolling();
      for (const item of state.outbox) sendOverSocket(item);
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (conn.ws !== ws) return;
      conn.ws = null;
      conn.ready = false;
      conn.downSince = Date.now();
      if (event.code === 4401 || event.code === 4404) {
        forget();
        return;
      }
      if (event.code === 4429) {
        // the conversation is open in too many tabs: this one polls, and tries again later
        startPolling();
        clearTimeout(conn.retryTimer);
        conn.retryTimer = setTimeout(() => {
          conn.retryTimer = null;
          connect();
        }, 30000);
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (conn.retryTimer) return;
    conn.attempts += 1;
    if (conn.attempts > 1) setBanner(navigator.onLine === false ? T.offline : T.reconnecting);
    const delay =
      Math.min(10000, 400 * 2 ** Math.min(conn.attempts, 5)) * (0.6 + Math.random() * 0.4);
    conn.retryTimer = setTimeout(() => {
      conn.retryTimer = null;
      connect();
    }, delay);
    if (conn.attempts >= 2) startPolling();
  }

  function reconnectNow() {
    clearTimeout(conn.retryTimer);
    conn.retryTimer = null;
    if (conn.ws && !conn.ready) return;
    if (conn.ws) conn.ws.close();
    else connect();
  }
  window.addEventListener("online", () => {
    setBanner(T.reconnecting);
    conn.attempts = 0;
    reconnectNow();
  });
  window.addEventListener("offline", () => setBanner(T.offline));

  function setBanner(text) {
    banner.hidden = !text;
    banner.textContent = text || "";
  }

  // while the socket is down: catch up over HTTP
  function startPolling() {
    if (conn.pollTimer || !state.conversationId) return;
    conn.pollTimer = setInterval(() => catchUp().catch(() => {}), POLL_MS);
  }
  function stopPolling() {
    clearInterval(conn.pollTimer);
    conn.pollTimer = null;
  }
  async function catchUp() {
    if (!state.conversationId) return;
    const answer = await api(
      "GET",
      `/api/conversations/${state.conversationId}/messages?since_seq=${state.contiguous}`,
    );
    let added = false;
    if (answer.mode && answer.mode !== state.mode) setMode(answer.mode);
    for (const message of answer.messages || []) added = onMessage(message, true) || added;
    return answer;
  }

  function onFrame(frame) {
    if (frame.conversation_id && frame.conversation_id !== state.conversationId) return;
    switch (frame.type) {
      case "message":
        onMessage(frame, false);
        break;
      case "mode":
        if (frame.mode !== state.mode || frame.agent) setMode(frame.mode, frame);
        break;
      case "queue":
        onQueue(frame);
        break;
      case "typing":
        if (frame.role === "agent")
          showTyping(T.typingPerson(frame.name || state.agent || "Customer Care"), 4000);
        break;
      case "ack":
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onMessage(message, replay) {
    const mine = message.role === "customer";
    const stick = nearEnd(); // before it grows
    const added = addStored(message);
    if (!added) return false;
    if (message.seq > state.contiguous + 1)
      setTimeout(() => message.seq > state.contiguous + 1 && catchUp().catch(() => {}), 1500);
    if (!mine && !replay && (!state.open || document.hidden)) setUnread(state.unread + 1);
    scrollToEnd(mine || stick);
    return true;
  }

  // --- sending -------------------------------------------------------------------------------

  function pendingBubble(item) {
    const li = bubble({ role: "customer", text: item.text, created_at: item.at });
    li.dataset.clientMsgId = item.client_msg_id;
    setDelivery(li, "sending");
    pending.set(item.client_msg_id, li);
    log.append(li);
    regroup(li);
    return li;
  }

  async function submit(text) {
    text = text.replace(/\s+$/, "");
    if (!text.trim()) return;
    if (text.length > MAX_CHARS) {
      inputError.textContent = T.tooLong(MAX_CHARS);
      return;
    }
    inputError.textContent = "";
    hideQuickReplies();
    const item = { client_msg_id: newId(), text, at: new Date().toISOString() };
    state.outbox.push(item);
    persist();
    pendingBubble(item);
    scrollToEnd(true);
    deliver(item);
  }

  async function deliver(item) {
    try {
      await ensureConversation();
    } catch {
      markFailed(item.client_msg_id);
      return;
    }
    connect();
    if (conn.ready) sendOverSocket(item);
    item.fallback = setTimeout(() => sendOverHttp(item), HTTP_FALLBACK_MS);
  }

  function sendOverSocket(item) {
    if (!conn.ready || !conn.ws) return;
    try {
      conn.ws.send(
        JSON.stringify({ type: "message", client_msg_id: item.client_msg_id, text: item.text }),
      );
      item.sentAt = Date.now();
      const li = pending.get(item.client_msg_id);
      if (li) setDelivery(li, "sending");
    } catch {
      /* the close handler reconnects and resends */
    }
  }

  async function sendOverHttp(item) {
    if (!state.outbox.includes(item) || conn.ready) return;
    try {
      const stored = await api("POST", `/api/conversations/${state.conversationId}/messages`, {
        client_msg_id: item.client_msg_id,
        text: item.text,
      });
      onAck({ client_msg_id: stored.client_msg_id, seq: stored.seq });
      catchUp().catch(() => {});
    } catch (failure) {
      if (failure.status && failure.status < 500 && failure.status !== 429)
        markFailed(item.client_msg_id, failure.message);
      else
        item.fallback = setTimeout(
          () => sendOverHttp(item),
          failure.retryAfter ? failure.retryAfter * 1000 : HTTP_FALLBACK_MS,
        );
    }
  }

  function onAck(frame) {
    dropFromOutbox(frame.client_msg_id);
    const li = pending.get(frame.client_msg_id);
    if (li) setDelivery(li, "sent");
    // the bot is working on an answer, unless it has answered already
    if (state.mode === "bot" && state.lastReplySeq < frame.seq) showTyping(T.typingBot, 12000);
  }

  function onError(frame) {
    if (frame.error === "rate_limited" && frame.client_msg_id) {
      const item = state.outbox.find((i) => i.client_msg_id === frame.client_msg_id);
      if (item) setTimeout(() => sendOverSocket(item), (frame.retry_after || 5) * 1000);
      return;
    }
    if (frame.error === "unavailable") return; // not stored: the watchdog resends
    if ((frame.error || "").startsWith("invalid") || frame.error === "message_too_long") {
      const last = state.outbox[state.outbox.length - 1];
      if (last) markFailed(last.client_msg_id, frame.message);
    }
  }

  function markFailed(clientMsgId, message) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (item) clearTimeout(item.fallback);
    const li = pending.get(clientMsgId);
    if (li) setDelivery(li, "failed");
    if (message) inputError.textContent = message;
  }

  function retry(clientMsgId) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (!item) return;
    const li = pending.get(clientMsgId);
    if (li) setDelivery(li, "sending");
    deliver(item);
  }

  function dropFromOutbox(clientMsgId) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (!item) return;
    clearTimeout(item.fallback);
    state.outbox = state.outbox.filter((i) => i !== item);
    persist();
  }

  // a message sent but never acknowledged: the socket is dead even if it looks open
  setInterval(() => {
    const stale = state.outbox.some((i) => i.sentAt && Date.now() - i.sentAt > ACK_TIMEOUT_MS);
    if (stale && conn.ws && conn.ready) {
      for (const item of state.outbox) item.sentAt = null;
      conn.ws.close();
    }
  }, 2000);

  function forget() {
    state.conversationId = state.token = state.expires = null;
    state.contiguous = 0;
    stopPolling();
    persist();
    log.append(bubble({ role: "system", text: T.expired }));
    setMode("bot");
    for (const item of state.outbox) deliver(item);
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    resize();
    submit(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  let lastTyping = 0;
  input.addEventListener("input", () => {
    resize();
    inputError.textContent = input.value.length >= MAX_CHARS ? T.tooLong(MAX_CHARS) : "";
    if (conn.ready && state.mode === "assigned" && Date.now() - lastTyping > 2000) {
      lastTyping = Date.now();
      conn.ws.send('{"type":"typing"}');
    }
  });
  function resize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.conversationId && !conn.ready) reconnectNow();
  });

  // --- start -------------------------------------------------------------------------------

  async function restore() {
    showGreeting();
    if (saved.expiredBefore) log.append(bubble({ role: "system", text: T.expired }));
    for (const item of state.outbox) pendingBubble(item);
    if (!state.conversationId) return;
    try {
      await catchUp();
    } catch (failure) {
      if (failure.status === 401 || failure.status === 404) {
        forget();
        return;
      }
    }
    connect();
    for (const item of state.outbox) deliver(item);
  }

  (document.body || document.documentElement).append(host);
  setMode("bot");
  restore().finally(() => setOpen(state.open, false));

  window.FetchAndHomeChat = Object.freeze({
    open: () => setOpen(true),
    close: () => setOpen(false),
    send: (text) => {
      setOpen(true, false);
      return submit(String(text));
    },
  });
}
