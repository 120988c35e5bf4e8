// The pages' live connection (the supervisor's wall and the agent's cue): /ws/ui/live with reconnect
// and backoff. The server pings every heartbeat_s seconds (named in its first frame); when nothing
// arrived for 2.5 x that (a server that hangs, a half-open link: the socket never closes), or the
// socket closes, a banner says the page is not live, the page is marked stale (body.stale; tiles
// greyed) and a new socket is opened. When the server refuses the socket, /api/auth/me tells
// whether the session is gone (then: the login page). On a floor (Redis bus) every event carries
// its stream id; a new socket asks for the critical events after the last one seen (since=ID), so
// alerts raised while the page (or its web node) was away are not lost.
"use strict";
const LiveConn = (() => {
  const { t, el } = AM;
  const banner = el("div", { class: "conn-banner", id: "conn-banner", role: "status", hidden: true });
  const MIN_DELAY = 1000, MAX_DELAY = 30000;
  const FIRST_WAIT_S = 10; // before the server has named its heartbeat: how long a new socket may stay silent
  function setStale(on) {
    document.body.classList.toggle("stale", on);
    document.body.dataset.live = on ? "0" : "1";
    banner.hidden = !on;
  }
  async function sessionGone(waitMs) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs); // a hung server never answers
    try {
      const r = await fetch("/api/auth/me", { credentials: "same-origin", signal: abort.signal });
      return r.status === 401;
    } catch (e) {
      return false; // server unreachable: keep trying
    } finally {
      clearTimeout(timer);
    }
  }
  function toLogin() {
    banner.textContent = t("session_gone");
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
  // params: query of /ws/ui/live; onEvent(event) for every event; onOpen() after each (re)subscription
  function connect(params, onEvent, onOpen) {
    let lastSid = null; // the stream id of the last event received (floor only)
    function url() {
      const q = new URLSearchParams(params || {});
      if (lastSid) q.set("since", lastSid);
      const qs = q.toString();
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/ui/live" + (qs ? "?" + qs : "");
    }
    let delay = MIN_DELAY, attempt = 0, timer = null, quietS = FIRST_WAIT_S;
    function countdown(until) {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      banner.textContent = left ? t("conn_lost", { s: left, n: attempt }) : t("conn_retry");
      if (left) timer = setTimeout(() => countdown(until), 500);
    }
    function open() {
      const ws = new WebSocket(url());
      let heard = Date.now(), down = false;
      const watchdog = setInterval(() => { if (Date.now() - heard > quietS * 1000) lost(); }, 500);
      ws.onmessage = (m) => {
        heard = Date.now();
        const ev = JSON.parse(m.data);
        if (ev.type === "ping") return;
        if (ev.stream_id) lastSid = ev.stream_id;
        if (ev.type === "subscribed") {
          quietS = ev.heartbeat_s ? 2.5 * ev.heartbeat_s : FIRST_WAIT_S;
          delay = MIN_DELAY; attempt = 0; setStale(false); if (onOpen) onOpen(); return;
        }
        onEvent(ev);
      };
      // the socket closed, or went silent: drop it (its late close must not start a second retry)
      async function lost() {
        if (down) return;
        down = true;
        clearInterval(watchdog);
        ws.onmessage = null; ws.onclose = null;
        try { ws.close(); } catch (e) { /* already closed */ }
        setStale(true);
        banner.textContent = t("conn_down");
        if (await sessionGone(quietS * 1000)) { toLogin(); return; }
        attempt += 1;
        const until = Date.now() + delay;
        clearTimeout(timer);
        countdown(until);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, MAX_DELAY);
      }
      // a refused resume (1008: the server has no event stream, or the id is unknown) is not retried
      ws.onclose = (e) => { if (e.code === 1008) lastSid = null; lost(); };
    }
    open();
  }
  return { banner, connect };
})();
