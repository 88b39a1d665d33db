// What the designer's pages share: signing in, the header (who you are, links for your role),
// and the role check. What they show comes from /desk/api/designer/ (bot/designer/views.py).

import { currentUser, showRoleLinks, signIn, signOut } from "../desk/session.js";
import { $, paw } from "../shared/dom.js";

export const ROLES = ["designer", "supervisor"];

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
