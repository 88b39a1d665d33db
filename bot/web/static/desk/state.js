// What the desk knows, in one object every part reads and changes, and the small things derived
// from it (names, the conversations this person has open, the page title, the chime).

export const BASE_TITLE = document.title;

export const MODE_LABEL = {
  bot: "With the bot",
  queued: "Waiting in the queue",
  assigned: "With a person",
  closed: "Closed",
};

export const state = {
  me: null,
  config: null, // /desk/api/desk-config: menus, labels and limits from policy.yml
  canned: [],
  queue: [],
  seenTickets: null,
  assigned: [],
  escalated: [],
  extra: new Set(JSON.parse(sessionStorage.getItem("desk-extra") || "[]")),
  views: new Map(),
  unread: new Map(),
  typingTimers: new Map(),
  drafts: new Map(),
  approvals: [],
  selected: null,
  composing: "reply",
  sound: localStorage.getItem("desk-sound") !== "off",
  lastTyping: 0,
};

let audio = null;

export function chime() {
  if (!state.sound) return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.12, 1320],
    ]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.12, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.3);
    }
  } catch {
    /* no audio: the title still says it */
  }
}

function totalUnread() {
  let total = 0;
  for (const count of state.unread.values()) total += count;
  return total;
}

export function updateTitle() {
  const total = totalUnread();
  document.title = total ? `(${total}) ${BASE_TITLE}` : BASE_TITLE;
}

export function customerName(view) {
  return view?.customer ? view.customer.name : "Guest customer";
}

export function firstName(view) {
  return view?.customer ? view.customer.name.split(" ")[0] : "the customer";
}

export function myConversationIds() {
  const ids = [];
  for (const t of state.assigned) ids.push(t.conversation_id);
  for (const t of state.escalated)
    if (!ids.includes(t.conversation_id)) ids.push(t.conversation_id);
  for (const id of state.extra) if (!ids.includes(id)) ids.push(id);
  return ids;
}

export function ticketOf(cid) {
  return (
    state.assigned.find((t) => t.conversation_id === cid) ||
    state.escalated.find((t) => t.conversation_id === cid) ||
    null
  );
}

export function saveExtra() {
  sessionStorage.setItem("desk-extra", JSON.stringify([...state.extra]));
}
