// Agent panel: the agent's current call and each warning as it happens (what was said, why it
// breaks the rules, the compliant wording), with an acknowledge button; and signal-health issues of
// the agent's own leg (e.g. "agent leg clipping").
"use strict";
(() => {
  const { t, el, api, badge, live, healthBox, vocab } = AM;
  const head = el("div", { class: "panel", id: "current-call" }, el("p", { class: "muted", i18n: "no_call" }));
  const list = el("div", { id: "warnings" });
  // the agent sees health issues of their own leg, and a leg left untranscribed for lack of a model
  const ownHealth = (h) => h.leg === vocab.legs.AGENT || h.issue === "no_model";
  let health = healthBox(ownHealth);
  AM.main.append(el("h1", { i18n: "my_call" }), head, health.node, list);
  function resetHealth() { const fresh = healthBox(ownHealth); health.node.replaceWith(fresh.node); health = fresh; }
  let callId = null;
  const shown = new Set();
  let acked = new Set();

  function key(w) { return w.call_id + "|" + w.rule + "|" + Number(w.t).toFixed(2); }
  function showCall(call, level) {
    callId = call.call_id;
    head.replaceChildren(el("strong", {}, call.call_id), " ", badge(level || call.level), " ",
      el("span", { class: "muted status" }, t(call.status)));
  }
  function warning(w) {
    const k = key(w);
    if (shown.has(k)) return;
    shown.add(k);
    const done = acked.has(k);
    const ackBtn = el("button", { class: "act primary ack", disabled: done }, t(done ? "acked" : "ack"));
    const card = el("article", { class: "warning " + (w.severity || "") + (done ? " acked" : ""), "data-rule": w.rule },
      el("h2", {}, w.title),
      el("div", {}, el("span", { class: "muted" }, t("you_said") + ": "), el("span", { class: "said" }, "“" + w.evidence + "”")),
      el("div", {}, el("span", { class: "muted" }, t("why") + ": "), w.reason),
      w.compliant ? el("div", {}, el("span", { class: "muted" }, t("say_instead") + ": "), el("span", { class: "instead" }, w.compliant)) : null,
      ackBtn);
    ackBtn.addEventListener("click", async () => {
      await api("POST", "/api/agent/ack", { call_id: w.call_id, rule: w.rule, t: w.t });
      ackBtn.disabled = true; ackBtn.textContent = t("acked"); card.classList.add("acked");
    });
    list.prepend(card);
  }
  async function load() {
    const data = await api("GET", "/api/agent/current");
    if (!data.call) return;
    showCall(data.call);
    resetHealth();
    (data.health || []).forEach((h) => health.apply(h));
    acked = new Set(data.acknowledged.map((a) => data.call.call_id + "|" + a.rule + "|" + Number(a.t).toFixed(2)));
    data.warnings.forEach((h) => warning({ call_id: data.call.call_id, rule: h.rule, t: h.end ?? h.start ?? 0,
      title: h.title, severity: h.severity, evidence: h.evidence, reason: h.reason, compliant: h.compliant }));
  }
  function onEvent(ev) {
    if (ev.type === "call_started") { list.replaceChildren(); shown.clear(); resetHealth(); showCall({ call_id: ev.call_id, status: "live", level: vocab.no_level }); }
    else if (ev.type === "agent_warning") { if (ev.call_id !== callId) showCall({ call_id: ev.call_id, status: "live", level: vocab.no_level }); warning(ev); }
    else if (ev.type === "signal_health" && ev.call_id === callId) health.apply(ev.health);
    else if (ev.type === "level_changed" && ev.call_id === callId) head.querySelector(".badge").replaceWith(badge(ev.level));
    else if (ev.type === "call_ended" && ev.call_id === callId) head.querySelector(".status").textContent = t(ev.status);
  }
  load().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
  live({}, onEvent, null);
})();
