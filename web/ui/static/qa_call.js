// QA review of one call: both legs' audio with a waveform of each leg (peaks computed on the
// server) and a time axis, alerts and rule hits as markers that seek when clicked, playback
// speed, the transcript in sync with playback (click a word to seek), the timeline of utterances,
// both legs' signal health, the debtor's stress plot, a verdict per alert, the scorecard of the
// review's form version (items start "not scored"; N/A where the form allows it; a comment where a
// failed item needs one; qa_scorecard.js), notes, "next in queue", keyboard shortcuts (press ?) and
// the export.
"use strict";
Object.assign(window.I18N.en, {
  unsaved: "Changes pending: kept in this tab until you press Save.", draft_restored: "Your changes from before the reload are back: press Save to keep them.",
  draft_restored_stale: "Your changes from before the reload are back, but the review was changed elsewhere since: Save replaces that version.",
  too_long: "{what} too long: {n} characters, at most {max}.", no_recording: "No recording is stored for this call.",
  recording_unavailable: "The {leg} recording cannot be played (missing or unreadable).", saved_at: "Saved at {time}.",
  wave_retry: "The {leg} waveform is not available right now: trying again.", wave_failed: "The {leg} waveform could not be loaded: {reason}",
});
Object.assign(window.I18N.zh, {
  unsaved: "有修改尚未保存：按“保存”前保留在本标签页。", draft_restored: "重新加载前的修改已恢复：按“保存”才会保留。",
  draft_restored_stale: "重新加载前的修改已恢复，但此质检之后在别处被修改过：保存将替换那个版本。",
  too_long: "{what}过长：{n} 个字符，最多 {max} 个。", no_recording: "此通话没有保存录音。",
  recording_unavailable: "{leg}录音无法播放（缺失或无法读取）。", saved_at: "已保存（{time}）。",
  wave_retry: "{leg}波形暂时无法获取：正在重试。", wave_failed: "{leg}波形无法加载：{reason}",
});
(() => {
  const { t, el, api, badge, svg, fmtTime, vocab } = AM;
  const callId = document.body.dataset.callId;
  const W = 1000;
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
  const COLORS = { ...vocab.level_colours, info: "#667085" };
  const LEG_COLORS = { agent: "#3b63c4", debtor: "#7a2bd6" };
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];

  // ticks every 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10 min: at most ~10 labels, each mm:ss
  function axis(duration) {
    const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => duration / s <= 10) || 1200;
    const node = el("div", { class: "time-axis" });
    for (let s = 0; s <= duration + 1e-6; s += step) {
      node.append(el("span", { class: "tick", style: `left:${(100 * s) / duration}%`, "data-t": s }, fmtTime(s)));
    }
    return node;
  }

  async function main() {
    const rec = await api("GET", "/api/calls/" + encodeURIComponent(callId));
    const canReview = AM.user.role !== vocab.roles.SUPERVISOR;
    const mine = rec.reviews.find((r) => r.reviewer === AM.user.name) || { scorecard: {}, comments: {}, notes: "", verdicts: {} };
    let form = null;
    if (canReview) form = await api("GET", mine.form_id ? "/api/qa/forms/" + mine.form_id : "/api/qa/forms/current");
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
    // everything placed on the time axes must fit on them (an alert or a finding may come after the last word)
    const duration = Math.max(1, ...rec.recordings.map((r) => r.duration), ...rec.utterances.map((u) => u.end),
      ...rec.alerts.map((a) => a.t), ...rec.hits.map((h) => h.end ?? h.start ?? 0), ...rec.stress.map((p) => p.t),
      ...(rec.health || []).map((h) => h.t));
    const x = (s) => (s / duration) * W;
    const clock = el("span", { id: "clock" }, "0:00 / " + fmtTime(duration));
    const playBtn = el("button", { class: "act primary", id: "play-both" }, t("play_both"));
    const speed = el("select", { id: "speed", "aria-label": t("speed") }, ...SPEEDS.map((v) => el("option", { value: v, selected: v === 1 }, v + "×")));

    // the position: the master leg's, or (no recording stored) where the reviewer last went, so
    // words, markers and J/L still move the playhead, the highlighted word and the stress marker
    let pos = 0;
    const position = () => (master ? master.currentTime : pos);
    // seeks this page made itself, per leg (a seek the reviewer makes in one leg's own player is
    // followed by the other leg, so both legs always play the same moment)
    const ours = new Map();
    function setTime(a, s) { ours.set(a, s); a.currentTime = s; }
    function seek(s, play) {
      s = Math.min(Math.max(0, s), duration);
      pos = s;
      legs.forEach((a) => setTime(a, s));
      if (play) legs.forEach((a) => a.play().catch(() => {}));
      update();
    }
    function togglePlay() {
      const paused = !master || master.paused;
      legs.forEach((a) => (paused ? a.play().catch(() => {}) : a.pause()));
    }
    const showPlaying = () => { playBtn.textContent = t(master && !master.paused ? "pause" : "play_both"); };
    legs.forEach((a) => {
      a.addEventListener("seeking", () => {
        const expected = ours.get(a);
        ours.delete(a);
        if (expected !== undefined && Math.abs(expected - a.currentTime) < 0.3) return;
        pos = a.currentTime; // the reviewer moved this leg's own player: the other legs follow
        legs.forEach((o) => { if (o !== a && Math.abs(o.currentTime - pos) > 0.05) setTime(o, pos); });
        update();
      });
      a.addEventListener("play", () => { legs.forEach((o) => { if (o !== a && o.paused && !o.ended) o.play().catch(() => {}); }); showPlaying(); });
      a.addEventListener("pause", () => { if (!a.ended) legs.forEach((o) => { if (o !== a && !o.paused) o.pause(); }); showPlaying(); });
      a.addEventListener("error", () => unavailable(a.dataset.leg));
    });
    // a leg's recording that cannot be played (missing on disk, unreadable): said once, in the page's language
    function unavailable(leg) {
      if (players.querySelector(`.recording-error[data-leg='${leg}']`)) return;
      players.append(el("p", { class: "error recording-error", "data-leg": leg }, t("recording_unavailable", { leg: t(leg) })));
    }
    if (!legs.length) players.append(el("p", { class: "muted", id: "no-recording" }, t("no_recording")));
    function setSpeed(v) { speed.value = String(v); legs.forEach((a) => { a.playbackRate = Number(v); }); }
    playBtn.addEventListener("click", togglePlay);
    speed.addEventListener("change", () => setSpeed(speed.value));

    // waveform of both legs: canvas (agent above, debtor below), markers as buttons, playhead
    const canvas = el("canvas", { id: "waveform", height: 150 });
    const waveHead = el("div", { class: "wave-head" });
    const wave = el("div", { class: "wave-wrap", id: "wave" }, canvas, waveHead);
    const peaks = {};
    function drawWave() {
      const ratio = window.devicePixelRatio || 1;
      const w = wave.clientWidth || 800, h = 150;
      canvas.width = w * ratio; canvas.height = h * ratio; canvas.style.width = w + "px"; canvas.style.height = h + "px";
      const g = canvas.getContext("2d");
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      g.clearRect(0, 0, w, h);
      ["agent", "debtor"].forEach((leg, i) => {
        const mid = 37 + i * 75, amp = 33;
        g.fillStyle = "#f3f5f9"; g.fillRect(0, mid - amp - 2, w, 2 * amp + 4);
        g.fillStyle = "#667085"; g.font = "11px system-ui, sans-serif"; g.fillText(t(leg), 4, mid - amp + 10);
        const p = peaks[leg];
        if (!p || !p.max.length) return;
        g.fillStyle = LEG_COLORS[leg];
        const n = p.max.length;
        for (let k = 0; k < n; k++) {
          const px = ((k * p.step) / duration) * w, pw = Math.max(1, (p.step / duration) * w);
          const top = mid - p.max[k] * amp, bottom = mid - p.min[k] * amp;
          g.fillRect(px, top, pw, Math.max(1, bottom - top));
        }
      });
      canvas.dataset.drawn = Object.keys(peaks).length;
    }
    const marker = (cls, t0, color, label, data) => {
      const b = el("button", { type: "button", class: "wave-marker " + cls, style: `left:${(100 * t0) / duration}%;--c:${color}`,
        title: fmtTime(t0) + " " + label, "aria-label": fmtTime(t0) + " " + label, ...data });
      b.addEventListener("click", (e) => { e.stopPropagation(); seek(Math.max(0, t0 - 1), true); });
      return b;
    };
    rec.alerts.forEach((a) => wave.append(marker("alert", a.t, COLORS[a.level], t(a.level), { "data-alert": a.alert_id })));
    rec.hits.filter((h) => h.start != null).forEach((h) => wave.append(marker("hit leg-" + (h.leg || "call"), h.start, COLORS[h.severity] || "#667085", h.title, { "data-hit": h.hit_id })));
    canvas.addEventListener("click", (e) => { const b = canvas.getBoundingClientRect(); seek(((e.clientX - b.left) / b.width) * duration, false); });
    window.addEventListener("resize", drawWave);
    // a leg's peaks: a 404 means the recording is missing or unreadable; a server busy for a moment
    // (503, a dropped connection) is asked again after 1, 2, 4, 8 s, and the page says it waits
    function waveNote(leg, text, cls = "muted") {
      players.querySelector(`.wave-note[data-leg='${leg}']`)?.remove();
      if (text) players.append(el("p", { class: cls + " wave-note", "data-leg": leg }, text));
    }
    async function loadPeaks(leg) {
      const url = `/api/calls/${encodeURIComponent(callId)}/recordings/${leg}/peaks?buckets=1000`;
      for (let attempt = 0; ; attempt++) {
        try { peaks[leg] = await api("GET", url); waveNote(leg, null); return drawWave(); } catch (e) {
          if (e.status === 404) { waveNote(leg, null); return unavailable(leg); }
          const passing = !e.status || e.status >= 500 || e.status === 429 || e.status === 408;
          if (!passing || attempt >= 4) return waveNote(leg, t("wave_failed", { leg: t(leg), reason: e.message }), "error");
          waveNote(leg, t("wave_retry", { leg: t(leg) }));
          await new Promise((done) => setTimeout(done, 1000 * 2 ** attempt));
        }
      }
    }
    drawWave();
    rec.recordings.forEach((r) => loadPeaks(r.leg));

    // timeline: utterances per leg, alert markers, health marks, rule hits, playhead
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
      const now = position();
      clock.textContent = fmtTime(now) + " / " + fmtTime(duration);
      [head1, head2].forEach((h) => { h.setAttribute("x1", x(now)); h.setAttribute("x2", x(now)); });
      waveHead.style.left = (100 * now) / duration + "%";
      const w = words.find((w) => w.start <= now && now < Math.max(w.end, w.start + 0.05));
      if (w !== current) {
        if (current) current.span.classList.remove("now");
        if (w) { w.span.classList.add("now"); const top = w.span.offsetTop - transcript.offsetTop; if (top < transcript.scrollTop || top > transcript.scrollTop + transcript.clientHeight - 20) transcript.scrollTop = top - 40; }
        current = w;
      }
    }
    if (master) {
      master.addEventListener("timeupdate", update);
      // while playing: the playhead follows, and a leg that drifted (it stalled, or started late) is put back
      const loop = () => {
        if (!master.paused) {
          update();
          legs.forEach((o) => { if (o !== master && !o.paused && !o.seeking && !master.seeking && Math.abs(o.currentTime - master.currentTime) > 0.25) setTime(o, master.currentTime); });
        }
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    }

    // alerts with verdicts (one selected for the keyboard), rule hits, signal health per leg
    const alertsBox = el("div", { class: "panel", id: "alerts" }, el("h2", { i18n: "alerts" }));
    const alertRows = rec.alerts.map((a) => {
      const name = "verdict-" + a.alert_id;
      const radios = ["confirmed", "false_alarm"].map((v) => el("label", {}, el("input", { type: "radio", name, value: v,
        checked: mine.verdicts[String(a.alert_id)] === v, disabled: !canReview }), " " + t(v)));
      const row = el("div", { class: "alert " + a.level, "data-alert": a.alert_id },
        el("div", {}, badge(a.level), " ", el("a", { href: "#", class: "seek", onclick: (e) => { e.preventDefault(); select(a); seek(Math.max(0, a.t - 3), true); } }, fmtTime(a.t)),
          " ", el("span", { class: "muted" }, t(a.state))),
        el("div", {}, a.reasons.map(AM.reasonText).join(AM.lang === "zh" ? "；" : "; ")),
        el("div", {}, t("verdict") + ": ", ...radios));
      alertsBox.append(row);
      return { a, row };
    });
    let selected = null;
    function select(a) {
      selected = a;
      alertRows.forEach((r) => {
        r.row.classList.toggle("selected", r.a === a);
        if (r.a === a && r.row.scrollIntoView) r.row.scrollIntoView({ block: "nearest" }); // the verdict keys act on it: keep it in sight
      });
    }
    function stepAlert(dir) {
      if (!alertRows.length) return;
      const now = position();
      const sorted = alertRows.map((r) => r.a).sort((p, q) => p.t - q.t);
      const i = selected ? sorted.indexOf(selected) : (dir > 0 ? sorted.findIndex((a) => a.t - 3 > now + 0.5) - 1 : sorted.length);
      const next = sorted[(i + dir + sorted.length) % sorted.length] || sorted[0];
      select(next);
      seek(Math.max(0, next.t - 3), true);
    }
    function verdict(v) {
      if (!canReview || !selected) return;
      const input = alertsBox.querySelector(`input[name='verdict-${selected.alert_id}'][value='${v}']`);
      if (input && !input.checked) { input.checked = true; input.dispatchEvent(new Event("change", { bubbles: true })); }
    }
    const hitsBox = el("div", { class: "panel", id: "rule-hits" }, el("h2", { i18n: "rule_hits" }),
      ...rec.hits.map((h) => {
        const at = h.start ?? h.end;
        const row = el("div", { class: "line hit", "data-hit": h.hit_id, "data-rule": h.rule, "data-start": h.start ?? "" }, badge(h.severity), " ",
          at != null ? el("a", { href: "#", class: "seek", onclick: (e) => { e.preventDefault(); seek(Math.max(0, at - 1), true); } }, fmtTime(at)) : null, " ",
          el("strong", {}, h.title), h.evidence ? " — “" + h.evidence + "” " : " ", el("span", { class: "muted" }, h.reason),
          h.citation ? el("span", { class: "muted" }, " (" + h.citation + ")") : null);
        return at == null ? row : operable(row, null, () => seek(Math.max(0, at - 1), true));
      }));
    // signal health: each leg's state now, then when the monitor could not hear a leg properly
    const health = rec.health || [];
    const legState = Object.values(vocab.legs).map((leg) => {
      const open = new Map();
      health.filter((h) => h.leg === leg).forEach((h) => { if (h.active) open.set(h.issue, h); else open.delete(h.issue); });
      const issues = [...new Set(health.filter((h) => h.leg === leg && h.active).map((h) => t("health_" + h.issue)))];
      return el("div", { class: "leg-health " + (issues.length ? "issues" : "ok"), "data-leg": leg },
        el("strong", {}, t(leg)), ": ", issues.length ? "⚠ " + issues.join(", ") : "✓ " + t("leg_ok"));
    });
    const healthPanel = el("div", { class: "panel", id: "signal-health" }, el("h2", { i18n: "signal_health" }), ...legState,
      ...health.map((h) => el("div", { class: "line health-row " + (h.active ? "on" : "off"), "data-issue": h.issue, "data-leg": h.leg },
        el("a", { href: "#", onclick: (e) => { e.preventDefault(); seek(Math.max(0, h.t - 3), true); } }, fmtTime(h.t)), " ",
        (h.active ? "⚠ " : "✓ ") + h.message)),
      health.length ? null : el("p", { class: "muted", i18n: "health_ok" }));
    const side = el("div", {}, healthPanel, alertsBox, hitsBox);
    const status = el("span", { class: "muted", id: "save-status", role: "status" });
    let save = async () => {};
    // who has the call in the QA queue (qa_hold.js), kept up to date by "Take"
    const held = el("span", { id: "held-by" });
    const showHeld = (entry) => { const line = QaHold.line(entry); held.textContent = line ? " · " + line : ""; };
    showHeld(rec.qa);
    if (canReview) save = QaScorecard.panel(side, form, mine, alertsBox, status, showHeld);
    const nextBtn = el("button", { class: "act", id: "next-call", onclick: () => nextCall() }, t("next_in_queue") + " →");
    const helpBtn = el("button", { class: "act", id: "help-btn", onclick: () => toggleHelp(), title: t("shortcuts") }, "? " + t("shortcuts"));
    side.append(el("p", {}, canReview ? nextBtn : null, " ", helpBtn, " ",
      el("a", { id: "export", href: `/api/calls/${encodeURIComponent(callId)}/export.zip`, download: "" }, t("export"))));

    async function nextCall() {
      if (nextBtn.disabled) return; // on its way
      nextBtn.disabled = true;
      try { await claimNext(); } finally { nextBtn.disabled = false; }
    }
    async function claimNext() {
      // a save on its way first (S then N): leaving before its answer asked "leave the page?" of
      // changes being saved, and a save the server refused went unseen; refused, its message stays
      if (save.settled && !(await save.settled())) return;
      const q = new URLSearchParams(sessionStorage.getItem("qaQueueQuery") || "");
      ["sort", "order", "limit", "offset"].forEach((k) => q.delete(k));
      q.set("after", callId);
      try {
        const { call_id } = await api("POST", "/api/qa/claim?" + q); // claimed: nobody else is handed it
        if (call_id) location.href = "/qa/calls/" + encodeURIComponent(call_id); // unsaved changes: the browser asks first
        else status.textContent = t("queue_empty");
      } catch (e) { status.textContent = t("error") + ": " + e.message; status.classList.add("error"); }
    }

    // keyboard shortcuts (not while typing in a field), listed in the help overlay
    const KEYS = [["Space / K", "key_play"], ["J", "key_back"], ["L", "key_fwd"], ["A", "key_next_alert"], ["Shift+A", "key_prev_alert"],
      ["C", "key_confirm"], ["F", "key_false"], ["[ / ]", "key_speed"], ["S", "key_save"], ["N", "key_next_call"], ["?", "key_help"]];
    const help = el("div", { id: "shortcuts", class: "overlay", hidden: true, role: "dialog", "aria-modal": "true", "aria-label": t("shortcuts") },
      el("div", { class: "overlay-box" }, el("h2", {}, t("shortcuts")),
        el("table", { class: "keys" }, ...KEYS.map(([k, what]) => el("tr", {}, el("td", {}, el("kbd", {}, k)), el("td", {}, t(what))))),
        el("button", { class: "act", id: "close-help", onclick: () => toggleHelp(false) }, t("close"))));
    // the help is a modal dialog: the focus goes into it, and back where it was when it closes
    let helpReturn = null;
    function toggleHelp(show) {
      const open = show === undefined ? help.hidden : show;
      if (open === !help.hidden) return;
      help.hidden = !open;
      if (open) { helpReturn = document.activeElement; help.querySelector("#close-help").focus(); }
      else if (helpReturn && helpReturn.focus) { helpReturn.focus(); helpReturn = null; }
    }
    help.addEventListener("keydown", (e) => { if (e.key === "Tab") e.preventDefault(); }); // its one button keeps the focus
    // typing in a field: no shortcuts (a radio button or checkbox takes no text)
    const typing = (n) => n.isContentEditable || /^(TEXTAREA|SELECT)$/.test(n.tagName) || (n.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset)$/.test(n.type));
    // Space and Enter on a focused control (a button, link, radio, a leg's own player) do what they do there
    const control = (n) => n.closest && n.closest("button, a[href], input, audio, video, summary, [role=button]");
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if ((e.key === " " || e.key === "Enter") && control(e.target)) return;
      if (!help.hidden && e.key !== "Escape" && e.key !== "?") return; // behind the dialog: nothing
      // letters whatever the case (Caps Lock); Shift+A is the previous alert
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      const i = SPEEDS.indexOf(Number(speed.value));
      const act = {
        " ": togglePlay, k: togglePlay, j: () => seek(position() - 5), l: () => seek(position() + 5),
        a: () => stepAlert(e.shiftKey ? -1 : 1), c: () => verdict("confirmed"), f: () => verdict("false_alarm"),
        "[": () => setSpeed(SPEEDS[Math.max(0, i - 1)]), "]": () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, i + 1)]),
        s: () => save(false), n: () => canReview && nextCall(), "?": () => toggleHelp(), Escape: () => toggleHelp(false),
      }[k];
      if (!act) return;
      e.preventDefault();
      act();
    });

    AM.main.append(
      el("h1", {}, t("review") + " · " + call.call_id + " ", badge(call.level)),
      el("p", { class: "muted", id: "call-about" }, about(call).join(" · "), held),
      el("div", { class: "panel" }, players, el("p", {}, playBtn, " ", el("label", {}, t("speed") + " ", speed), " ", clock),
        el("h2", { i18n: "waveform" }), wave, axis(duration)),
      el("div", { class: "panel" }, el("h2", { i18n: "timeline" }), timeline, axis(duration),
        el("h2", { i18n: "stress_timeline" }), plot, axis(duration)),
      el("div", { class: "cols" }, el("div", {}, el("h2", { i18n: "transcript" }), transcript), side), help);
    drawWave();
    document.body.dataset.ready = "1";
  }

  // who, when, how it ended, and what the frequency rule judged the call by (its debt, the consent)
  function about(call) {
    const parts = [t("agent") + " " + call.agent_id, AM.fmtDateTime(call.started_at), t(call.status)];
    if (call.debt_id) parts.push(t("debt") + " " + call.debt_id);
    if (call.consented) parts.push(t("consented_call"));
    return parts;
  }

  main().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
})();
