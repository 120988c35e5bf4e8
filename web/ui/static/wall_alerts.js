// The wall's alert feed: one item per open alert with its state in words ("taken over by sam"),
// buttons that follow the state (disabled once done or once the call ended), an inline take-over
// form (listen / whisper / barge in, a note; the phone-system hook's outcome shown inline), and
// conflicts (someone else was faster) shown inline, never in an alert box. A resolved alert stays,
// saying who resolved it, for the wall's resolved_grace_s (sent with /api/wall), then goes.
"use strict";
const WallAlerts = (() => {
  const { t, el, badge } = AM;
  const feed = el("div", { class: "feed", id: "alert-feed", tabindex: "-1" }, el("h2", { i18n: "alerts" }));
  const items = new Map(); // alert id (or key while not stored) -> {a, node, msg}
  let onChange = () => {};
  let resolvedGrace = null; // s, from /api/wall; until it came, resolved alerts wait in `leaving`
  const leaving = new Map(); // alert id -> the timer that drops it (null: not started yet)
  function csrf() { const m = document.cookie.match(/(?:^|; )am_csrf=([^;]*)/); return m ? decodeURIComponent(m[1]) : ""; }
  async function post(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body || {}) });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    const detail = json && typeof json.detail === "string" ? json.detail : r.statusText;
    return { ok: r.ok, status: r.status, json, detail };
  }
  function stateText(a) {
    if (a.state === "resolved") return t("resolved_by", { who: a.resolved_by || "?" });
    if (a.taken_over_by) return t("taken_over_by", { who: a.taken_over_by });
    if (a.state === "acknowledged") return t("acknowledged_by", { who: a.acknowledged_by || "?" });
    return t(a.state);
  }
  function say(id, text, kind) {
    const it = items.get(id);
    if (!it) return;
    it.msg.className = "msg " + (kind || "muted");
    it.msg.textContent = text;
  }
  // a keyboard user's place: the alert's node is replaced on every change, so the control that had
  // the focus (a button of the same kind, or the same take-over form field) gets it back
  function focusedIn(node) {
    const f = document.activeElement;
    if (!f || f === document.body || !node.contains(f)) return null;
    return { node: f, start: f.selectionStart, end: f.selectionEnd };
  }
  function refocus(had, node) {
    if (!had) return;
    let target = had.node;
    if (!node.contains(target)) { // a button of the replaced node: the same kind of button, else the feed
      const kind = [...target.classList].find((c) => c !== "act");
      target = (kind && node.querySelector(".btns ." + CSS.escape(kind) + ":not(:disabled)")) || feed;
    }
    target.focus({ preventScroll: true });
    if (had.start != null && target === had.node) { try { target.setSelectionRange(had.start, had.end); } catch (e) { /* not text */ } }
  }
  function render(a) {
    const old = items.get(a.alert_id);
    const had = old ? focusedIn(old.node) : null;
    const reasons = (a.reasons || []).map(AM.reasonText).filter(Boolean).join(AM.lang === "zh" ? "；" : "; ");
    const dead = a.ended || a.pending;
    const ack = el("button", { class: "act acknowledge", onclick: () => act(a.alert_id, "acknowledge"),
      disabled: dead || a.state !== "raised" }, t("acknowledge"));
    const take = el("button", { class: "act take_over", onclick: () => openTakeOver(a.alert_id),
      disabled: dead || !a.handoff || Boolean(a.taken_over_by) || a.state === "resolved" }, t("take_over"));
    const resolve = el("button", { class: "act resolve", onclick: () => act(a.alert_id, "resolve"),
      disabled: dead || a.state === "resolved" }, t("resolve"));
    const msg = old ? old.msg : el("div", { class: "msg muted", role: "status" });
    const node = el("div", { class: "alert " + a.level + (a.ended ? " ended" : "") + (a.escalated ? " escalated" : ""),
      "data-alert": a.alert_id, "data-state": a.state, "data-call": a.call_id, "data-owner": a.owner || "" },
      el("div", { class: "top" }, badge(a.level), " ", el("strong", {}, a.call_id), " ",
        el("span", { class: "muted" }, a.agent_id ? t("agent") + " " + a.agent_id : ""), " ",
        el("span", { class: "state" }, stateText(a)),
        a.escalated ? el("span", { class: "esc-mark" }, t("escalated")) : null,
        a.ended ? el("span", { class: "muted" }, " · " + t("call_ended")) : null),
      el("div", { class: "reasons" }, reasons),
      el("div", { class: "btns" }, ack, take, resolve),
      old && old.form ? old.form : null, msg);
    if (old) old.node.replaceWith(node); else feed.insertBefore(node, feed.children[1] || null);
    items.set(a.alert_id, { a, node, msg, form: old && old.form && !take.disabled ? old.form : null });
    if (old && old.form && take.disabled) old.form.remove();
    refocus(had, node);
    if (a.state === "resolved") leaveLater(a.alert_id);
    onChange(a);
  }
  function leaveLater(id) {
    if (leaving.get(id) != null) return;
    leaving.set(id, resolvedGrace == null ? null : setTimeout(() => drop(id), resolvedGrace * 1000));
  }
  function setResolvedGrace(s) {
    resolvedGrace = s;
    [...leaving.keys()].forEach(leaveLater);
  }
  // an alert only moves forward: its state (raised, acknowledged, resolved), who acknowledged, took
  // over or resolved it, its hand-off requested and escalated. A copy read before events that
  // reached the page first (the wall's list on a reconnection, a tile fetched before its rows were
  // written) adds what it knows and undoes none of that.
  const STEP = { raised: 0, acknowledged: 1, resolved: 2 };
  const ONCE = ["acknowledged_by", "taken_over_by", "resolved_by"];
  function upsert(a) {
    const was = items.has(a.alert_id) ? items.get(a.alert_id).a : {};
    const behind = (STEP[a.state] ?? 0) < (STEP[was.state] ?? 0);
    const merged = behind ? { ...a, ...was } : { ...was, ...a };
    ONCE.forEach((k) => { merged[k] = merged[k] || was[k] || a[k] || null; });
    merged.handoff = Boolean(was.handoff || a.handoff);
    merged.escalated = Boolean(was.escalated || a.escalated);
    merged.owner = merged.taken_over_by || merged.acknowledged_by || null;
    render(merged);
  }
  function stored(ev) { // an alert published before its row was written now has its id
    const old = items.get(ev.alert_key);
    if (!old) return;
    items.delete(ev.alert_key);
    old.node.remove();
    upsert({ ...old.a, alert_id: ev.alert_id, pending: false });
  }
  function stateChanged(ev) {
    const it = items.get(ev.alert_id);
    if (!it) return;
    const change = ev.state === "taken_over" ? { taken_over_by: ev.by, state: "acknowledged",
      acknowledged_by: it.a.acknowledged_by || ev.by } : { state: ev.state, [ev.state + "_by"]: ev.by };
    upsert({ ...it.a, ...change });
  }
  async function act(id, action) {
    const r = await post(`/api/alerts/${id}/${action}`);
    if (r.ok) { upsert(r.json); say(id, ""); return; }
    if (r.status === 401) { location.href = "/login"; return; }
    say(id, t(r.status === 409 ? "already_done" : "action_failed", { msg: r.detail }), "error");
  }
  function openTakeOver(id) {
    const it = items.get(id);
    if (!it) return;
    if (it.form) { it.form.querySelector("select").focus(); it.node.scrollIntoView({ block: "nearest" }); return; }
    const mode = el("select", { name: "mode" }, ...["listen", "whisper", "barge"].map((m) => el("option", { value: m }, t("mode_" + m))));
    const note = el("input", { name: "note", maxlength: 2000, placeholder: t("note_ph") });
    const form = el("form", { class: "takeover" }, el("label", {}, t("mode") + " ", mode), el("label", {}, t("note") + " ", note),
      el("button", { class: "act primary go", type: "submit" }, t("take_over_go")),
      el("button", { class: "act", type: "button", onclick: () => { form.remove(); it.form = null; } }, t("cancel")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.querySelector(".go").disabled = true;
      const r = await post(`/api/wall/alerts/${id}/take_over`, { mode: mode.value, note: note.value || null });
      const cur = items.get(id);
      form.remove();
      if (cur) cur.form = null;
      if (!r.ok) { say(id, t(r.status === 409 ? "already_done" : "action_failed", { msg: r.detail }), "error"); return; }
      upsert(r.json.alert);
      const h = r.json.hook, m = t("mode_" + mode.value);
      if (h.ok) say(id, t("hook_ok", { mode: m }), "ok");
      else if (h.sent) say(id, t("hook_failed", { msg: h.error }), "error");
      else say(id, t("hook_none", { mode: m }), "muted");
    });
    it.form = form;
    it.node.insertBefore(form, it.msg);
    it.node.scrollIntoView({ block: "nearest" });
    mode.focus();
  }
  function handoffRequested(id) { const it = items.get(id); if (it && !it.a.handoff) upsert({ ...it.a, handoff: true }); }
  function escalate(id) { const it = items.get(id); if (it) upsert({ ...it.a, escalated: true }); }
  function ofCall(callId) { return [...items.values()].filter((it) => it.a.call_id === callId); }
  function endCall(callId) { ofCall(callId).forEach((it) => upsert({ ...it.a, ended: true })); }
  function removeCall(callId) { ofCall(callId).forEach((it) => drop(it.a.alert_id)); }
  function drop(id) {
    clearTimeout(leaving.get(id));
    leaving.delete(id);
    const it = items.get(id);
    if (!it) return;
    if (focusedIn(it.node)) feed.focus({ preventScroll: true });
    it.node.remove();
    items.delete(id);
  }
  function ids() { return new Set(items.keys()); }
  function ofCallIds(callId) { return ofCall(callId).map((it) => it.a.alert_id); }
  function get(id) { const it = items.get(id); return it ? it.a : null; }
  return { feed, upsert, stored, stateChanged, act, openTakeOver, handoffRequested, escalate, endCall, removeCall, drop, ids, ofCallIds, get,
    setResolvedGrace, listen: (fn) => { onChange = fn; } };
})();
