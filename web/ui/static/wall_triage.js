// Triage for a full floor: the tiles sorted by risk (red, orange, yellow, then none; within a level
// the most recent alert first; ended calls last), filters by team, level and agent, counts per
// level in the header, and a compact list view that fits 50+ calls on one 1080p screen.
"use strict";
const WallTriage = (() => {
  const { t, el, badge, vocab } = AM;
  const RANK = vocab.level_rank;
  const LEVELS = [...vocab.levels].reverse(); // the highest first
  const counts = el("div", { class: "counts", id: "level-counts" });
  const team = el("select", { id: "filter-team", name: "team" }, el("option", { value: "" }, t("all_teams")));
  const level = el("select", { id: "filter-level", name: "level" }, el("option", { value: "" }, t("all_levels")),
    ...LEVELS.map((l) => el("option", { value: l }, t(l))));
  const agent = el("input", { id: "filter-agent", name: "agent", placeholder: t("agent_ph"), size: 10 });
  const shown = el("span", { class: "muted", id: "shown" });
  const toggle = el("button", { class: "act", id: "view-toggle", type: "button" }, t("view_list"));
  const bar = el("div", { class: "triage" }, counts,
    el("label", {}, t("filter_team") + " ", team), el("label", {}, t("filter_level") + " ", level),
    el("label", {}, t("filter_agent") + " ", agent), toggle, shown,
    el("a", { href: "/supervisor/calls", id: "recent-link" }, t("recent_calls")));
  let pending = false;
  function key(s) { return [s.ended ? 1 : 0, -RANK[s.level], -(s.lastAlertAt || 0), -s.started]; }
  function cmp(a, b) { const x = key(a), y = key(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; }
  function visible(s) {
    return (!team.value || s.team === team.value) && (!level.value || s.level === level.value) &&
      (!agent.value || s.call.agent_id.toLowerCase().includes(agent.value.trim().toLowerCase()));
  }
  function apply() {
    pending = false;
    const all = [...WallTiles.calls.values()].sort(cmp);
    // a moved tile loses the keyboard focus it held (its listen button, its review link): given back
    const focused = WallTiles.grid.contains(document.activeElement) ? document.activeElement : null;
    // move only the tiles out of place (a tile moved under a click in progress loses the click)
    all.forEach((s, i) => {
      s.node.hidden = !visible(s);
      if (WallTiles.grid.children[i] !== s.node) WallTiles.grid.insertBefore(s.node, WallTiles.grid.children[i] || null);
    });
    if (focused && focused !== document.activeElement && focused.isConnected && !focused.closest("[hidden]")) {
      focused.focus({ preventScroll: true });
    }
    const live = all.filter((s) => !s.ended);
    counts.replaceChildren(el("span", { class: "muted" }, t("counts") + ":"), ...LEVELS.map((l) =>
      el("span", { class: "count", "data-level": l, "data-count": live.filter((s) => s.level === l).length },
        badge(l), " ", String(live.filter((s) => s.level === l).length))));
    const teams = [...new Set(all.map((s) => s.team).filter(Boolean))].sort();
    const have = [...team.options].slice(1).map((o) => o.value);
    teams.filter((x) => !have.includes(x)).forEach((x) => team.append(el("option", { value: x }, x)));
    shown.textContent = t("shown", { n: all.filter((s) => !s.node.hidden).length, total: all.length });
    document.getElementById("no-live").hidden = all.length > 0;
  }
  function schedule() { if (!pending) { pending = true; setTimeout(apply, 100); } }
  function setView(compact) {
    WallTiles.grid.classList.toggle("compact", compact);
    document.body.dataset.view = compact ? "list" : "grid";
    toggle.textContent = t(compact ? "view_grid" : "view_list");
    try { localStorage.setItem("am_wall_view", compact ? "list" : "grid"); } catch (e) { /* private mode */ }
  }
  toggle.addEventListener("click", () => setView(!WallTiles.grid.classList.contains("compact")));
  [team, level].forEach((n) => n.addEventListener("change", apply));
  agent.addEventListener("input", apply);
  let saved = "grid";
  try { saved = localStorage.getItem("am_wall_view") || "grid"; } catch (e) { /* private mode */ }
  setView(saved === "list");
  return { bar, schedule, apply };
})();
