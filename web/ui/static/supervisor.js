// Supervisor live wall: a tile per live call (coloured by level) with both legs' live transcript
// (partials in grey italics), a stress gauge and sparkline, an alert feed with acknowledge /
// take over / resolve, handoff pop-ups with a beep, listen-in, and a signal-health badge per leg
// issue ("debtor leg silent for 30 s") so people know when the monitor cannot hear.
"use strict";
(() => {
  const { t, el, api, badge, live, sparkline, beep, healthBox, vocab } = AM;
  const tiles = new Map(); // call_id -> {node, lines: Map, stress: [], level}
  const alerts = new Map(); // alert_id -> node
  const wall = el("div", { class: "tiles", id: "tiles" });
  const feed = el("div", { class: "feed", id: "alert-feed" }, el("h2", { i18n: "alerts" }));
  const empty = el("p", { class: "muted", id: "no-live", i18n: "no_live" });
  AM.main.append(el("div", { class: "layout" }, el("section", {}, el("h1", { i18n: "live_calls" }), empty, wall), feed));

  function tile(call) {
    if (tiles.has(call.call_id)) return tiles.get(call.call_id);
    const transcript = el("div", { class: "transcript" });
    const gauge = el("div", { class: "gauge" }, el("div"));
    const spark = AM.svg("svg", { class: "spark" });
    const score = el("span", { class: "score" }, "–");
    const listenBtn = el("button", { class: "act listen", i18n: "listen" });
    const health = healthBox(null);
    const node = el("article", { class: "tile level-" + vocab.no_level, "data-call": call.call_id },
      el("div", { class: "head" }, el("strong", {}, call.call_id), el("span", { class: "muted" }, t("agent") + " " + call.agent_id), el("span", { class: "lvl" }, badge(vocab.no_level))),
      health.node,
      transcript,
      el("div", { class: "stressrow" }, el("span", { i18n: "stress" }), gauge, score, spark, listenBtn));
    const state = { node, health, transcript, gauge, spark, score, lines: new Map(), stress: [], level: vocab.no_level, call };
    listenBtn.addEventListener("click", () => Listen.toggle(call.call_id, listenBtn));
    tiles.set(call.call_id, state);
    wall.prepend(node);
    empty.hidden = true;
    return state;
  }
  function setLevel(s, level) {
    s.level = level;
    s.node.className = s.node.className.replace(/level-\w+/, "level-" + level);
    s.node.querySelector(".lvl").replaceChildren(badge(level));
  }
  function addLine(s, u) {
    const key = u.leg + ":" + u.utterance;
    let line = s.lines.get(key);
    if (!line) {
      line = el("div", { class: "line" }, el("span", { class: "leg" }), el("span", { class: "text" }));
      s.lines.set(key, line);
      s.transcript.append(line);
    }
    line.className = "line " + u.leg + (u.final ? " final" : " partial");
    line.querySelector(".leg").textContent = t(u.leg) + ":";
    line.querySelector(".text").textContent = u.text;
    s.transcript.scrollTop = s.transcript.scrollHeight;
  }
  function addStress(s, sample) {
    s.stress.push(sample.score);
    if (s.stress.length > 60) s.stress.shift();
    s.gauge.className = "gauge " + (sample.level || "");
    s.gauge.firstChild.style.width = Math.round(sample.score) + "%";
    s.score.textContent = Math.round(sample.score);
    sparkline(s.spark, s.stress, 140, 28);
  }
  function alertItem(a) {
    let node = alerts.get(a.alert_id);
    const reasons = (a.reasons || []).map(AM.reasonText).filter(Boolean).join(AM.lang === "zh" ? "；" : "; ");
    const stateLabel = el("span", { class: "state muted" }, t(a.state));
    const btns = el("div", { class: "btns" }, ...["acknowledge", "take_over", "resolve"].map((action) =>
      el("button", { class: "act " + action, onclick: () => act(a.alert_id, action) }, t(action))));
    const fresh = el("div", { class: "alert " + a.level, "data-alert": a.alert_id, "data-state": a.state },
      el("div", {}, badge(a.level), " ", el("strong", {}, a.call_id), " ", stateLabel),
      el("div", {}, reasons), btns);
    if (node) node.replaceWith(fresh); else feed.insertBefore(fresh, feed.children[1] || null);
    alerts.set(a.alert_id, fresh);
    if (a.state === "resolved" || a.pending) btns.remove(); // pending: not stored yet (database down)
  }
  const pendingAlerts = new Map(); // alert_key -> alert published before its row was stored
  function alertStored(ev) {
    const a = pendingAlerts.get(ev.alert_key);
    if (!a) return;
    pendingAlerts.delete(ev.alert_key);
    const node = alerts.get(ev.alert_key);
    alerts.delete(ev.alert_key);
    if (node) alerts.set(ev.alert_id, node);
    alertItem({ ...a, alert_id: ev.alert_id, pending: false });
  }
  async function act(id, action) {
    try { alertItem(await api("POST", `/api/alerts/${id}/${action}`, {})); } catch (e) { alert(t("error") + ": " + e.message); }
  }
  function handoffPopup(ev) {
    beep();
    const pop = el("div", { class: "popup", role: "alert", id: "handoff-" + ev.alert_id },
      el("strong", { i18n: "handoff" }), el("div", {}, t("handoff_text", { call: ev.call_id, agent: ev.agent_id })),
      el("button", { class: "act", onclick: () => { act(ev.alert_id, "take_over"); pop.remove(); } }, t("take_over")),
      el("button", { class: "act", onclick: () => { act(ev.alert_id, "acknowledge"); pop.remove(); } }, t("acknowledge")),
      el("button", { class: "act", onclick: () => pop.remove() }, t("dismiss")));
    document.body.append(pop);
  }
  async function load() {
    const data = await api("GET", "/api/wall");
    for (const c of data.calls) {
      const s = tile(c.call);
      setLevel(s, c.level);
      c.utterances.forEach((u) => addLine(s, u));
      c.stress.forEach((x) => addStress(s, x));
      c.alerts.forEach(alertItem);
      (c.health || []).forEach((h) => s.health.apply(h));
      (c.handoffs || []).forEach((h) => { if (!document.getElementById("handoff-" + h.alert_id)) handoffPopup(h); });
    }
  }
  function onEvent(ev) {
    const s = tiles.get(ev.call_id);
    switch (ev.type) {
      case "call_started": tile({ call_id: ev.call_id, agent_id: ev.info.agent_id }); break;
      case "transcript": if (s) addLine(s, ev); else load(); break;
      case "stress": if (s) addStress(s, ev.sample); break;
      case "signal_health": if (s) s.health.apply(ev.health); else load(); break;
      case "level_changed": if (s) setLevel(s, ev.level); break;
      case "alert_raised": {
        const pending = ev.alert_id == null;
        const a = { alert_id: pending ? ev.alert_key : ev.alert_id, call_id: ev.call_id, level: ev.level, reasons: ev.reasons, state: "raised", pending };
        if (pending) pendingAlerts.set(ev.alert_key, a);
        alertItem(a);
        if (s) setLevel(s, ev.level);
        break;
      }
      case "alert_stored": alertStored(ev); break;
      case "handoff_requested": if (!document.getElementById("handoff-" + ev.alert_id)) handoffPopup(ev); break;
      case "alert_state": {
        const node = alerts.get(ev.alert_id);
        if (node) { node.dataset.state = ev.state; node.querySelector(".state").textContent = t(ev.state) + " · " + ev.by; }
        const pop = document.getElementById("handoff-" + ev.alert_id);
        if (pop) pop.remove(); // someone has it in hand
        break;
      }
      case "call_ended":
        if (s) { s.node.classList.add("ended"); s.node.querySelector(".head").append(el("span", { class: "muted" }, t("call_ended"))); }
        break;
    }
  }
  // listen-in: /ws/listen/{call}: binary frames = leg byte + 16-bit PCM; agent left, debtor right
  const Listen = (() => {
    let ws = null, ctx = null, button = null, cursors = [0, 0], rate = 8000;
    function stop() { if (ws) ws.close(); ws = null; if (ctx) ctx.close(); ctx = null; if (button) button.textContent = t("listen"); button = null; }
    function play(buf) {
      const legIdx = new Uint8Array(buf, 0, 1)[0];
      const pcm = new Int16Array(buf.slice(1));
      if (!pcm.length) return;
      const audio = ctx.createBuffer(1, pcm.length, rate);
      const ch = audio.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
      const src = ctx.createBufferSource();
      const pan = ctx.createStereoPanner(); pan.pan.value = legIdx === 0 ? -0.6 : 0.6;
      src.buffer = audio; src.connect(pan).connect(ctx.destination);
      const at = Math.max(ctx.currentTime + 0.1, cursors[legIdx]);
      src.start(at); cursors[legIdx] = at + audio.duration;
      document.body.dataset.listenFrames = String(Number(document.body.dataset.listenFrames || 0) + 1);
    }
    function toggle(callId, btn) {
      if (ws) { const same = button === btn; stop(); if (same) return; }
      button = btn; btn.textContent = t("stop_listen");
      // created in the click (a user gesture) so the browser lets it play; buffers carry their own rate
      ctx = new AudioContext(); cursors = [0, 0];
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/listen/" + encodeURIComponent(callId));
      ws.binaryType = "arraybuffer";
      ws.onmessage = (m) => {
        if (typeof m.data === "string") {
          const msg = JSON.parse(m.data);
          if (msg.type === "audio") rate = msg.sample_rate;
          return;
        }
        if (ctx) play(m.data);
      };
      ws.onclose = () => { if (button === btn) stop(); };
    }
    return { toggle };
  })();
  load().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
  live({}, onEvent, null);
})();
