// The wall's live connection: /ws/ui/live with reconnect and backoff. While it is down a banner
// says so and the page is marked stale (body.stale; tiles greyed); when the server refuses the
// socket, /api/auth/me tells whether the session is gone (then: the login page).
"use strict";
const WallConn = (() => {
  const { t, el } = AM;
  const banner = el("div", { class: "conn-banner", id: "conn-banner", role: "status", hidden: true });
  const MIN_DELAY = 1000, MAX_DELAY = 30000;
  function setStale(on) {
    document.body.classList.toggle("stale", on);
    document.body.dataset.live = on ? "0" : "1";
    banner.hidden = !on;
  }
  async function sessionGone() {
    try {
      const r = await fetch("/api/auth/me", { credentials: "same-origin" });
      return r.status === 401;
    } catch (e) {
      return false; // server unreachable: keep trying
    }
  }
  function toLogin() {
    banner.textContent = t("session_gone");
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
  // onEvent(event) for every event; onOpen() after each (re)subscription (resynchronise then)
  function connect(onEvent, onOpen) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/ui/live";
    let delay = MIN_DELAY, attempt = 0, timer = null;
    function countdown(until) {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      banner.textContent = left ? t("conn_lost", { s: left, n: attempt }) : t("conn_retry");
      if (left) timer = setTimeout(() => countdown(until), 500);
    }
    function open() {
      const ws = new WebSocket(url);
      ws.onmessage = (m) => {
        const ev = JSON.parse(m.data);
        if (ev.type === "subscribed") { delay = MIN_DELAY; attempt = 0; setStale(false); onOpen(); return; }
        onEvent(ev);
      };
      ws.onclose = async () => {
        setStale(true);
        if (await sessionGone()) { toLogin(); return; }
        attempt += 1;
        const until = Date.now() + delay;
        clearTimeout(timer);
        countdown(until);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, MAX_DELAY);
      };
    }
    open();
  }
  return { banner, connect };
})();
