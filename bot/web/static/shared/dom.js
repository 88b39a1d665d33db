// DOM helpers for the desk pages and the chat widget (bot/web/pages.py puts them into the
// widget's one script). Text is only ever set with textContent or text nodes: nothing a customer,
// an agent or the bot wrote can become markup. Links are built as <a> elements, and only for http
// and https addresses.

export const $ = (selector) => document.querySelector(selector);

export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function")
      node.addEventListener(key.slice(2), value);
    else if (
      key === "hidden" ||
      key === "disabled" ||
      key === "checked" ||
      key === "selected" ||
      key === "required"
    )
      node[key] = Boolean(value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else
      node.append(
        typeof child === "string" || typeof child === "number"
          ? document.createTextNode(String(child))
          : child,
      );
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

export function linkify(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of String(text).matchAll(URL_PATTERN)) {
    let raw = match[0];
    const trailing = raw.match(/[.,;:!?)\]]+$/);
    if (trailing) raw = raw.slice(0, -trailing[0].length);
    let url;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    out.append(document.createTextNode(text.slice(last, match.index)));
    out.append(h("a", { href: url.href, target: "_blank", rel: "noopener noreferrer", text: raw }));
    last = match.index + raw.length;
  }
  out.append(document.createTextNode(String(text).slice(last)));
  return out;
}

export function money(cents) {
  const value = Number(cents || 0) / 100;
  return value.toLocaleString("en-US", { style: "currency", currency: "USD" });
}

export function parseDollars(text) {
  const cleaned = String(text).replace(/[$,\s]/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  return Math.round(Number(cleaned) * 100);
}

const timeFormat = new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
});

export function clock(iso) {
  return timeFormat.format(new Date(iso));
}

export function day(iso) {
  return dateFormat.format(new Date(iso));
}

export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export function since(iso) {
  return duration((Date.now() - new Date(iso).getTime()) / 1000);
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

export function words(code) {
  const text = String(code || "")
    .replace(/^utter_(faq\/)?/, "")
    .replace(/[_/]+/g, " ")
    // a code can't hold an apostrophe: "pet_wont_eat" reads "Pet won't eat"
    .replace(/\b(won|don|can|isn|aren|doesn|didn|wasn|haven|hasn)t\b/g, "$1't")
    .trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const REMEDY_LABEL = {
  credit: "Credit",
  refund: "Refund",
  fee_waiver: "Fee waiver",
  replacement: "Replacement",
};

const REASONS = {
  frustration: "Frustration",
  explicit_request: "Asked for a person",
  out_of_policy: "Needs a person (policy)",
  nlu_failure: "Not understood",
  bot_unavailable: "Bot unavailable",
};

const LANGUAGE_NAME = { en: "English", vi: "Vietnamese", id: "Indonesian", zh: "Chinese" };

// A language code as agents read it: "vi" -> "Vietnamese".
export function languageName(code) {
  return LANGUAGE_NAME[code] || String(code || "").toUpperCase();
}

export function reasonLabel(reason, rule) {
  const base = REASONS[reason] || words(reason);
  return rule ? `${base}: ${words(rule).toLowerCase()}` : base;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function paw() {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 32 32");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "paw");
  const disc = document.createElementNS(SVG_NS, "circle");
  disc.setAttribute("cx", "16");
  disc.setAttribute("cy", "16");
  disc.setAttribute("r", "16");
  disc.setAttribute("class", "paw-disc");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute(
    "d",
    "M11.3 15.2c1.3 0 2.2-1.4 2.2-3.1S12.6 9 11.3 9s-2.2 1.4-2.2 3.1.9 3.1 2.2 3.1zm9.4 0c1.3 0 " +
      "2.2-1.4 2.2-3.1S22 9 20.7 9s-2.2 1.4-2.2 3.1.9 3.1 2.2 3.1zM7.8 19.6c1.1 0 1.9-1.1 " +
      "1.9-2.5s-.8-2.4-1.9-2.4-1.9 1.1-1.9 2.4.8 2.5 1.9 2.5zm16.4 0c1.1 0 1.9-1.1 " +
      "1.9-2.5s-.8-2.4-1.9-2.4-1.9 1.1-1.9 2.4.8 2.5 1.9 2.5zM16 17.2c-3 0-5.7 3.4-5.7 5.6 0 1.5 " +
      "1.1 2.2 2.6 2.2 1.2 0 1.9-.6 3.1-.6s1.9.6 3.1.6c1.5 0 2.6-.7 2.6-2.2 " +
      "0-2.2-2.7-5.6-5.7-5.6z",
  );
  path.setAttribute("class", "paw-print");
  svg.append(disc, path);
  return svg;
}
