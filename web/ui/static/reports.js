// Reports page: per team and agent over a chosen period (calls, alerts per 100 calls by level, rule
// hits and call-frequency findings: Regulation F, the PRC daily cap; QA scores, hand-off
// acknowledgement times) and per rule (QA precision and a suggested action); charts drawn here in
// SVG; each table downloadable as CSV.
"use strict";
Object.assign(window.I18N.en, {
  reports: "Reports", period: "Period", load: "Show", download_csv: "CSV", by_team: "Teams", by_agent: "Agents", by_rule: "Rules",
  calls: "Calls", alerts_100: "Alerts / 100 calls", hits_100: "Rule hits / 100", reg_f: "Call-frequency findings", qa_score: "QA score",
  reviews: "Reviews", handoffs: "Hand-offs", ack_mean: "Ack. mean", ack_max: "Ack. max", confirmed: "Confirmed",
  false_alarm: "False", precision: "Precision", suggestion: "Suggested action", category: "Category", hits: "Hits",
  chart_levels: "Alerts per 100 calls by level, per team", chart_precision: "QA precision per rule (confirmed / judged)",
  no_calls: "No calls in this period.", team_all: "all teams",
});
Object.assign(window.I18N.zh, {
  reports: "报表", period: "时段", load: "查看", download_csv: "CSV", by_team: "团队", by_agent: "坐席", by_rule: "规则",
  calls: "通话数", alerts_100: "每百通告警", hits_100: "每百通规则命中", reg_f: "拨打频次违规", qa_score: "质检得分",
  reviews: "质检数", handoffs: "转交", ack_mean: "平均确认", ack_max: "最长确认", confirmed: "确认",
  false_alarm: "误报", precision: "准确率", suggestion: "建议", category: "类别", hits: "命中",
  chart_levels: "各团队每百通告警（按级别）", chart_precision: "各规则质检准确率（确认 / 已判）",
  no_calls: "该时段没有通话。", team_all: "全部团队",
});
(() => {
  const { t, el, api, svg } = AM;
  const LEVEL_COLOR = AM.vocab.level_colours;
  const role = document.body.dataset.role;
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86400e3).toISOString().slice(0, 10);
  const q = { since: el("input", { type: "date", name: "since", value: monthAgo }), until: el("input", { type: "date", name: "until", value: today }),
    team: el("input", { name: "team", size: 10, placeholder: t("team_all"), disabled: role === AM.vocab.roles.SUPERVISOR, value: document.body.dataset.team || "" }) };
  const msg = el("span", { id: "report-msg", class: "muted" });
  const out = el("div", { id: "report" });
  // an emptied date is no bound of ours: the server's default period (not a validation error)
  const params = () => {
    const p = new URLSearchParams();
    if (q.since.value) p.set("since", q.since.value);
    if (q.until.value) p.set("until", q.until.value);
    if (q.team.value && role !== AM.vocab.roles.SUPERVISOR) p.set("team", q.team.value);
    return p;
  };
  // a wide table or chart scrolls inside the page on a narrow window (or at 200% zoom), not the page
  const scroll = (node) => el("div", { class: "table-scroll", style: "overflow-x:auto" }, node);
  // (p: the period of the report on show, not what the form holds now)
  const csvLink = (table, p) => el("a", { class: "act csv", "data-table": table, href: "/api/reports/" + table + ".csv?" + p, download: "" }, t("download_csv"));
  const fmt = (v, unit) => (v === null || v === undefined ? "–" : v + (unit || ""));
  const num = (v, unit) => el("td", { class: "num" }, fmt(v, unit));

  // a horizontal stacked bar chart: rows [{label, parts: [{value, color, title}]}]
  function barChart(id, title, rows, max, unit) {
    const w = 720, left = 150, bar = 18, gap = 6, h = 30 + rows.length * (bar + gap);
    const node = svg("svg", { id, class: "chart", width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
    const head = svg("text", { x: 8, y: 16 }); head.textContent = title; node.append(head);
    const scale = (w - left - 60) / (max || 1);
    rows.forEach((r, i) => {
      const y = 26 + i * (bar + gap);
      const label = svg("text", { x: left - 6, y: y + bar - 5, "text-anchor": "end" }); label.textContent = r.label; node.append(label);
      let x = left;
      for (const p of r.parts) {
        const width = Math.max(0, p.value * scale);
        const rect = svg("rect", { x, y, width, height: bar, fill: p.color, "data-value": p.value });
        const tip = svg("title", {}); tip.textContent = p.title; rect.append(tip); node.append(rect);
        x += width;
      }
      const total = svg("text", { x: x + 4, y: y + bar - 5 }); total.textContent = r.total + (unit || ""); node.append(total);
    });
    return node;
  }
  function levelChart(data) {
    const rows = data.teams.map((g) => ({ label: g.key || t("no_team"), total: data.levels.reduce((s, lv) => +(s + g.alerts_per_100[lv]).toFixed(2), 0),
      parts: data.levels.map((lv) => ({ value: g.alerts_per_100[lv], color: LEVEL_COLOR[lv], title: t(lv) + ": " + g.alerts_per_100[lv] })) }));
    return barChart("chart-levels", t("chart_levels"), rows, Math.max(1, ...rows.map((r) => r.total)), "");
  }
  function precisionChart(data) {
    const judged = data.rules.filter((r) => r.precision !== null);
    const rows = judged.map((r) => ({ label: r.rule_id, total: Math.round(r.precision * 100),
      parts: [{ value: r.precision * 100, color: r.precision >= 0.9 ? "#12b76a" : r.precision >= 0.6 ? "#e3b400" : "#d92d20", title: r.confirmed + " / " + (r.confirmed + r.false_alarm) }] }));
    return barChart("chart-precision", t("chart_precision"), rows, 100, "%");
  }
  function groupTable(id, rows, data, withTeam) {
    const head = [withTeam ? "agent_id" : "team", ...(withTeam ? ["team"] : []), "calls", ...data.levels, "hits_100", "reg_f", "reviews", "qa_score", "handoffs", "ack_mean", "ack_max"];
    return el("table", { class: "grid", id }, el("thead", {}, el("tr", {}, ...head.map((k) => el("th", { title: data.levels.includes(k) ? t("alerts_100") : null },
        data.levels.includes(k) ? t(k) + " /100" : t(k))))),
      el("tbody", {}, ...rows.map((g) => el("tr", { "data-key": g.key },
        el("td", {}, g.key || t("no_team")), withTeam ? el("td", {}, g.team || "") : null, num(g.calls),
        ...data.levels.map((lv) => num(g.alerts_per_100[lv])), num(g.hits_per_100), num(g.reg_f), num(g.reviews),
        num(g.qa_score, "%"), num(g.handoffs), num(g.ack_mean_s, " s"), num(g.ack_max_s, " s")))));
  }
  function ruleTable(data) {
    const head = ["rule", "category", "hits", "hits_100", "confirmed", "false_alarm", "precision", "suggestion"];
    return el("table", { class: "grid", id: "rules" }, el("thead", {}, el("tr", {}, ...head.map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...data.rules.map((r) => el("tr", { "data-rule": r.rule_id },
        el("td", {}, r.rule_id), el("td", {}, r.category), num(r.total_hits), num(r.hits_per_100), num(r.confirmed), num(r.false_alarm),
        num(r.precision === null ? null : Math.round(r.precision * 100), "%"), el("td", { class: "suggestion" }, r.suggestion)))));
  }
  // the period asked last: the answer for a period asked before it (a slow network answers out of
  // order) is not drawn, so the report on show is always the one of the period in the form
  let asked = 0;
  async function load() {
    const ask = ++asked, p = params();
    const heading = (key, table) => el("h2", {}, t(key), " ", csvLink(table, p));
    msg.textContent = "…";
    msg.className = "muted";
    try {
      const data = await api("GET", "/api/reports?" + p);
      if (ask !== asked) return;
      msg.textContent = t("calls") + ": " + data.calls;
      if (!data.calls) { out.replaceChildren(el("p", { class: "muted" }, t("no_calls"))); return; }
      out.replaceChildren(scroll(levelChart(data)), scroll(precisionChart(data)),
        heading("by_team", "teams"), scroll(groupTable("teams", data.teams, data, false)),
        heading("by_agent", "agents"), scroll(groupTable("agents", data.agents, data, true)),
        heading("by_rule", "rules"), scroll(ruleTable(data)));
    } catch (e) {
      if (ask !== asked) return;
      // the report of the period asked before is not this period's: not left on show
      out.replaceChildren();
      msg.textContent = t("error") + ": " + e.message; msg.className = "error";
    }
    finally { if (ask === asked) document.body.dataset.ready = "1"; }
  }
  const form = el("form", { class: "filters", id: "report-form" },
    el("label", {}, t("date_from"), q.since), el("label", {}, t("date_to"), q.until), el("label", {}, t("team"), q.team),
    el("button", { class: "act primary", type: "submit" }, t("load")), msg);
  form.addEventListener("submit", (e) => { e.preventDefault(); document.body.dataset.ready = "0"; load(); });
  AM.main.append(el("h1", {}, t("reports")), form, out);
  load();
})();
