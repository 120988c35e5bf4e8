// Admin page: users (list, add, change role, deactivate) and rule packs, on the admin API.
"use strict";
(() => {
  const { t, el, api } = AM;
  const users = el("tbody");
  const packs = el("div", { id: "packs" });
  const f = { username: el("input", { name: "username", required: true, size: 12 }), password: el("input", { name: "password", type: "password", required: true, size: 12 }),
    role: el("select", { name: "role" }, ...Object.values(AM.vocab.roles).map((r) => el("option", { value: r }, t("role_" + r)))),
    agent_id: el("input", { name: "agent_id", size: 8 }), team: el("input", { name: "team", size: 8 }) };
  const msg = el("span", { class: "muted" });
  const form = el("form", { class: "filters", id: "add-user" }, ...Object.entries(f).map(([k, input]) => el("label", {}, t(k), input)),
    el("button", { class: "act primary", type: "submit" }, t("add_user")), msg);
  AM.main.append(el("h1", { i18n: "users" }), form,
    el("table", { class: "grid", id: "users" }, el("thead", {}, el("tr", {}, ...["username", "role", "agent_id", "team", "active", ""].map((k) => el("th", {}, k ? t(k) : "")))), users),
    el("h1", { i18n: "rule_packs" }), packs);
  const list = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);

  async function loadUsers() {
    const data = await api("GET", "/api/admin/users");
    users.replaceChildren(...list(data, "users").map((u) => el("tr", { "data-user": u.username },
      el("td", {}, u.username), el("td", { "data-role": u.role }, t("role_" + u.role)), el("td", {}, u.agent_id || ""), el("td", {}, u.team || ""),
      el("td", {}, u.active === false ? "✗" : "✓"),
      el("td", {}, u.active === false ? "" : el("button", { class: "act", onclick: () => deactivate(u.username) }, t("deactivate"))))));
  }
  async function deactivate(name) {
    try { await api("PATCH", "/api/admin/users/" + encodeURIComponent(name), { active: false }); await loadUsers(); } catch (e) { msg.textContent = e.message; }
  }
  function packLine(p) {
    return el("div", { class: "panel pack" + (p.ok === false ? " error" : "") },
      el("strong", {}, p.name || p.file), " ",
      el("span", { class: "muted" }, [p.file, p.version, p.rules != null ? p.rules + " " + t("rules") : ""].filter(Boolean).join(" · ")),
      p.error ? el("div", { class: "error" }, p.error) : null);
  }
  async function loadPacks() {
    packs.replaceChildren(...list(await api("GET", "/api/admin/rules"), "packs").map(packLine));
  }
  // lint a rule pack before deploying it (nothing is saved)
  const lintText = el("textarea", { id: "lint-text", rows: 6, style: "width:100%", placeholder: "rules: ..." });
  const lintOut = el("div", { id: "lint-result" });
  AM.main.append(el("h2", { i18n: "lint_pack" }), lintText,
    el("button", { class: "act", id: "lint", onclick: async () => {
      try { lintOut.replaceChildren(packLine(await api("POST", "/api/admin/rules/lint", { text: lintText.value }))); }
      catch (e) { lintOut.replaceChildren(el("p", { class: "error" }, e.message)); }
    } }, t("lint")), lintOut);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const [k, input] of Object.entries(f)) if (input.value) body[k] = input.value;
    try { await api("POST", "/api/admin/users", body); msg.textContent = "✓"; form.reset(); await loadUsers(); } catch (err) { msg.textContent = t("error") + ": " + err.message; }
  });
  loadUsers().catch((e) => users.append(el("tr", {}, el("td", { class: "error", colspan: 6 }, e.message))));
  loadPacks().catch((e) => packs.append(el("p", { class: "error" }, e.message)));
})();
