// What the desk pages (agent desk, supervisor view, designer and insights) show the same way:
// toasts, tables and figure tiles.

import { ApiError } from "./api.js";
import { $, h } from "../shared/dom.js";

export function toast(text, kind = "info") {
  const item = h("div", { class: `toast toast-${kind}`, text });
  $("#toasts").append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 5000);
}

export function fail(error) {
  toast(
    error instanceof ApiError ? error.message : "Something went wrong. Please try again.",
    "error",
  );
}

// A table with its caption for screen readers; with options.empty, that text instead when there
// are no rows.
export function table(caption, columns, rows, options = {}) {
  if (options.empty !== undefined && !rows.length)
    return h("p", { class: "empty", text: options.empty });
  return h(
    "div",
    {
      class: `table-wrap${options.scroll ? " table-scroll" : ""}`,
      tabindex: options.scroll ? "0" : undefined,
      role: options.scroll ? "region" : undefined,
      "aria-label": options.scroll ? caption : undefined,
    },
    h(
      "table",
      { class: `table ${options.class || ""}`.trim() },
      h("caption", { class: options.showCaption ? "table-caption" : "sr-only", text: caption }),
      options.head ||
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            columns.map((c) =>
              h("th", { scope: "col", class: c.numeric ? "num" : undefined, text: c.label ?? c }),
            ),
          ),
        ),
      h("tbody", {}, rows),
    ),
  );
}

// One figure in a row of tiles (supervisor.css): a label, the value, an optional note; tone
// ("warn", "alert") colours it.
export function tile(label, value, note, { tone, id } = {}) {
  return h(
    "li",
    { class: `tile${tone ? ` tile-${tone}` : ""}`, id },
    h("p", { class: "tile-label", text: label }),
    h("p", { class: "tile-value", text: value }),
    note ? h("p", { class: "tile-note", text: note }) : null,
  );
}
