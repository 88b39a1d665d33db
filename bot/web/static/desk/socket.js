// The desk's websocket: live queue changes and the conversations this person watches. It
// reconnects by itself; after a reconnect the page reloads what it shows (the database is the
// source of truth) and watches its conversations again.

export class DeskSocket {
  constructor({ onFrame, onState }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.watching = new Set();
    this.ws = null;
    this.attempts = 0;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    window.addEventListener("online", () => this.kick());
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  kick() {
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(
      `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/desk/ws`,
    );
    this.ws = ws;
    this.onState("connecting");
    ws.addEventListener("open", () => {
      const again = this.attempts > 0 || this.everOpened;
      this.attempts = 0;
      this.everOpened = true;
      for (const id of this.watching) ws.send(JSON.stringify({ watch: id }));
      this.onState("open", again);
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (event.code === 4401) {
        this.onState("signed_out");
        return;
      }
      this.onState("down");
      this.attempts += 1;
      const delay =
        Math.min(10000, 500 * 2 ** Math.min(this.attempts, 5)) * (0.6 + Math.random() * 0.4);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  watch(id) {
    this.watching.add(id);
    this.send({ watch: id });
  }

  unwatch(id) {
    this.watching.delete(id); // the service stops sending once the ticket is no longer ours
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }
}

// An onState for DeskSocket that shows the state in the header's #connection (data-state and
// words from labels, "down" for any state without its own), reloads the page when the session
// has ended, and calls onReconnect when the socket is back after a drop.
const LIVE_LABELS = { open: "Live", connecting: "Connecting…", down: "Offline, reconnecting…" };

export function showConnection(onReconnect, labels = LIVE_LABELS) {
  return (status, again) => {
    const box = document.querySelector("#connection");
    box.dataset.state = status;
    box.querySelector(".connection-text").textContent = labels[status] || labels.down;
    if (status === "signed_out") location.reload();
    if (status === "open" && again) onReconnect();
  };
}
