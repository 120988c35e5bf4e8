// QA review of one call: both legs' audio, the transcript in sync with playback (click a word to
// seek), alert markers on a timeline, the legs' signal-health events, the debtor's stress plot, a verdict per alert, the
// scorecard, notes, and the evidence package export.
"use strict";
(() => {
  const { t, el, api, badge, svg, fmtTime, vocab } = AM;
  const callId = document.body.dataset.callId;
  const W = 1000;
  const COLORS = vocab.level_colours;
  // a word, marker or hit the keyboard can reach (Tab) and operate (Enter or Space) like a click
  function operable(node, label, action) {
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    if (label) node.setAttribute("aria-label", label);
    node.addEventListener("click", (e) => { e.stopPropagation(); action(); });
    node.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); action(); }
    });
    return node;
  }

  async function main() {
    const rec = await api("GET", "/api/calls/" + encodeURIComponent(callId));
    let card = null;
    if (AM.user.role !== vocab.roles.SUPERVISOR) card = await api("GET", "/api/qa/scorecard");
    const call = rec.call;
    const audios = {};
    const players = el("div", { class: "players" });
    for (const r of rec.recordings) {
      const a = el("audio", { controls: true, preload: "auto", src: r.url, "data-leg": r.leg });
      audios[r.leg] = a;
      players.append(el("div", {}, el("strong", {}, t(r.leg)), a));
    }
    const legs = Object.values(audios);
    const master = audios[vocab.legs.AGENT] || legs[0];
    const duration = Math.max(1, ...rec.recordings.map((r) => r.duration), ...rec.utterances.map((u) => u.end));
    const x = (s) => (s / duration) * W;
    const clock = el("span", { id: "clock" }, "0:00 / " + fmtTime(duration));
    const playBtn = el("button", { class: "act primary", id: "play-both" }, t("play_both"));

    function seek(s, play) {
      legs.forEach((a) => { a.currentTime = s; });
      if (play) legs.forEach((a) => a.play().catch(() => {}));
      update();
    }
    playBtn.addEventListener("click", () => {
      const paused = !master || master.paused;
      legs.forEach((a) => (paused ? a.play().catch(() => {}) : a.pause()));
      playBtn.textContent = t(paused ? "pause" : "play_both");
    });

    // timeline: utterances per leg, alert markers, playhead
    const timeline = svg("svg", { class: "timeline", id: "timeline", viewBox: `0 0 ${W} 70`, preserveAspectRatio: "none" });
    rec.utterances.filter((u) => u.final).forEach((u) => timeline.append(svg("rect", {
      x: x(u.start), y: u.leg === vocab.legs.AGENT ? 8 : 28, width: Math.max(1, x(u.end) - x(u.start)), height: 14,
      fill: u.leg === vocab.legs.AGENT ? "#9db4f0" : "#c9a7f0" })));
    rec.alerts.forEach((a) => {
      const m = svg("g", { class: "marker", "data-alert": a.alert_id });
      m.append(svg("line", { x1: x(a.t), x2: x(a.t), y1: 0, y2: 70, stroke: COLORS[a.level], "stroke-width": 3 }),
        svg("polygon", { points: `${x(a.t) - 7},0 ${x(a.t) + 7},0 ${x(a.t)},10`, fill: COLORS[a.level] }));
      operable(m, t("alert_at", { level: t(a.level), time: fmtTime(a.t) }), () => seek(Math.max(0, a.t - 3), true));
      timeline.append(m);
    });
    (rec.health || []).filter((h) => h.active).forEach((h) => timeline.append(svg("rect", {
      class: "health-mark", x: x(h.t), y: 44, width: 4, height: 8, fill: "#667085" })));
    rec.hits.forEach((h) => { if (h.start != null) timeline.append(svg("circle", { cx: x(h.start), cy: 58, r: 4, fill: COLORS[h.severity] || "#667085" })); });
    const head1 = svg("line", { y1: 0, y2: 70, stroke: "#1d2430", "stroke-width": 1.5 });
    timeline.append(head1);
    timeline.addEventListener("click", (e) => { const b = timeline.getBoundingClientRect(); seek(((e.clientX - b.left) / b.width) * duration, false); });

    // stress plot (0-100) with the high band shaded
    const plot = svg("svg", { class: "stressplot", id: "stress-plot", viewBox: `0 0 ${W} 120`, preserveAspectRatio: "none" });
    plot.append(svg("rect", { x: 0, y: 0, width: W, height: 30, fill: "#fde8e6" }));
    if (rec.stress.length) {
      plot.append(svg("polyline", { fill: "none", stroke: "#7a2bd6", "stroke-width": 2,
        points: rec.stress.map((p) => `${x(p.t).toFixed(1)},${(120 - p.score * 1.2).toFixed(1)}`).join(" ") }));
    }
    const head2 = svg("line", { y1: 0, y2: 120, stroke: "#1d2430", "stroke-width": 1.5 });
    plot.append(head2);

    // transcript: words as spans, click to seek
    const words = [];
    const transcript = el("div", { class: "qa-transcript", id: "transcript" });
    rec.utterances.filter((u) => u.final).forEach((u) => {
      const line = el("div", { class: "line " + u.leg }, el("span", { class: "leg" }, fmtTime(u.start) + " " + t(u.leg) + ":"));
      const ws = u.words.length ? u.words : [{ text: u.text, start: u.start, end: u.end }];
      const gap = /[\u3400-\u9fff]/.test(u.text) ? "" : " "; // Chinese is written without spaces
      ws.forEach((w) => {
        const span = el("span", { class: "word", "data-start": w.start.toFixed(2) }, w.text);
        operable(span, null, () => seek(w.start, true));
        words.push({ span, start: w.start, end: w.end });
        line.append(span, gap);
      });
      transcript.append(line);
    });
    let current = null;
    function update() {
      const now = master ? master.currentTime : 0;
      clock.textContent = fmtTime(now) + " / " + fmtTime(duration);
      [head1, head2].forEach((h) => { h.setAttribute("x1", x(now)); h.setAttribute("x2", x(now)); });
      const w = words.find((w) => w.start <= now && now < Math.max(w.end, w.start + 0.05));
      if (w !== current) {
        if (current) current.span.classList.remove("now");
        if (w) { w.span.classList.add("now"); const top = w.span.offsetTop - transcript.offsetTop; if (top < transcript.scrollTop || top > transcript.scrollTop + transcript.clientHeight - 20) transcript.scrollTop = top - 40; }
        current = w;
      }
    }
    if (master) {
      master.addEventListener("timeupdate", update);
      const loop = () => { if (!master.paused) update(); requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
    }

    // alerts with verdicts, rule hits, scorecard, notes
    const mine = rec.reviews.find((r) => r.reviewer === AM.user.name) || { scorecard: {}, notes: "", verdicts: {} };
    const canReview = !!card;
    const alertsBox = el("div", { class: "panel", id: "alerts" }, el("h2", { i18n: "alerts" }));
    rec.alerts.forEach((a) => {
      const name = "verdict-" + a.alert_id;
      const radios = ["confirmed", "false_alarm"].map((v) => el("label", {}, el("input", { type: "radio", name, value: v,
        checked: mine.verdicts[String(a.alert_id)] === v, disabled: !canReview }), " " + t(v)));
      alertsBox.append(el("div", { class: "alert " + a.level, "data-alert": a.alert_id },
        el("div", {}, badge(a.level), " ", el("a", { href: "#", onclick: (e) => { e.preventDefault(); seek(Math.max(0, a.t - 3), true); } }, fmtTime(a.t)),
          " ", el("span", { class: "muted" }, t(a.state))),
        el("div", {}, a.reasons.map(AM.reasonText).join(AM.lang === "zh" ? "；" : "; ")),
        el("div", {}, t("verdict") + ": ", ...radios)));
    });
    const hitsBox = el("div", { class: "panel" }, el("h2", { i18n: "rule_hits" }),
      ...rec.hits.map((h) => {
        const row = el("div", { class: "line hit", "data-rule": h.rule, "data-start": h.start ?? "" }, badge(h.severity), " ",
          el("strong", {}, h.title), h.evidence ? " — “" + h.evidence + "” " : " ", el("span", { class: "muted" }, h.reason),
          h.citation ? el("span", { class: "muted" }, " (" + h.citation + ")") : null);
        const at = h.start ?? h.end;
        return at == null ? row : operable(row, null, () => seek(Math.max(0, at - 1), true));
      }));
    // signal health: when the monitor could not hear a leg properly (start and clear of each issue)
    const healthPanel = el("div", { class: "panel", id: "signal-health" }, el("h2", { i18n: "signal_health" }),
      ...(rec.health || []).map((h) => el("div", { class: "line health-row " + (h.active ? "on" : "off"), "data-issue": h.issue, "data-leg": h.leg },
        el("a", { href: "#", onclick: (e) => { e.preventDefault(); seek(Math.max(0, h.t - 3), true); } }, fmtTime(h.t)), " ",
        (h.active ? "⚠ " : "✓ ") + h.message)),
      (rec.health || []).length ? null : el("p", { class: "muted", i18n: "health_ok" }));
    const side = el("div", {}, healthPanel, alertsBox, hitsBox);
    if (canReview) {
      const scores = card.items.map((item) => {
        const sel = el("select", { name: item.key }, ...[0, 1, 2].map((v) => el("option", { value: v, selected: mine.scorecard[item.key] === v }, String(v))));
        return el("label", { class: "score-item" }, el("span", {}, AM.lang === "zh" ? item.zh : item.en), " ", sel);
      });
      const notes = el("textarea", { id: "notes", rows: 4, style: "width:100%" });
      notes.value = mine.notes;
      const status = el("span", { class: "muted", id: "save-status" });
      const save = async (done) => {
        const verdicts = {};
        alertsBox.querySelectorAll("input[type=radio]:checked").forEach((r) => { verdicts[r.name.slice(8)] = r.value; });
        const scorecard = {};
        side.querySelectorAll(".score-item select").forEach((s) => { scorecard[s.name] = Number(s.value); });
        try { await api("POST", `/api/qa/calls/${encodeURIComponent(callId)}/review`, { verdicts, scorecard, notes: notes.value, done }); status.textContent = t("saved"); }
        catch (e) { status.textContent = t("error") + ": " + e.message; }
      };
      side.append(el("div", { class: "panel", id: "scorecard" }, el("h2", { i18n: "scorecard" }), ...scores.map((s) => el("div", {}, s)),
        el("h2", { i18n: "notes" }), notes,
        el("div", { class: "btns" }, el("button", { class: "act", id: "save", onclick: () => save(false) }, t("save")), " ",
          el("button", { class: "act primary", id: "save-done", onclick: () => save(true) }, t("save_done")), " ", status),
        el("p", {}, el("button", { class: "act", id: "take", onclick: () => api("POST", `/api/qa/calls/${encodeURIComponent(callId)}/assign`).then(() => { status.textContent = t("in_review"); }) }, t("take_review")))));
    }
    side.append(el("p", {}, el("a", { id: "export", href: `/api/calls/${encodeURIComponent(callId)}/export.zip`, download: "" }, t("export"))));

    AM.main.append(
      el("h1", {}, t("review") + " · " + call.call_id + " ", badge(call.level)),
      el("p", { class: "muted" }, t("agent") + " " + call.agent_id + " · " + AM.fmtDateTime(call.started_at) + " · " + t(call.status)),
      el("div", { class: "panel" }, players, el("p", {}, playBtn, " ", clock)),
      el("div", { class: "panel" }, el("h2", { i18n: "timeline" }), timeline, el("h2", { i18n: "stress_timeline" }), plot),
      el("div", { class: "cols" }, el("div", {}, el("h2", { i18n: "transcript" }), transcript), side));
    document.body.dataset.ready = "1";
  }
  main().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
})();
