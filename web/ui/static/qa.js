// QA queue: flagged calls with filters (level, agent, rule, state, dates).
"use strict";
(() => {
  const { t, el, api, badge, vocab } = AM;
  const levelSel = el("select", { name: "level" }, el("option", { value: "" }, t("all")), ...[...vocab.warning_levels].reverse().map((l) => el("option", { value: l }, t(l))));
  const stateSel = el("select", { name: "state" }, el("option", { value: "" }, t("all")), ...["pending", "in_review", "done"].map((s) => el("option", { value: s }, t(s))));
  const agent = el("input", { name: "agent", size: 10 });
  const rule = el("input", { name: "rule", size: 14 });
  const since = el("input", { name: "since", type: "date" });
  const until = el("input", { name: "until", type: "date" });
  const lab = (k, input) => el("label", {}, t(k), input);
  const form = el("form", { class: "filters", id: "qa-filters" }, lab("level", levelSel), lab("agent", agent), lab("rule", rule),
    lab("state", stateSel), lab("date_from", since), lab("date_to", until), el("button", { class: "act primary", type: "submit" }, t("filter")));
  const tbody = el("tbody");
  const table = el("table", { class: "grid", id: "qa-queue" },
    el("thead", {}, el("tr", {}, ...["call", "agent", "level", "rule", "reason", "queued", "state", ""].map((k) => el("th", {}, k ? t(k) : "")))), tbody);
  AM.main.append(el("h1", { i18n: "qa_queue" }), form, table);

  async function load() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.append(k, v);
    const data = await api("GET", "/api/qa/queue?" + q);
    tbody.replaceChildren(...data.items.map((it) => el("tr", { "data-call": it.call.call_id },
      el("td", {}, it.call.call_id), el("td", {}, it.call.agent_id), el("td", {}, badge(it.level)),
      el("td", {}, it.rules.join(", ")), el("td", {}, AM.localiseReasons(it.reason)), el("td", {}, AM.fmtDateTime(it.queued_at)),
      el("td", {}, t(it.state) + (it.assigned_to ? " · " + it.assigned_to : "")),
      el("td", {}, el("a", { href: "/qa/calls/" + encodeURIComponent(it.call.call_id), class: "open" }, t("open"))))));
    if (!data.items.length) tbody.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, t("no_items"))));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load().catch((err) => alert(err.message)); });
  load().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
})();
