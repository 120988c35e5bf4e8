// Hand-off pop-ups: a red call handed to supervisors. They sit in a dock above the tiles (stacked,
// one per call; never over a tile's badge or the alert feed), beep, turn "escalated" when nobody
// took the call in time, and go when someone has it in hand or the call ends. One dismissed stays
// dismissed (a reconnection's reload does not bring it back with another beep); its alert stays in the feed.
"use strict";
const WallPopups = (() => {
  const { t, el } = AM;
  const dock = el("div", { class: "handoffs", id: "handoffs", "aria-live": "assertive" });
  let escalateAfter = 60;
  const dismissed = new Map(); // alert id -> call id (forgotten when the call ends)
  function find(id) { return document.getElementById("handoff-" + id); }
  function show(h) {
    if (find(h.alert_id) || dismissed.has(h.alert_id)) return;
    if (h.escalate_after_s) escalateAfter = h.escalate_after_s;
    const pop = el("div", { class: "popup", role: "alert", id: "handoff-" + h.alert_id, "data-call": h.call_id },
      el("strong", { i18n: "handoff" }), el("span", { class: "esc-mark", hidden: true }, t("escalated")),
      el("div", {}, t("handoff_text", { call: h.call_id, agent: h.agent_id })),
      el("div", { class: "esc-text", hidden: true }, t("escalated_text", { s: Math.round(escalateAfter) })),
      el("div", { class: "btns" },
        el("button", { class: "act take_over", onclick: () => WallAlerts.openTakeOver(h.alert_id) }, t("take_over")),
        el("button", { class: "act acknowledge", onclick: () => WallAlerts.act(h.alert_id, "acknowledge") }, t("acknowledge")),
        el("button", { class: "act dismiss", onclick: () => { dismissed.set(h.alert_id, h.call_id); pop.remove(); } }, t("dismiss"))));
    dock.append(pop);
    if (h.escalated) escalate(h.alert_id);
    WallSound.beep();
  }
  function escalate(id) {
    const pop = find(id);
    if (!pop) return;
    pop.classList.add("escalated");
    pop.querySelectorAll(".esc-mark, .esc-text").forEach((n) => { n.hidden = false; });
  }
  function remove(id) { const pop = find(id); if (pop) pop.remove(); }
  function ofCall(callId) { return [...dock.querySelectorAll(`.popup[data-call="${CSS.escape(callId)}"]`)]; }
  function removeCall(callId) {
    ofCall(callId).forEach((p) => p.remove());
    dismissed.forEach((call, id) => { if (call === callId) dismissed.delete(id); });
  }
  const idOf = (p) => Number(p.id.slice("handoff-".length));
  function ids() { return new Set([...dock.querySelectorAll(".popup")].map(idOf)); }
  function ofCallIds(callId) { return ofCall(callId).map(idOf); }
  function setEscalateAfter(s) { escalateAfter = s; }
  return { dock, show, escalate, remove, removeCall, ids, ofCallIds, setEscalateAfter };
})();
