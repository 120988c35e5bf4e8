// The wall's tiles, one per live call: agent and team, level, call duration, time of the last alert
// and who owns it, each leg's signal health (one chip per leg: "Debtor: ⚠ silent", the full sentence
// as its tooltip; shown once, not again as badges), a link to the call's review, both legs' live
// transcript and the debtor's stress. Ended calls are marked (buttons off) until they are removed.
"use strict";
const WallTiles = (() => {
  const { t, el, badge, sparkline, fmtTime } = AM;
  const grid = el("div", { class: "tiles", id: "tiles" });
  const calls = new Map(); // call_id -> state
  const LEGS = ["agent", "debtor"];
  function legChip(leg) { return el("span", { class: "legh ok", "data-leg": leg, "data-ok": "1" }, t(leg) + ": " + t("health_ok_leg")); }
  function ensure(call, extra) {
    let s = calls.get(call.call_id);
    if (s) { Object.assign(s, extra || {}); s.node.dataset.team = s.team || ""; s.teamNode.textContent = s.team || ""; return s; }
    const transcript = el("div", { class: "transcript" });
    const gauge = el("div", { class: "gauge" }, el("div"));
    const spark = AM.svg("svg", { class: "spark" });
    const score = el("span", { class: "score" }, "–");
    const listenBtn = el("button", { class: "act listen", i18n: "listen" });
    const legs = Object.fromEntries(LEGS.map((leg) => [leg, legChip(leg)]));
    const f = { dur: el("span", { class: "dur" }), last: el("span", { class: "last" }), owner: el("span", { class: "owner" }) };
    const teamNode = el("span", { class: "team muted" });
    const node = el("article", { class: "tile level-" + AM.vocab.no_level, "data-call": call.call_id, "data-agent": call.agent_id, "data-level": AM.vocab.no_level },
      el("div", { class: "head" }, el("strong", { class: "cid" }, call.call_id),
        el("span", { class: "muted" }, t("agent") + " " + call.agent_id), teamNode,
        el("span", { class: "esc-mark", hidden: true }, t("escalated")), el("span", { class: "ended-mark", hidden: true }, t("call_ended")),
        el("span", { class: "stale-mark" }, t("stale")), el("span", { class: "lvl" }, badge(AM.vocab.no_level))),
      el("div", { class: "facts" },
        el("span", {}, t("duration") + ": ", f.dur),
        el("span", {}, t("last_alert") + ": ", f.last), el("span", {}, t("owner") + ": ", f.owner),
        el("span", { class: "legs" }, legs.agent, legs.debtor),
        el("a", { class: "review", href: "/qa/calls/" + encodeURIComponent(call.call_id), target: "_blank" }, t("review_link"))),
      transcript,
      el("div", { class: "stressrow" }, el("span", { i18n: "stress" }), gauge, score, spark, listenBtn));
    s = { call, node, legs, issues: new Map(), healthAt: new Map(), f, teamNode, transcript, gauge, spark, score, listenBtn,
      lines: new Map(), stress: [], level: AM.vocab.no_level, lastAlertAt: null, owner: null, ended: false,
      started: Date.parse(call.started_at) || Date.now(), team: null, ...(extra || {}) };
    node.dataset.team = s.team || "";
    teamNode.textContent = s.team || "";
    listenBtn.addEventListener("click", () => WallListen.toggle(call.call_id, listenBtn));
    calls.set(call.call_id, s);
    grid.append(node);
    tick(s);
    return s;
  }
  // a call's level never goes down while it is live (fusion holds the highest so far): a tile fetched
  // before a level_changed event arrived must not lower the level that event set
  function setLevel(s, level) {
    if (!level) return;
    if (!s.ended && (AM.vocab.level_rank[level] ?? 0) < (AM.vocab.level_rank[s.level] ?? 0)) return;
    s.level = level;
    s.node.className = s.node.className.replace(/level-\w+/, "level-" + level);
    s.node.dataset.level = level;
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
  // t: when the issue started or cleared (call seconds); a copy read before a newer change of the
  // same issue (the wall's list on a reconnection) changes nothing
  function applyHealth(s, h) {
    const key = h.leg + ":" + h.issue;
    if (Number.isFinite(h.t) && h.t < (s.healthAt.get(key) ?? -Infinity)) return;
    if (Number.isFinite(h.t)) s.healthAt.set(key, h.t);
    const active = s.issues.get(h.leg) || new Map(); // issue -> the sentence for people
    if (h.active) active.set(h.issue, h.message); else active.delete(h.issue);
    s.issues.set(h.leg, active);
    const chip = s.legs[h.leg];
    if (!chip) return;
    const bad = [...active.keys()];
    chip.className = "legh " + (bad.length ? "bad" : "ok");
    chip.dataset.ok = bad.length ? "0" : "1";
    chip.dataset.issues = bad.join(" ");
    chip.title = [...active.values()].join("; ");
    chip.textContent = t(h.leg) + ": " + (bad.length ? "⚠ " + bad.map((i) => t("health_" + i)).join(", ") : t("health_ok_leg"));
  }
  function noteAlert(s, a) {
    const at = Date.parse(a.raised_at || "") || Date.now();
    if (a.alert_id != null && a.alert_id === s.lastAlertId) s.owner = a.owner || null; // the latest alert changed hands
    else if (!s.lastAlertAt || at >= s.lastAlertAt) { s.lastAlertAt = at; s.lastAlertId = a.alert_id; s.owner = a.owner || null; }
    if (a.escalated) s.node.querySelector(".esc-mark").hidden = false;
    s.node.classList.toggle("escalated", !s.node.querySelector(".esc-mark").hidden);
    tick(s);
  }
  function end(s) {
    s.ended = true;
    s.node.classList.add("ended");
    s.node.querySelector(".ended-mark").hidden = false;
    s.node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    tick(s);
  }
  function remove(callId) { const s = calls.get(callId); if (s) { s.node.remove(); calls.delete(callId); } }
  function tick(s) {
    if (!s.ended) s.f.dur.textContent = fmtTime((Date.now() - s.started) / 1000);
    s.f.last.textContent = s.lastAlertAt ? t("ago", { t: fmtTime((Date.now() - s.lastAlertAt) / 1000) }) : t("no_alert");
    s.f.owner.textContent = s.owner || (s.lastAlertAt ? t("nobody") : "–");
  }
  setInterval(() => calls.forEach(tick), 1000);
  return { grid, calls, ensure, setLevel, addLine, addStress, applyHealth, noteAlert, end, remove };
})();
