// What the designer's pages share: signing in, the header (who you are, links for your role),
// toasts, and the role check. What they show comes from /desk/api/designer/ (bot/designer/views.py).

import { ApiError } from "../desk/api.js";
import { currentUser, showRoleLinks, signIn, signOut } from "../desk/session.js";
import { h, paw } from "../shared/dom.js";

export const $ = (selector) => document.querySelector(selector);
export const ROLES = ["designer", "supervisor"];

export function toast(text, kind = "info") {
  const item = h("div", { class: `toast toast-${kind}`, text });
  $("#toasts").append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 5000);
}

export function fail(error) {
  toast(error instanceof ApiError ? error.message : "Something went wrong. Please try again.", "error");
}

// Signs in if needed and fills the header; resolves with the user, or null when this page is
// not for their role (the page then says so).
export async function startPage() {
  for (const mark of document.querySelectorAll("[data-paw]")) mark.append(paw());
  let user = await currentUser().catch(() => null);
  if (!user) user = await signIn($("#login"));
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name;
  $("#me-role").textContent = user.role;
  $("#sign-out").addEventListener("click", signOut);
  showRoleLinks(user);
  if (!ROLES.includes(user.role)) {
    $("#not-allowed").hidden = false;
    $("#studio-body").hidden = true;
    const connection = $("#connection");
    if (connection) connection.hidden = true;
    return null;
  }
  return user;
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

export function percent(share, digits = 0) {
  return share === null || share === undefined ? "–" : `${(share * 100).toFixed(digits)}%`;
}

export function fixed(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

// A signed change, in words as well as a sign, so it never relies on colour alone.
export function change(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const rounded = Number(value).toFixed(digits);
  if (Number(rounded) === 0) return `±${Number(0).toFixed(digits)}`;
  return value > 0 ? `+${rounded}` : `−${rounded.slice(1)}`;
}

export function table(caption, columns, rows, options = {}) {
  return h(
    "div",
    { class: `table-wrap${options.scroll ? " table-scroll" : ""}`, tabindex: options.scroll ? "0" : undefined, role: options.scroll ? "region" : undefined, "aria-label": options.scroll ? caption : undefined },
    h(
      "table",
      { class: `table ${options.class || ""}`.trim() },
      h("caption", { class: options.showCaption ? "table-caption" : "sr-only", text: caption }),
      options.head || h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : undefined, text: c.label ?? c })))),
      h("tbody", {}, rows),
    ),
  );
}
