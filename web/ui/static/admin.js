// Admin page: users (add, edit role / agent id / team, reset password, deactivate / reactivate,
// end sessions), teams (create, rename, move agents, supervisors), rule packs (list, check) and the
// audit log with the hash-chain verification, all on the admin API.
"use strict";
Object.assign(window.I18N.en, {
  edit: "Edit", save: "Save", reactivate: "Reactivate", reset_password: "Reset password", new_password: "New password",
  end_sessions: "End sessions", sessions_ended: "Sessions ended", saved: "Saved", editing: "Editing user",
  teams: "Teams", team_name: "Team name", agents: "Agents", supervisors: "Supervisors", supervisor: "Supervisor",
  create_team: "Create team", rename: "Rename", move_agent: "Move agent", to_team: "to team", no_team: "(no team)", move: "Move",
  audit_log: "Audit log", actor: "Actor", action: "Action", object: "Object", detail: "Detail", time: "Time",
  chains_ok: "Hash chains verified: intact", chains_bad: "Hash chains verified: PROBLEMS FOUND",
  anchored: "checked against the saved anchors", not_anchored: "no saved anchors to check against",
  rows: "rows", inactive: "inactive", reports: "Reports", nav_reports: "Reports",
  verify: "Verify the chains", try_on_text: "Try on text", installed_packs: "installed packs", pack_above: "the pack in the box above", try_source: "Packs",
  lang_short: "Language", text: "Text", try_placeholder: "a line the agent might say", no_hits: "No rule fires on this text.",
  only_after: "tried as if the call had already given “{fact}”: in a call it fires only after that",
  enable: "Enable", disable: "Disable", pack_on: "on", pack_off: "off", use_version: "Use this version", upload_pack: "Upload as a new version",
  uploaded_packs: "Uploaded packs", pack_changes: "Who changed what", pack_version: "Version", uploaded_by: "Uploaded by", pack_file: "Pack file", sha256: "SHA-256",
});
Object.assign(window.I18N.zh, {
  edit: "编辑", save: "保存", reactivate: "重新启用", reset_password: "重置密码", new_password: "新密码",
  end_sessions: "结束会话", sessions_ended: "会话已结束", saved: "已保存", editing: "编辑用户",
  teams: "团队", team_name: "团队名称", agents: "坐席", supervisors: "主管", supervisor: "主管",
  create_team: "创建团队", rename: "改名", move_agent: "调动坐席", to_team: "到团队", no_team: "（无团队）", move: "调动",
  audit_log: "审计日志", actor: "操作人", action: "操作", object: "对象", detail: "详情", time: "时间",
  chains_ok: "哈希链校验：完整", chains_bad: "哈希链校验：发现问题",
  anchored: "已与保存的锚点核对", not_anchored: "没有可核对的锚点",
  rows: "行", inactive: "停用", reports: "报表", nav_reports: "报表",
  verify: "校验哈希链", try_on_text: "用文本试规则", installed_packs: "已安装的规则包", pack_above: "上面框中的规则包", try_source: "规则包",
  lang_short: "语言", text: "文本", try_placeholder: "坐席可能说的一句话", no_hits: "没有规则命中这段文本。",
  only_after: "按通话中已出现“{fact}”来试：在通话中只有出现之后才会命中",
  enable: "启用", disable: "停用", pack_on: "已启用", pack_off: "已停用", use_version: "改用此版本", upload_pack: "上传为新版本",
  uploaded_packs: "上传的规则包", pack_changes: "变更记录", pack_version: "版本", uploaded_by: "上传人", pack_file: "规则包文件", sha256: "SHA-256",
});
(() => {
  const { t, el, api } = AM;
  const ROLES = Object.values(AM.vocab.roles);
  const section = (id, title, ...kids) => el("section", { id, class: "admin-section" }, el("h1", { i18n: title }), ...kids);
  const say = (node, text, ok) => { node.textContent = text; node.classList.remove("ok", "error", "muted"); node.classList.add(ok ? "ok" : "error"); };
  const errorOf = (e) => t("error") + ": " + e.message;
  // a change sent once per click: its button is off until the answer came (a double click added
  // the user or uploaded the pack twice, or said "already exists" of the first click's own work)
  async function sending(button, job) {
    if (button.disabled) return;
    button.disabled = true;
    try { await job(); } finally { button.disabled = false; }
  }
  const once = (job) => (e) => sending(e.currentTarget, job);
  // an answer is drawn only if no newer request of its kind was asked since (a slow network
  // answers out of order): turn() numbers a request, and the number it gives says whether it is still the last
  const latest = () => { let asked = 0; return () => { const n = ++asked; return () => n === asked; }; };
  const roleSelect = (name, value) => el("select", { name }, ...ROLES.map((r) => el("option", { value: r, selected: r === value }, t("role_" + r))));

  // --- users -------------------------------------------------------------------------------------
  const users = el("tbody");
  const userMsg = el("span", { id: "user-msg", class: "muted" });
  const editor = el("div", { id: "user-editor", class: "panel", hidden: true });
  const f = { username: el("input", { name: "username", required: true, size: 12 }), password: el("input", { name: "password", type: "password", required: true, size: 12 }),
    role: roleSelect("role", "agent"), agent_id: el("input", { name: "agent_id", size: 8 }), team: el("input", { name: "team", size: 8 }) };
  const form = el("form", { class: "filters", id: "add-user" }, ...Object.entries(f).map(([k, input]) => el("label", {}, t(k), input)),
    el("button", { class: "act primary", type: "submit" }, t("add_user")));
  const addButton = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    sending(addButton, async () => { // (Enter in a field too: nothing while the first one is on its way)
      const body = {};
      for (const [k, input] of Object.entries(f)) if (input.value) body[k] = input.value;
      try { await api("POST", "/api/admin/users", body); say(userMsg, "✓ " + body.username, true); form.reset(); await loadAll(); }
      catch (err) { say(userMsg, errorOf(err)); }
    });
  });

  // an agent user's team is the team of the agent they answer calls as; a supervisor's is their own
  let agentTeams = {};
  const teamOf = (u) => (u.role === AM.vocab.roles.AGENT ? agentTeams[u.agent_id] : u.team) || "";
  function userRow(u) {
    return el("tr", { "data-user": u.username, class: u.active === false ? "inactive" : null },
      el("td", {}, u.username), el("td", { "data-role": u.role }, t("role_" + u.role)), el("td", {}, u.agent_id || ""), el("td", {}, teamOf(u)),
      el("td", {}, u.active === false ? "✗ " + t("inactive") : "✓"),
      el("td", {}, el("button", { class: "act edit", onclick: () => openEditor(u) }, t("edit"))));
  }
  const patchUser = (name, body) => api("PATCH", "/api/admin/users/" + encodeURIComponent(name), body);
  async function act(job, okText) {
    const out = editor.querySelector(".editor-msg");
    try { await job(); say(out, "✓ " + okText, true); await loadAll(); } catch (e) { say(out, errorOf(e)); }
  }
  function openEditor(u) {
    const role = roleSelect("role", u.role);
    const agentId = el("input", { name: "agent_id", size: 10, value: u.agent_id || "" });
    const team = el("input", { name: "team", size: 10, value: teamOf(u) });
    const password = el("input", { name: "new_password", type: "password", size: 14, autocomplete: "new-password" });
    const name = u.username;
    editor.replaceChildren(el("h2", {}, t("editing") + ": " + name),
      el("div", { class: "filters" }, el("label", {}, t("role"), role), el("label", {}, t("agent_id"), agentId), el("label", {}, t("team"), team),
        el("button", { class: "act primary", id: "save-user", onclick: once(() => act(() => saveUser(name, role.value, agentId.value, team.value), t("saved"))) }, t("save"))),
      el("div", { class: "filters" }, el("label", {}, t("new_password"), password),
        el("button", { class: "act", id: "reset-password", onclick: once(() => act(() => patchUser(name, { password: password.value }), t("saved"))) }, t("reset_password")),
        activeToggle(name, u.active !== false),
        el("button", { class: "act", id: "end-sessions", onclick: once(() => act(() => api("POST", "/api/admin/users/" + encodeURIComponent(name) + "/end-sessions"), t("sessions_ended"))) }, t("end_sessions"))),
      el("p", { class: "editor-msg" }));
    editor.hidden = false;
  }
  // Deactivate for an active user, Reactivate for an inactive one; once done, the other one in its
  // place (the editor kept offering "Deactivate" to a user it had just deactivated)
  function activeToggle(name, active) {
    const key = active ? "deactivate" : "reactivate";
    const button = el("button", { class: "act", id: key, onclick: once(() => act(async () => {
      await patchUser(name, { active: !active });
      const next = activeToggle(name, !active);
      const focused = document.activeElement === button;
      button.replaceWith(next);
      if (focused) next.focus();
    }, t(key))) }, t(key));
    return button;
  }
  async function saveUser(name, role, agentId, team) {
    if (role !== AM.vocab.roles.AGENT) return patchUser(name, { role, agent_id: agentId || null, team: team || null });
    await patchUser(name, { role, agent_id: agentId || null, team: null });
    await api("PUT", "/api/admin/agents/" + encodeURIComponent(agentId) + "/team", { team: team || null });
  }
  // the users and teams as the server has them now; null when a newer look-up was asked meanwhile
  const usersTurn = latest();
  async function loadUsers() {
    const current = usersTurn();
    const [data, teams] = await Promise.all([api("GET", "/api/admin/users"), api("GET", "/api/admin/teams")]);
    if (!current()) return null;
    agentTeams = Object.fromEntries(teams.agents.map((a) => [a.id, a.team]));
    users.replaceChildren(...data.map(userRow));
    return [data, teams];
  }

  // --- teams -------------------------------------------------------------------------------------
  const teamList = el("div", { id: "teams" });
  const teamMsg = el("span", { id: "team-msg", class: "muted" });
  const newTeam = { name: el("input", { name: "team_name", size: 12 }), agents: el("select", { name: "agents", multiple: true, size: 3 }), supervisor: el("select", { name: "supervisor" }) };
  const moveAgent = { agent: el("select", { name: "move_agent" }), team: el("select", { name: "move_team" }) };
  async function teamChange(job) {
    try { await job(); say(teamMsg, "✓", true); await loadAll(); } catch (e) { say(teamMsg, errorOf(e)); }
  }
  function teamCard(tm) {
    const rename = el("input", { name: "rename", size: 10, value: tm.name });
    return el("div", { class: "panel team", "data-team": tm.name },
      el("strong", {}, tm.name), " ",
      el("span", { class: "muted" }, t("agents") + ": " + (tm.agents.join(", ") || "–") + " · " + t("supervisors") + ": " + (tm.supervisors.join(", ") || "–")),
      el("div", { class: "filters" }, rename, el("button", { class: "act rename", onclick: once(() => teamChange(() =>
        api("POST", "/api/admin/teams/" + encodeURIComponent(tm.name) + "/rename", { name: rename.value }))) }, t("rename"))));
  }
  function fillTeams(data, userRows) {
    teamList.replaceChildren(...data.teams.map(teamCard));
    const agentOptions = () => data.agents.map((a) => el("option", { value: a.id }, a.id + (a.team ? " (" + a.team + ")" : "")));
    newTeam.agents.replaceChildren(...agentOptions());
    moveAgent.agent.replaceChildren(...agentOptions());
    newTeam.supervisor.replaceChildren(el("option", { value: "" }, "–"),
      ...userRows.filter((u) => u.role === AM.vocab.roles.SUPERVISOR).map((u) => el("option", { value: u.username }, u.username)));
    moveAgent.team.replaceChildren(el("option", { value: "" }, t("no_team")), ...data.teams.map((tm) => el("option", { value: tm.name }, tm.name)));
  }
  const createTeamForm = el("div", { class: "filters", id: "create-team" },
    el("label", {}, t("team_name"), newTeam.name), el("label", {}, t("agents"), newTeam.agents), el("label", {}, t("supervisor"), newTeam.supervisor),
    el("button", { class: "act primary", id: "create-team-btn", onclick: once(() => teamChange(() => api("POST", "/api/admin/teams", {
      name: newTeam.name.value, agents: [...newTeam.agents.selectedOptions].map((o) => o.value), supervisor: newTeam.supervisor.value || null }))) }, t("create_team")));
  const moveForm = el("div", { class: "filters", id: "move-agent" },
    el("label", {}, t("move_agent"), moveAgent.agent), el("label", {}, t("to_team"), moveAgent.team),
    el("button", { class: "act", id: "move-agent-btn", onclick: once(() => teamChange(() => api("PUT", "/api/admin/agents/" + encodeURIComponent(moveAgent.agent.value) + "/team",
      { team: moveAgent.team.value || null }))) }, t("move")));

  // --- rule packs --------------------------------------------------------------------------------
  const packs = el("div", { id: "packs" });
  function packLine(p) {
    // the file is named once: as the title when the pack has no name (it failed to load)
    const meta = [p.name ? p.file : null, p.version, p.rules != null ? p.rules + " " + t("rules") : ""].filter(Boolean).join(" · ");
    return el("div", { class: "panel pack" + (p.ok === false ? " error" : "") },
      el("strong", {}, p.name || p.file), " ", el("span", { class: "muted" }, meta),
      p.error ? el("div", { class: "error" }, p.error) : null);
  }
  const lintText = el("textarea", { id: "lint-text", rows: 6, style: "width:100%", placeholder: "pack: ...\nversion: 1.0.0\nrules: ..." });
  // the pack being written is kept in this tab: the session ending (Check or Upload go to the
  // sign-in page) or a reload loses nothing
  const boxKey = "adminPackBox:" + AM.user.name;
  const keepBox = () => { try { if (lintText.value) sessionStorage.setItem(boxKey, lintText.value); else sessionStorage.removeItem(boxKey); } catch (e) { /* storage full or off */ } };
  try { lintText.value = sessionStorage.getItem(boxKey) || ""; } catch (e) { /* storage off: an empty box */ }
  lintText.addEventListener("input", keepBox);
  const lintOut = el("div", { id: "lint-result" });
  const lintTurn = latest();
  const lintButton = el("button", { class: "act", id: "lint", onclick: async () => {
    const current = lintTurn();
    let shown;
    try { shown = packLine(await api("POST", "/api/admin/rules/lint", { text: lintText.value })); }
    catch (e) { shown = el("p", { class: "error" }, e.message); }
    if (current()) lintOut.replaceChildren(shown); // not the check of the text before
  } }, t("lint"));

  // installed files (on / off), uploaded packs with every version (who uploaded it when; using an
  // earlier version rolls back), upload of the pack in the box, and who changed what
  const fmt = (iso) => (iso ? AM.fmtDateTime(iso) : "");
  const packMsg = el("span", { id: "pack-msg", class: "muted" });
  const uploaded = el("div", { id: "uploaded-packs" });
  const packChanges = el("tbody", { id: "pack-changes" });
  const onOff = (on) => el("span", { class: on ? "ok" : "muted" }, on ? "✓ " + t("pack_on") : "✗ " + t("pack_off"));
  async function packChange(method, url, body) {
    try { await api(method, url, body); say(packMsg, "✓ " + t("saved"), true); }
    catch (e) { say(packMsg, errorOf(e)); }
    await loadPacks();
  }
  const packUrl = (name) => "/api/admin/rules/packs/" + encodeURIComponent(name);
  function fileLine(p) {
    const line = packLine(p);
    Object.assign(line.dataset, { file: p.file, enabled: p.enabled ? "1" : "0" });
    line.append(" ", onOff(p.enabled), p.changed_by ? el("span", { class: "muted" }, " (" + p.changed_by + ", " + fmt(p.changed_at) + ") ") : " ",
      el("button", { class: "act toggle", onclick: once(() => packChange("PUT", "/api/admin/rules/files", { file: p.file, enabled: !p.enabled })) }, t(p.enabled ? "disable" : "enable")));
    return line;
  }
  function versionRow(p, v) {
    return el("tr", { "data-version": v.version }, el("td", {}, "v" + v.version), el("td", { class: "muted", title: v.sha256 }, v.sha256.slice(0, 12)),
      el("td", {}, v.uploaded_by), el("td", {}, fmt(v.uploaded_at)),
      el("td", {}, v.enabled ? onOff(true) : el("button", { class: "act use-version", onclick: once(() => packChange("PUT", packUrl(p.name), { enabled: true, version: v.version })) }, t("use_version"))));
  }
  function uploadedPack(p) {
    return el("div", { class: "panel pack", "data-pack": p.name, "data-enabled": p.enabled ? "1" : "0" }, el("strong", {}, p.name), " ", onOff(p.enabled), " ",
      el("button", { class: "act toggle", onclick: once(() => packChange("PUT", packUrl(p.name), { enabled: !p.enabled })) }, t(p.enabled ? "disable" : "enable")),
      el("table", { class: "grid versions" }, el("thead", {}, el("tr", {}, ...["pack_version", "sha256", "uploaded_by", "time", ""].map((k) => el("th", {}, k ? t(k) : "")))),
        el("tbody", {}, ...p.versions.map((v) => versionRow(p, v)))));
  }
  const packsTurn = latest();
  async function loadPacks() {
    const current = packsTurn();
    const data = await api("GET", "/api/admin/rules/packs");
    if (!current()) return;
    packs.replaceChildren(...data.files.map(fileLine));
    uploaded.replaceChildren(...data.uploaded.map(uploadedPack));
    packChanges.replaceChildren(...data.changes.map((e) => el("tr", { "data-action": e.action }, el("td", {}, fmt(e.at)), el("td", {}, e.actor),
      el("td", {}, e.action), el("td", {}, e.object_id || ""), el("td", { class: "muted" }, e.detail && e.detail.version ? "v" + e.detail.version : ""))));
  }
  const packFile = el("input", { type: "file", id: "pack-file", accept: ".yaml,.yml" });
  packFile.addEventListener("change", async () => { if (packFile.files[0]) { lintText.value = await packFile.files[0].text(); keepBox(); } });
  const uploadButton = el("button", { class: "act primary", id: "upload-pack", onclick: once(() => packChange("POST", "/api/admin/rules/packs", { text: lintText.value })) }, t("upload_pack"));

  // try the installed packs, or the pack in the box above, on one line the agent might say
  const trySource = el("select", { name: "try_source" }, el("option", { value: "installed" }, t("installed_packs")), el("option", { value: "box" }, t("pack_above")));
  const tryLang = el("select", { name: "try_lang" }, el("option", { value: "en" }, "en"), el("option", { value: "zh" }, "zh"));
  const tryText = el("input", { name: "try_text", size: 50, placeholder: t("try_placeholder") });
  const tryOut = el("div", { id: "try-result" });
  const tryTurn = latest();
  const tryButton = el("button", { class: "act", id: "try", onclick: async () => {
    const body = { text: tryText.value, lang: tryLang.value, pack: trySource.value === "box" ? lintText.value : null };
    const current = tryTurn();
    let shown;
    try {
      const res = await api("POST", "/api/admin/rules/try", body);
      shown = res.hits.length
        ? el("ul", {}, ...res.hits.map((h) => el("li", { class: "hit", "data-rule": h.rule }, AM.badge(h.severity === "info" ? "none" : h.severity), " ", h.rule, ": ", h.title, " — “", h.evidence, "”",
          h.after ? el("span", { class: "muted after" }, " (", t("only_after", { fact: h.after }), ")") : "")))
        : el("p", { class: "muted no-hits" }, t("no_hits"));
    } catch (e) { shown = el("p", { class: "error" }, e.message); }
    if (current()) tryOut.replaceChildren(shown); // not the hits of the text tried before
  } }, t("try_on_text"));

  // --- audit log ---------------------------------------------------------------------------------
  const audit = { actor: el("input", { name: "actor", size: 10 }), action: el("input", { name: "action", size: 12 }) };
  const verification = el("div", { id: "chain-status", class: "panel" });
  const auditRows = el("tbody");
  // the entries; with verify, also every hash chain read and checked in full (the Verify button)
  // (the entries of the latest filter, the verification of the latest check: each drawn only if no newer one was asked)
  const auditTurn = latest(), verifyTurn = latest();
  async function loadAudit(verify) {
    const qs = new URLSearchParams({ limit: "50", verify: verify ? "true" : "false" });
    for (const [k, input] of Object.entries(audit)) if (input.value) qs.set(k, input.value);
    auditRows.dataset.loaded = "0";
    if (verify) delete verification.dataset.verified;  // set again once this check has landed
    const entriesCurrent = auditTurn(), verifyCurrent = verify ? verifyTurn() : () => false;
    const data = await api("GET", "/api/admin/audit?" + qs);
    if (entriesCurrent()) showEntries(data.entries);
    if (verifyCurrent()) showVerification(data);
  }
  function showVerification(data) {
    verification.dataset.verified = data.verified ? "1" : "0";
    verification.classList.remove("ok", "error");
    verification.classList.add(data.verified ? "ok" : "error");
    verification.replaceChildren(el("strong", {}, data.verified ? "✓ " + t("chains_ok") : "✗ " + t("chains_bad")),
      " (" + (data.anchored ? t("anchored") : t("not_anchored")) + ")",
      el("ul", {}, ...data.chains.map((c) => el("li", { "data-chain": c.name }, c.name + ": " + c.rows + " " + t("rows") + " " + (c.ok ? "✓" : "✗ " + c.problems.join("; "))))));
  }
  function showEntries(entries) {
    auditRows.dataset.loaded = "1";
    auditRows.replaceChildren(...entries.map((e) => el("tr", { "data-action": e.action },
      el("td", {}, AM.fmtDateTime ? AM.fmtDateTime(e.at) : e.at), el("td", {}, e.actor), el("td", {}, e.action),
      el("td", {}, [e.object_type, e.object_id].filter(Boolean).join(" ")), el("td", { class: "muted" }, e.detail ? JSON.stringify(e.detail) : ""))));
  }

  AM.main.append(
    section("users-section", "users", form, userMsg,
      el("table", { class: "grid", id: "users" }, el("thead", {}, el("tr", {}, ...["username", "role", "agent_id", "team", "active", ""].map((k) => el("th", {}, k ? t(k) : "")))), users),
      editor),
    section("teams-section", "teams", createTeamForm, moveForm, teamMsg, teamList),
    section("packs-section", "rule_packs", packs, packMsg, el("h2", { i18n: "uploaded_packs" }), uploaded,
      el("h2", { i18n: "lint_pack" }), el("div", { class: "filters" }, el("label", {}, t("pack_file"), packFile)), lintText, lintButton, uploadButton, lintOut,
      el("h2", { i18n: "try_on_text" }), el("div", { class: "filters" }, el("label", {}, t("try_source"), trySource), el("label", {}, t("lang_short"), tryLang),
        el("label", {}, t("text"), tryText), tryButton), tryOut,
      el("h2", { i18n: "pack_changes" }), el("table", { class: "grid", id: "pack-log" },
        el("thead", {}, el("tr", {}, ...["time", "actor", "action", "object", "pack_version"].map((k) => el("th", {}, t(k))))), packChanges)),
    section("audit-section", "audit_log", verification,
      el("div", { class: "filters" }, el("label", {}, t("actor"), audit.actor), el("label", {}, t("action"), audit.action),
        el("button", { class: "act", id: "audit-filter", onclick: () => loadAudit(false).catch((e) => say(verification, errorOf(e))) }, t("filter")),
        el("button", { class: "act", id: "audit-verify", onclick: () => loadAudit(true).catch((e) => say(verification, errorOf(e))) }, t("verify"))),
      el("table", { class: "grid", id: "audit" }, el("thead", {}, el("tr", {}, ...["time", "actor", "action", "object", "detail"].map((k) => el("th", {}, t(k))))), auditRows)));

  async function loadAll() {
    const loaded = await loadUsers();
    if (!loaded) return; // a newer look-up draws them
    const [userRows, teams] = loaded;
    fillTeams(teams, userRows);
    await loadAudit(!verification.dataset.verified);  // the chains are checked on the first load
    document.body.dataset.ready = "1";
  }
  loadAll().catch((e) => say(userMsg, errorOf(e)));
  loadPacks().catch((e) => packs.append(el("p", { class: "error" }, e.message)));
})();
