// The supervisor view: live figures, approvals decided in one click, the audit list of flagged
// grants, and every open conversation with a way to join it. Figures refresh every few seconds
// and whenever the desk socket says something changed.

import { get, post } from "./api.js";
import { currentUser, showRoleLinks, signIn, signOut } from "./session.js";
import { DeskSocket, showConnection } from "./socket.js";
import { fail, table, tile, toast } from "./ui.js";
import {
  $,
  REMEDY_LABEL,
  clear,
  clock,
  day,
  duration,
  h,
  money,
  paw,
  plural,
  reasonLabel,
  since,
  words,
} from "../shared/dom.js";

for (const mark of document.querySelectorAll("[data-paw]")) mark.append(paw());

// --- figures -------------------------------------------------------------------------------

async function loadStats() {
  const s = await get("/desk/api/stats");
  const longest = s.longest_wait_seconds;
  clear(
    $("#tiles"),
    tile("Waiting", String(s.waiting), s.waiting ? "in the queue" : "nobody waiting", {
      tone: s.waiting > 3 ? "warn" : null,
    }),
    tile(
      "Longest wait",
      s.waiting ? duration(longest) : "–",
      s.waiting ? "oldest in the queue" : "",
      { tone: longest > 300 ? "warn" : null },
    ),
    tile(
      "Agents online",
      String(s.agents_online),
      s.agents_online ? "on the desk now" : "nobody on the desk",
      { tone: s.agents_online ? null : "alert" },
    ),
    tile("With a person", String(s.assigned), "conversations claimed"),
    tile("Escalated", String(s.escalated), "asking for a supervisor", {
      tone: s.escalated ? "warn" : null,
    }),
    tile("Approvals", String(s.pending_approvals), "waiting for a decision", {
      tone: s.pending_approvals ? "warn" : null,
    }),
  );
  const reasons = Object.entries(s.handoffs_last_hour).sort((a, b) => b[1] - a[1]);
  const most = Math.max(1, ...reasons.map(([, n]) => n));
  clear(
    $("#reasons"),
    reasons.length
      ? h(
          "ul",
          { class: "bars" },
          reasons.map(([reason, n]) => {
            const bar = h("span", { class: "bar-fill" });
            bar.style.width = `${Math.max(4, (100 * n) / most)}%`;
            return h(
              "li",
              { class: "bar" },
              h("span", { class: "bar-label", text: reasonLabel(reason) }),
              h("span", { class: "bar-track", "aria-hidden": "true" }, bar),
              h("span", { class: "bar-value", text: String(n) }),
            );
          }),
        )
      : h("p", { class: "empty", text: "No handoffs in the last hour." }),
  );
  const csat = s.satisfaction_last_day;
  const row = (who, label) =>
    h(
      "div",
      { class: "csat" },
      h("p", { class: "csat-label", text: label }),
      csat[who]
        ? [
            h(
              "p",
              { class: "csat-value" },
              h("strong", { text: csat[who].average.toFixed(1) }),
              " / 5",
            ),
            h("p", { class: "muted", text: plural(csat[who].answers, "answer") }),
          ]
        : h("p", { class: "muted", text: "No answers yet" }),
    );
  clear(
    $("#csat"),
    h(
      "div",
      { class: "csat-grid" },
      row("agent", "Handled by a person"),
      row("bot", "Handled by the bot"),
    ),
  );
  $("#updated").textContent = `Updated ${clock(new Date().toISOString())}`;
}

// --- approvals -----------------------------------------------------------------------------

async function loadApprovals() {
  const { approvals } = await get("/desk/api/approvals");
  const pending = approvals.filter((a) => a.status === "pending");
  $("#approvals-count").textContent = String(pending.length);
  clear(
    $("#approvals"),
    table(
      "Approval requests waiting for a decision",
      ["Requested by", "Remedy", "Order", "Reason", "Asked", ""],
      pending.map((a) =>
        h(
          "tr",
          {},
          h("td", { text: a.requested_by }),
          h(
            "td",
            {},
            h("strong", {
              text: `${REMEDY_LABEL[a.kind] || words(a.kind)} ${money(a.amount_cents)}`,
            }),
          ),
          h("td", { text: `#${a.order_id}` }),
          h("td", { class: "reason-cell", text: a.reason }),
          h("td", { text: `${since(a.created_at)} ago` }),
          h(
            "td",
            { class: "actions" },
            h("button", {
              type: "button",
              class: "btn btn-primary btn-small",
              text: "Approve",
              "aria-label":
                `Approve ${REMEDY_LABEL[a.kind]} of ${money(a.amount_cents)} for ` +
                `${a.requested_by}`,
              onclick: (e) => decide(a, true, e.currentTarget),
            }),
            h("button", {
              type: "button",
              class: "btn btn-quiet btn-small",
              text: "Decline",
              "aria-label":
                `Decline ${REMEDY_LABEL[a.kind]} of ${money(a.amount_cents)} for ` +
                `${a.requested_by}`,
              onclick: (e) => decide(a, false, e.currentTarget),
            }),
          ),
        ),
      ),
      { empty: "No approvals waiting. Requests above an agent's authority appear here." },
    ),
  );
}

async function decide(approval, approve, button) {
  for (const b of button.parentElement.querySelectorAll("button")) b.disabled = true;
  try {
    await post(`/desk/api/approvals/${approval.id}/decide`, { approve });
    toast(
      `${approve ? "Approved" : "Declined"}: ${REMEDY_LABEL[approval.kind]} of ` +
        `${money(approval.amount_cents)} for ${approval.requested_by}.`,
      approve ? "success" : "info",
    );
  } catch (error) {
    fail(error);
  }
  await Promise.all([loadApprovals(), loadStats(), loadAudit()]).catch(() => {});
}

// --- open conversations --------------------------------------------------------------------

async function loadOpen() {
  const rows = (await get("/desk/api/open")).open;
  $("#open-count").textContent = String(rows.length);
  clear(
    $("#open"),
    table(
      "Open conversations",
      ["Customer", "Why", "Status", "Waiting since", "Summary", ""],
      rows.map((c) =>
        h(
          "tr",
          { class: c.escalated ? "is-escalated" : "" },
          h(
            "td",
            {},
            h("strong", { text: c.customer || "Guest" }),
            h("span", { class: "muted block", text: c.language.toUpperCase() }),
          ),
          h(
            "td",
            {},
            h("span", { class: "badge badge-reason", text: reasonLabel(c.reason) }),
            c.priority === "high" ? h("span", { class: "badge badge-high", text: "High" }) : null,
            c.escalated ? h("span", { class: "badge badge-escalated", text: "Escalated" }) : null,
          ),
          h("td", { text: c.status === "waiting" ? "Waiting" : `With ${c.agent || "someone"}` }),
          h("td", {
            class: "nowrap",
            text: `${clock(c.waiting_since)} (${since(c.waiting_since)})`,
          }),
          h("td", {
            class: "reason-cell",
            text: c.escalation_note ? `Escalation: ${c.escalation_note}` : c.summary,
          }),
          h(
            "td",
            { class: "actions" },
            c.status === "assigned"
              ? h("button", {
                  type: "button",
                  class: "btn btn-secondary btn-small",
                  text: "Join",
                  "aria-label": `Join the conversation with ${c.customer || "a guest"}`,
                  onclick: (e) => join(c, e.currentTarget),
                })
              : h("button", {
                  type: "button",
                  class: "btn btn-secondary btn-small",
                  text: "Claim",
                  "aria-label": `Claim the conversation with ${c.customer || "a guest"}`,
                  onclick: (e) => claim(c, e.currentTarget),
                }),
            h("a", {
              class: "btn btn-quiet btn-small",
              href: `/desk/#c=${encodeURIComponent(c.conversation_id)}`,
              text: "Open",
            }),
          ),
        ),
      ),
      { empty: "No open conversations." },
    ),
  );
  return rows;
}

async function join(conversation, button) {
  button.disabled = true;
  try {
    await post(`/desk/api/conversations/${conversation.conversation_id}/join`);
    location.assign(`/desk/#c=${encodeURIComponent(conversation.conversation_id)}`);
  } catch (error) {
    fail(error);
    button.disabled = false;
  }
}

async function claim(conversation, button) {
  button.disabled = true;
  try {
    await post(`/desk/api/tickets/${conversation.ticket_id}/claim`);
    location.assign(`/desk/#c=${encodeURIComponent(conversation.conversation_id)}`);
  } catch (error) {
    fail(error);
    button.disabled = false;
    loadOpen().catch(() => {});
  }
}

// --- deliveries to the shop's systems --------------------------------------------------------

// Grants the shop's systems have not confirmed: the failed ones (refused, or given up on after
// retries) wait for a decision; the pending ones are on their way. Hidden while there are none.
async function loadDeliveries() {
  const { deliveries } = await get("/desk/api/deliveries");
  $("#deliveries-card").hidden = deliveries.length === 0;
  $("#deliveries-count").textContent = String(deliveries.length);
  clear(
    $("#deliveries"),
    table(
      "Grants not yet done by the shop's systems",
      ["Granted", "By", "Remedy", "Order", "Where it stands", ""],
      deliveries.map((g) => {
        const label = REMEDY_LABEL[g.kind] || words(g.kind);
        const what = `${label} ${money(g.amount_cents)}`;
        const spoken = `${label.toLowerCase()} of ${money(g.amount_cents)} on order ${g.order_id}`;
        const failed = g.delivery.state === "failed";
        return h(
          "tr",
          {},
          h("td", { class: "nowrap", text: `${day(g.created_at)} ${clock(g.created_at)}` }),
          h("td", { text: g.actor }),
          h("td", {}, h("strong", { text: what })),
          h("td", { text: `#${g.order_id}` }),
          h(
            "td",
            { class: "reason-cell" },
            failed
              ? h("strong", { text: "Not done: " })
              : h("span", { text: `On its way (attempt ${g.delivery.attempts + 1}). ` }),
            g.delivery.last_error || "",
          ),
          h(
            "td",
            { class: "actions" },
            failed
              ? [
                  h("button", {
                    type: "button",
                    class: "btn btn-primary btn-small",
                    text: "Send again",
                    "aria-label": `Send the ${spoken} again`,
                    onclick: (e) => settleDelivery(g, "retry", e.currentTarget),
                  }),
                  h("button", {
                    type: "button",
                    class: "btn btn-quiet btn-small",
                    text: "Cancel it",
                    "aria-label": `Cancel the ${spoken}`,
                    onclick: (e) => settleDelivery(g, "cancel", e.currentTarget),
                  }),
                ]
              : null,
          ),
        );
      }),
    ),
  );
}

async function settleDelivery(grant, how, button) {
  button.disabled = true;
  const what = `${REMEDY_LABEL[grant.kind] || words(grant.kind)} of ${money(grant.amount_cents)}`;
  try {
    await post(`/desk/api/deliveries/${grant.grant_id}/${how}`);
    toast(
      how === "retry"
        ? `The ${what.toLowerCase()} is on its way to the shop's systems again.`
        : `The ${what.toLowerCase()} is cancelled: it will not be sent. Tell the agent ` +
            "how the customer is to be helped instead.",
      "success",
    );
  } catch (error) {
    fail(error);
  }
  await loadDeliveries().catch(() => {});
}

// --- audit ---------------------------------------------------------------------------------

async function loadAudit() {
  const { flagged, threshold_cents: threshold } = await get("/desk/api/audit");
  // one statement of what is listed and from which amount; the table (or "none yet") follows it
  $("#audit-title").textContent = `Audit: grants of ${money(threshold)} or more`;
  clear(
    $("#audit"),
    h("p", {
      class: "muted audit-rule",
      text: flagged.length
        ? `Grants of ${money(threshold)} or more are made at once and listed here for review ` +
          "afterwards, newest first."
        : `No grants of ${money(threshold)} or more yet. Such grants are made at once and ` +
          "listed here for review afterwards.",
    }),
    flagged.length
      ? table(
          "Grants flagged for review",
          ["When", "By", "Remedy", "Order", "Reason", "Policy"],
          flagged.map((g) =>
            h(
              "tr",
              {},
              h("td", { class: "nowrap", text: `${day(g.created_at)} ${clock(g.created_at)}` }),
              h("td", { text: g.actor }),
              h(
                "td",
                {},
                h("strong", {
                  text: `${REMEDY_LABEL[g.kind] || words(g.kind)} ${money(g.amount_cents)}`,
                }),
                g.approval_id
                  ? h("span", { class: "muted block", text: "approved by a supervisor" })
                  : null,
              ),
              h("td", { text: `#${g.order_id}` }),
              h("td", { class: "reason-cell", text: g.reason }),
              h("td", { text: `v${g.policy_version}` }),
            ),
          ),
        )
      : null,
  );
}

// --- escalations ---------------------------------------------------------------------------

// A new escalation is worth interrupting for: a toast names who asks about whom, and the row
// in the open conversations carries the note.
async function announceEscalation(frame) {
  const rows = await loadOpen();
  const row = rows.find((c) => c.conversation_id === frame.conversation_id);
  const who = row ? `${row.agent || "An agent"} asks` : "An agent asks";
  const about = row ? ` about ${row.customer || "a guest"}` : "";
  const note = row?.escalation_note ? `: “${row.escalation_note}”` : ".";
  toast(`Escalation: ${who} for a supervisor${about}${note}`, "warn");
}

// --- start ---------------------------------------------------------------------------------

let timer = null;
function refreshSoon(which) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    const work = [loadStats(), loadOpen()];
    if (which === "approvals") work.push(loadApprovals());
    if (which === "audit" || which === "approvals") work.push(loadAudit());
    if (which === "delivery" || which === "approvals") work.push(loadDeliveries());
    Promise.all(work).catch(() => {});
  }, 200);
}

async function main() {
  let user = await currentUser().catch(() => null);
  if (!user) user = await signIn($("#login"));
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name;
  $("#me-role").textContent = user.role;
  $("#sign-out").addEventListener("click", signOut);
  showRoleLinks(user);
  if (user.role !== "supervisor") {
    $("#not-allowed").hidden = false;
    $("#supervisor-body").hidden = true;
    return;
  }
  const socket = new DeskSocket({
    onState: showConnection(() => refreshSoon("approvals")),
    onFrame(frame) {
      if (frame.type === "escalation") announceEscalation(frame).catch(() => {});
      if (["queue", "approvals", "audit", "escalation", "delivery"].includes(frame.type))
        refreshSoon(frame.type);
    },
  });
  socket.start();
  await Promise.all([
    loadStats(),
    loadApprovals(),
    loadOpen(),
    loadAudit(),
    loadDeliveries(),
  ]).catch(fail);
  setInterval(() => Promise.all([loadStats(), loadOpen()]).catch(() => {}), 5000);
}

main().catch((error) => {
  console.error(error);
  toast("The supervisor view could not start. Reload the page.", "error");
});
