// Hand-off pop-ups: a red call handed to supervisors. They sit in a dock above the tiles (stacked,
// one per hand-off; never over a tile's badge or the alert feed), beep, turn "escalated" when nobody
// took the call in time, and go when someone has it in hand or the call ends. One dismissed stays
// dismissed (a reconnection's reload or a tile drawn again does not bring it back with another beep)
// unless its hand-off escalates after the dismissal: then it comes back once, with its beep. What the
// hand-off was when dismissed is kept and compared with each new state. Its alert stays in the feed.
// Dismissals are kept in the tab (sessionStorage, per signed-in user), so a reload keeps them too;
// each (re)load of the wall forgets those of calls that ended meanwhile.
"use strict";
const WallPopups = (() => {
  const { t, el } = AM;
  const dock = el("div", { class: "handoffs", id: "handoffs", "aria-live": "assertive" });
  let escalateAfter = 60;
  // alert id -> the hand-off as it was when dismissed (forgotten when someone has it or the call ends)
  const dismissed = new Map();
  const storeKey = "am_wall_dismissed:" + AM.user.name;
  const KEEP = 200; // the most dismissals kept in the tab (the oldest go first)
  // alert ids whose hand-off someone has in hand, or whose call ended: a list read before that
  // (the wall's list on a reconnection, a tile) and drawn after must not bring them back
  const closed = new Set();
  function save() {
    while (dismissed.size > KEEP) dismissed.delete(dismissed.keys().next().value);
    const kept = [...dismissed];
    try { sessionStorage.setItem(storeKey, JSON.stringify(kept)); } catch (e) { /* storage full or off */ }
  }
  // a stored entry as dismiss() keeps it ([alert id, hand-off]), or null for anything else
  function sane(entry) {
    if (!Array.isArray(entry)) return null;
    const [id, h] = entry;
    if (!Number.isInteger(id) || !h || typeof h !== "object" || typeof h.call_id !== "string") return null;
    const agent_id = typeof h.agent_id === "string" ? h.agent_id : "";
    const escalate_after_s = Number.isFinite(h.escalate_after_s) ? h.escalate_after_s : undefined;
    return { alert_id: id, call_id: h.call_id, agent_id, escalate_after_s, escalated: h.escalated === true };
  }
  // what the tab kept; an unreadable store is dropped, one with unreadable entries written again without them
  function load() {
    let kept = [];
    try {
      kept = JSON.parse(sessionStorage.getItem(storeKey) || "[]");
      if (!Array.isArray(kept)) throw new TypeError("not a list");
    } catch (e) { try { sessionStorage.removeItem(storeKey); } catch (e2) { /* storage off */ } return; }
    kept.forEach((entry) => { const h = sane(entry); if (h) dismissed.set(h.alert_id, h); });
    if (dismissed.size !== kept.length) save();
  }
  load();
  // the steps of a hand-off: waiting, escalated (nobody took it within escalate_after_s)
  const stage = (h) => (h.escalated ? 1 : 0);
  function find(id) { return document.getElementById("handoff-" + id); }
  function show(h) {
    if (closed.has(h.alert_id)) return;
    if (find(h.alert_id)) { if (h.escalated) escalate(h.alert_id); return; }
    const was = dismissed.get(h.alert_id);
    if (was && stage(h) <= stage(was)) return; // nothing new since the dismissal
    if (dismissed.delete(h.alert_id)) save(); // it escalated since: back, once (dismissed again, it stays so)
    if (h.escalate_after_s) escalateAfter = h.escalate_after_s;
    const pop = el("div", { class: "popup", role: "alert", id: "handoff-" + h.alert_id, "data-call": h.call_id },
      el("strong", { i18n: "handoff" }), el("span", { class: "esc-mark", hidden: true }, t("escalated")),
      el("div", {}, t("handoff_text", { call: h.call_id, agent: h.agent_id })),
      el("div", { class: "esc-text", hidden: true }, t("escalated_text", { s: Math.round(escalateAfter) })),
      el("div", { class: "btns" },
        el("button", { class: "act take_over", onclick: () => WallAlerts.openTakeOver(h.alert_id) }, t("take_over")),
        el("button", { class: "act acknowledge", onclick: () => WallAlerts.act(h.alert_id, "acknowledge") }, t("acknowledge")),
        el("button", { class: "act dismiss", onclick: () => dismiss(h, pop) }, t("dismiss"))));
    dock.append(pop);
    if (h.escalated) escalate(h.alert_id);
    WallSound.beep();
  }
  function dismiss(h, pop) {
    dismissed.delete(h.alert_id); // the newest goes last (the oldest are forgotten first)
    const { alert_id, call_id, agent_id, escalate_after_s } = h;
    dismissed.set(alert_id, { alert_id, call_id, agent_id, escalate_after_s, escalated: pop.classList.contains("escalated") });
    save();
    pop.remove();
  }
  function escalate(id) {
    const pop = find(id);
    if (!pop) { const was = dismissed.get(id); if (was) show({ ...was, escalated: true }); return; }
    pop.classList.add("escalated");
    pop.querySelectorAll(".esc-mark, .esc-text").forEach((n) => { n.hidden = false; });
  }
  // someone has the hand-off in hand (or its alert was closed): gone, and it never comes back
  function remove(id) {
    closed.add(id);
    const pop = find(id);
    if (pop) pop.remove();
    if (dismissed.delete(id)) save();
  }
  function ofCall(callId) { return [...dock.querySelectorAll(`.popup[data-call="${CSS.escape(callId)}"]`)]; }
  function removeCall(callId) {
    ofCall(callId).forEach((p) => { closed.add(idOf(p)); p.remove(); });
    dismissed.forEach((h, id) => { if (h.call_id === callId) { closed.add(id); dismissed.delete(id); } });
    save();
  }
  // the wall's list of live calls came whole: the dismissals among `kept` (those kept before it was
  // asked for) of calls no longer live go (they ended while the tab was away)
  function keepCalls(live, kept) {
    let gone = false;
    dismissed.forEach((h, id) => { if (kept.has(id) && !live.has(h.call_id)) { dismissed.delete(id); gone = true; } });
    if (gone) save();
  }
  const dismissedIds = () => new Set(dismissed.keys());
  const idOf = (p) => Number(p.id.slice("handoff-".length));
  function ids() { return new Set([...dock.querySelectorAll(".popup")].map(idOf)); }
  function ofCallIds(callId) { return ofCall(callId).map(idOf); }
  function setEscalateAfter(s) { escalateAfter = s; }
  return { dock, show, escalate, remove, removeCall, keepCalls, dismissedIds, ids, ofCallIds, setEscalateAfter };
})();
