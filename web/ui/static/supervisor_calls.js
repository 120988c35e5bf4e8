// A supervisor's recent calls: their team's calls of the last 7 days (the scope the server grants),
// newest first, each linked to its review page.
"use strict";
(() => {
  const { t, el, api, badge, fmtDateTime, fmtTime } = AM;
  const rows = el("tbody");
  const cols = ["call", "agent", "started", "duration", "level", "status", ""];
  AM.main.append(el("h1", {}, t("recent_calls")), el("p", {}, el("a", { href: "/supervisor" }, "← " + t("nav_supervisor"))),
    el("table", { class: "grid", id: "recent" }, el("thead", {}, el("tr", {}, ...cols.map((k) => el("th", {}, k ? t(k) : "")))), rows));
  function duration(c) {
    if (!c.ended_at || !c.started_at) return "–";
    return fmtTime((Date.parse(c.ended_at) - Date.parse(c.started_at)) / 1000);
  }
  api("GET", "/api/calls?limit=500").then((data) => {
    rows.replaceChildren(...data.calls.map((c) => el("tr", { "data-call": c.call_id },
      el("td", {}, c.call_id), el("td", {}, c.agent_id), el("td", {}, c.started_at ? fmtDateTime(c.started_at) : ""),
      el("td", {}, duration(c)), el("td", {}, badge(c.level)), el("td", {}, t(c.status)),
      el("td", {}, el("a", { class: "open", href: "/qa/calls/" + encodeURIComponent(c.call_id) }, t("review_link"))))));
    if (!data.calls.length) rows.append(el("tr", {}, el("td", { colspan: cols.length, class: "muted" }, t("no_items"))));
  }).catch((e) => AM.main.append(el("p", { class: "error" }, e.message)));
})();
