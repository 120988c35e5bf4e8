// Agent panel ("the cue"): a compact column that can sit beside the softphone (it works from 320 px
// wide). It shows the agent's current call with the time in call, a live checklist of the required
// disclosures of the call's rule pack (said / still due, with the wording to use), and each warning
// as it happens (what was said, if anything, why it breaks the rules, the compliant wording) with an
// acknowledge button; and signal-health issues of the agent's own leg. A new warning beeps, flashes
// the tab title and raises a desktop notification once the agent has turned alerts on (one click:
// the browser asks for the notification permission and allows sound from then on).
// After the live connection comes back (a network drop, a server restart) the panel is loaded again
// from the server: warnings given meanwhile, the checklist and the call's state are never left stale.
// An acknowledgement in one tab is shown in the agent's other tabs too.
"use strict";
(() => {
  const { t, el, api, badge, healthBox, fmtTime, vocab } = AM;
  const body = document.body;
  const head = el("div", { class: "panel", id: "current-call" }, el("p", { class: "muted", i18n: "no_call" }));
  const setup = alertSetup();
  const checklist = el("section", { class: "panel checklist", id: "checklist", hidden: true },
    el("h2", { i18n: "checklist" }), el("ul", {}));
  const list = el("div", { id: "warnings" });
  // the agent sees health issues of their own leg, and a leg left untranscribed for lack of a model
  const ownHealth = (h) => h.leg === vocab.legs.AGENT || h.issue === "no_model";
  let health = healthBox(ownHealth);
  AM.main.append(LiveConn.banner, el("h1", { i18n: "my_call" }), setup, head, checklist, health.node, list);
  function resetHealth() { const fresh = healthBox(ownHealth); health.node.replaceWith(fresh.node); health = fresh; }
  let callId = null;
  const cards = new Map();  // key -> the warning's card, once shown (a withdrawal marks it)
  let acked = [];  // the warnings acknowledged ({call_id, rule, t})
  // the agent's other tabs of this page: an acknowledgement made in one is shown in all
  const tabs = "BroadcastChannel" in window ? new BroadcastChannel("am-agent-ack") : null;

  // --- time in call -------------------------------------------------------------------------------
  let startedAt = null;
  let endedAt = null;
  function tick() {
    const timer = head.querySelector("#call-timer");
    if (!timer || startedAt === null) return;
    const s = Math.max(0, ((endedAt ?? Date.now()) - startedAt) / 1000);
    timer.textContent = fmtTime(s);
    timer.dataset.seconds = String(Math.floor(Math.max(0, s)));
  }
  setInterval(tick, 1000);

  function showCall(call, level) {
    if (call.call_id !== callId) { startedAt = Date.parse(call.started_at) || Date.now(); endedAt = null; }
    callId = call.call_id;
    if (call.ended_at) endedAt = Date.parse(call.ended_at) || null;
    head.replaceChildren(
      el("div", { class: "callrow" }, el("strong", { class: "callid" }, call.call_id), " ", badge(level || call.level), " ",
        el("span", { class: "muted status" }, t(call.status))),
      el("div", { class: "callrow" }, el("span", { class: "muted" }, t("in_call") + " "),
        el("span", { id: "call-timer", class: "timer", role: "timer", "aria-live": "off" }, "0:00")));
    tick();
  }

  // --- required disclosures ---------------------------------------------------------------------
  const MARK = { said: "✓", due: "○", missed: "✗" };
  function showChecklist(items) {
    checklist.hidden = !items.length;
    checklist.querySelector("ul").replaceChildren(...items.map((d) => el("li",
      { class: "disclosure " + d.state, "data-rule": d.rule, "data-state": d.state },
      el("span", { class: "mark", "aria-hidden": "true" }, MARK[d.state] || "?"), " ",
      el("span", { class: "what" }, d.label), " ",
      el("span", { class: "state" }, d.state === "due" ? t("due_by", { time: fmtTime(d.due_s) }) : t("disclosure_" + d.state)),
      d.state !== "said" && d.wording ? el("div", { class: "wording" }, el("span", { class: "muted" }, t("say") + ": "), d.wording) : null)));
  }

  // --- warnings ---------------------------------------------------------------------------------
  function key(w) { return w.call_id + "|" + w.rule + "|" + Number(w.t).toFixed(2); }
  // A warning reaches the page live (t: the end of what was said, perhaps on a partial transcript;
  // once per rule and utterance) and as stored hits (the final's times; one per occurrence): the
  // same warning when the call and rule are the same and the times lie within NEAR_S of each other.
  // So a reload (after a reconnection) shows no warning twice and an acknowledgement holds for both.
  const NEAR_S = 3;
  function span(w) { return [Math.min(w.start ?? w.t, w.t), Math.max(w.end ?? w.t, w.t)]; }
  function near(a, b) {
    if (a.call_id !== b.call_id || a.rule !== b.rule) return false;
    const [a0, a1] = span(a), [b0, b1] = span(b);
    return Math.max(0, a0 - b1, b0 - a1) <= NEAR_S;
  }
  function isAcked(w) { return acked.some((a) => near(a, w)); }
  // stored: w is a stored hit, shown unless a card of the same warning is (live events are exact)
  function warning(w, fresh, stored) {
    const k = key(w);
    if (cards.has(k) || (stored && [...cards.values()].some((c) => near(c.w, w)))) return;
    const done = isAcked(w);
    const ackBtn = el("button", { class: "act primary ack", disabled: done }, t(done ? "acked" : "ack"));
    const ackMsg = el("div", { class: "ack-msg error", role: "status", hidden: true });
    const card = el("article", { class: "warning " + (w.severity || "") + (done ? " acked" : ""), "data-rule": w.rule },
      el("h2", {}, w.title),
      // a missed disclosure or a call-metadata finding quotes nothing
      // a cue quotes the debtor ("wrong number"), a warning the agent
      w.evidence ? el("div", { class: "said-row" }, el("span", { class: "muted" }, t(w.leg === vocab.legs.DEBTOR ? "they_said" : "you_said") + ": "), el("span", { class: "said" }, "“" + w.evidence + "”")) : null,
      el("div", { class: "why" }, el("span", { class: "muted" }, t("why") + ": "), w.reason,
        w.citation ? el("div", { class: "citation muted" }, w.citation) : null),
      w.compliant ? el("div", {}, el("span", { class: "muted" }, t("say_instead") + ": "), el("span", { class: "instead" }, w.compliant)) : null,
      ackBtn, ackMsg);
    ackBtn.addEventListener("click", async () => {
      ackBtn.disabled = true;
      try {
        await api("POST", "/api/agent/ack", { call_id: w.call_id, rule: w.rule, t: w.t });
      } catch (e) { // not recorded (the network is down, the server restarting): say so, let them retry
        ackBtn.disabled = Boolean(card.dataset.withdrawn);
        ackMsg.textContent = t("ack_failed", { msg: e.message });
        ackMsg.hidden = false;
        return;
      }
      const ack = { call_id: w.call_id, rule: w.rule, t: w.t };
      markAcked(ack);
      stopFlash();
      if (tabs) tabs.postMessage({ ack });
    });
    card.w = w;
    cards.set(k, card);
    list.prepend(card);
    if (fresh && !done) cue(w);
  }
  function markAcked(ack) {
    if (!isAcked(ack)) acked.push(ack);
    cards.forEach((card) => {
      if (!near(card.w, ack)) return;
      const ackBtn = card.querySelector("button.ack");
      ackBtn.disabled = true; ackBtn.textContent = t("acked"); card.classList.add("acked");
      card.querySelector(".ack-msg").hidden = true;
    });
  }
  if (tabs) tabs.onmessage = (m) => { if (m.data && m.data.ack) { markAcked(m.data.ack); stopFlash(); } };
  // a warning given on a partial transcript that the utterance's final did not confirm: it stays
  // on the screen (the agent may have read it), struck through and marked, nothing to acknowledge
  function withdraw(ev) {
    const card = cards.get(key({ call_id: ev.call_id, rule: ev.hit.rule, t: ev.t }));
    if (!card || card.dataset.withdrawn) return;
    card.dataset.withdrawn = "1";
    const ackBtn = card.querySelector("button.ack");
    if (ackBtn) ackBtn.disabled = true;
    card.append(el("div", { class: "withdrawn-note muted" }, t("withdrawn_note")));
  }

  // --- the cue: sound, title flash, desktop notification ------------------------------------------
  function canNotify() { return "Notification" in window && Notification.permission === "granted"; }
  function alertSetup() {
    const note = el("span", { class: "muted", id: "alerts-note" });
    const btn = el("button", { class: "act primary", id: "enable-alerts" });
    const box = el("div", { class: "panel setup", id: "alert-setup" }, btn, " ", note);
    const refresh = () => {
      const asked = "Notification" in window && Notification.permission !== "default";
      btn.hidden = asked && body.dataset.sound === "1";
      btn.textContent = t(asked ? "enable_sound" : "enable_alerts");
      note.textContent = !("Notification" in window) ? t("notify_unsupported")
        : Notification.permission === "denied" ? t("notify_blocked") : canNotify() ? t("alerts_on") : t("alerts_hint");
      body.dataset.notify = "Notification" in window ? Notification.permission : "unsupported";
    };
    btn.addEventListener("click", async () => {
      body.dataset.sound = "1"; // this click lets the page play sound (browser autoplay policy)
      if ("Notification" in window && Notification.permission === "default") {
        try { await Notification.requestPermission(); } catch (e) { console.warn("notification permission", e); }
      }
      refresh();
    });
    refresh();
    return box;
  }
  const baseTitle = document.title;
  let flashTimer = null;
  function stopFlash() {
    if (flashTimer) clearInterval(flashTimer);
    flashTimer = null; document.title = baseTitle; delete body.dataset.flashing;
  }
  function flash(text) {
    stopFlash();
    let on = false;
    body.dataset.flashing = "1";
    flashTimer = setInterval(() => { on = !on; document.title = on ? "⚠ " + text : baseTitle; }, 800);
    document.title = "⚠ " + text;
  }
  // the flash stops when the agent comes back to the page, or clicks or types on it
  window.addEventListener("focus", () => setTimeout(stopFlash, 3000));
  ["pointerdown", "keydown"].forEach((type) => document.addEventListener(type, () => { if (flashTimer) stopFlash(); }));
  function cue(w) {
    AM.beep();
    body.dataset.cues = String(Number(body.dataset.cues || 0) + 1);
    flash(w.title);
    if (canNotify()) {
      try {
        const n = new Notification(t("notify_title"), { body: w.title + (w.compliant ? "\n" + t("say_instead") + ": " + w.compliant : ""), tag: key(w) });
        n.onclick = () => { window.focus(); n.close(); };
        body.dataset.notified = String(Number(body.dataset.notified || 0) + 1);
      } catch (e) { console.warn("notification failed", e); }
    }
  }

  // the agent's call as stored (its level as high as it has been); again after every reconnection,
  // when warnings given meanwhile are cued as they are shown. Events that come while it is on its
  // way are newer than what it read: the call's state and level, the checklist and the signal
  // health they set stay (and a call started meanwhile is not replaced by the one read before it).
  const seen = { call: 0, checklist: 0, health: 0 }; // events of each kind so far
  const SETS = { call_started: ["call", "checklist", "health"], call_ended: ["call", "checklist"],
    level_changed: ["call"], disclosure_checklist: ["checklist"], signal_health: ["health"] };
  async function load(again) {
    const before = { ...seen };
    const data = await api("GET", "/api/agent/current");
    if (!data.call) return;
    const fresh = (kind) => seen[kind] === before[kind];
    if (!fresh("call") && data.call.call_id !== callId) return;
    if (data.call.call_id !== callId) { list.replaceChildren(); cards.clear(); acked = []; }
    if (fresh("call")) showCall(data.call);
    if (fresh("checklist")) showChecklist(data.call.status === "live" ? data.checklist || [] : []);
    if (fresh("health")) { resetHealth(); (data.health || []).forEach((h) => health.apply(h)); }
    data.acknowledged.forEach((a) => markAcked({ call_id: data.call.call_id, rule: a.rule, t: Number(a.t) }));
    data.warnings.forEach((h) => warning({ call_id: data.call.call_id, rule: h.rule, t: h.end ?? h.start ?? 0, start: h.start, end: h.end,
      title: h.title, severity: h.severity, evidence: h.evidence, reason: h.reason, citation: h.citation, compliant: h.compliant, leg: h.leg },
      again && data.call.status === "live", true));
  }
  function onEvent(ev) {
    (SETS[ev.type] || []).forEach((kind) => { seen[kind] += 1; });
    if (ev.type === "call_started") {
      list.replaceChildren(); cards.clear(); acked = []; resetHealth(); showChecklist([]);
      // timed from this browser's own clock (a PC clock off by minutes would skew a server time)
      showCall({ call_id: ev.call_id, status: "live", level: vocab.no_level, started_at: new Date(Date.now() - (ev.t || 0) * 1000).toISOString() });
    } else if (ev.type === "agent_warning") {
      if (ev.call_id !== callId) showCall({ call_id: ev.call_id, status: "live", level: vocab.no_level });
      warning(ev, true);
    } else if (ev.type === "rule_hit" && ev.status === "withdrawn" && ev.hit) withdraw(ev);
    else if (ev.type === "disclosure_checklist" && ev.call_id === callId) showChecklist(ev.items);
    else if (ev.type === "signal_health" && ev.call_id === callId) health.apply(ev.health);
    else if (ev.type === "level_changed" && ev.call_id === callId) head.querySelector(".badge").replaceWith(badge(ev.level));
    else if (ev.type === "call_ended" && ev.call_id === callId) {
      head.querySelector(".status").textContent = t(ev.status);
      endedAt = startedAt !== null ? startedAt + ev.duration_s * 1000 : Date.now();
      tick();
      showChecklist([]); // nothing is "due" any more (as after a reload of an ended call)
    }
  }
  load(false).then(() => { body.dataset.ready = "1"; }).catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
  // the first subscription comes with the page's own load; each later one follows a gap in the events
  let subscriptions = 0;
  LiveConn.connect({}, onEvent, () => {
    if (subscriptions++ === 0) return;
    load(true).then(() => { body.dataset.reloads = String(Number(body.dataset.reloads || 0) + 1); })
      .catch((e) => console.warn("agent panel not reloaded:", e.message));
  });
})();
