// Shared helpers of the pages: i18n, API calls with the CSRF header, the top bar,
// small SVG plots and a WebAudio beep. Plain JavaScript, no dependencies.
"use strict";
const AM = (() => {
  const body = document.body;
  // levels, roles and legs as the server names them (web/ui/vocab.py), never copied here
  const vocab = JSON.parse(document.getElementById("am-vocab").textContent);
  for (const [level, colour] of Object.entries(vocab.level_colours)) document.documentElement.style.setProperty("--" + level, colour);
  const user = { name: body.dataset.user, role: body.dataset.role };
  // the server chose the language (am_lang cookie, else Accept-Language) and wrote it into <html lang>
  let lang = document.documentElement.lang || "en";
  if (!window.I18N[lang]) lang = "en";
  const LOCALE = lang === "zh" ? "zh-CN" : "en-US";
  function setLang(next) {
    document.cookie = "am_lang=" + next + "; path=/; max-age=31536000; samesite=lax";
    location.reload();
  }

  function t(key, vars) {
    let s = (window.I18N[lang] && window.I18N[lang][key]) || window.I18N.en[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  }
  function applyI18n(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  }
  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") n.className = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else if (k === "i18n") { n.dataset.i18n = v; n.textContent = t(v); }
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) n.append(kid instanceof Node ? kid : String(kid));
    return n;
  }
  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function api(method, url, data) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = cookie("am_csrf");
    if (data !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(data); }
    const r = await fetch(url, opts);
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("401"); }
    const text = await r.text();
    // a proxy in front of the server (502, 504, a login page) answers in HTML: say so, not a parse error
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) {
      throw new Error(t("server_unreadable", { status: r.status, reason: r.statusText }));
    }
    if (!r.ok) { // the server's message, and its status for callers that tell a 409 from a fault
      const err = new Error((json && (typeof json.detail === "string" ? json.detail : JSON.stringify(json.detail))) || r.statusText);
      err.status = r.status;
      throw err;
    }
    return json;
  }
  function topbar() {
    const bar = document.getElementById("topbar");
    bar.replaceChildren(
      el("span", { class: "brand", i18n: "brand" }),
      ...(vocab.role_pages[user.role] || []).map((p) => el("a", { href: "/" + p, class: body.dataset.page.startsWith(p) ? "active" : null, i18n: "nav_" + p })),
      el("span", { class: "spacer" }),
      el("span", { id: "whoami" }, user.name + " (" + t("role_" + user.role) + ")"),
      el("button", { id: "lang-toggle", onclick: () => setLang(lang === "en" ? "zh" : "en") }, t("lang")),
      el("button", { id: "logout", onclick: async () => { try { await api("POST", "/api/auth/logout"); } finally { location.href = "/login"; } } }, t("logout")),
    );
  }
  // signal-health badges of a call: one per (leg, issue) while active, with the monitor's sentence;
  // apply(h) takes a signal_health event's .health or a stored row ({leg, issue, active, message})
  // the monitor's sentence is English; the Chinese page names the leg and the issue in Chinese
  function healthText(h) { return lang === "zh" ? t(h.leg) + "：" + t("health_" + h.issue) : h.message; }
  function healthBox(wanted) {
    const node = el("div", { class: "health", hidden: true });
    const active = new Map();
    function apply(h) {
      if (wanted && !wanted(h)) return;
      const k = h.leg + "|" + h.issue;
      if (h.active) active.set(k, h); else active.delete(k);
      node.replaceChildren(...[...active.values()].map((x) => el("span",
        { class: "hbadge " + x.leg, "data-leg": x.leg, "data-issue": x.issue, title: x.message },
          "⚠ " + healthText(x))));
      node.hidden = !active.size;
    }
    return { node, apply };
  }
  function badge(level) { return el("span", { class: "badge " + level, "data-level": level }, t(level)); }
  // a date and time in the interface's format: zh "2025年3月3日 15:00:00", en "Mar 3, 2025, 15:00:00"
  function fmtDateTime(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return String(iso || "");
    return new Intl.DateTimeFormat(LOCALE, { year: "numeric", month: lang === "zh" ? "long" : "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(d);
  }
  // the reasons behind a level (written in English by the pipeline, "; "-separated in the QA queue)
  // in the interface language; rule titles come from the call's rule pack, so zh calls read Chinese
  function localiseReasons(text) {
    if (lang !== "zh" || !text) return text || "";
    return text.split("; ").map((part) => {
      let m = part.match(/^debtor stress (\w+) \((\d+)\/100\)$/);
      if (m) return t("reason_stress", { level: t("stress_" + m[1]), score: m[2] });
      m = part.match(/^(\d+) rule hits within ([\d.]+) s \((.*)\)$/);
      if (m) return t("reason_repeat", { n: m[1], window: m[2], rules: m[3] });
      m = part.match(/^(?:rule )?(.*) with high debtor stress \((\d+)\)$/);
      if (m) return t("reason_combo", { what: m[1], score: m[2] });
      return part.replace(/ \((agent|debtor) leg\)/, (x, leg) => "（" + t(leg) + "）");
    }).join("；");
  }
  function reasonText(r) { return localiseReasons(r.text || r.rule || r.kind || ""); }
  function fmtTime(s) { s = Math.max(0, s || 0); return Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0"); }
  const SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) { const n = document.createElementNS(SVGNS, tag); for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v); return n; }
  // a polyline of values (0-100) scaled into an svg of w x h
  function sparkline(node, values, w, h) {
    node.replaceChildren();
    node.setAttribute("viewBox", `0 0 ${w} ${h}`);
    if (!values.length) return;
    const step = values.length > 1 ? w / (values.length - 1) : 0;
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / 100) * h).toFixed(1)}`).join(" ");
    node.append(svg("polyline", { points: pts, fill: "none", stroke: "#7a2bd6", "stroke-width": 1.5 }));
  }
  let audioCtx = null;
  function beep() {
    try {
      audioCtx = audioCtx || new AudioContext();
      [0, 0.25].forEach((at) => {
        const o = audioCtx.createOscillator(), g = audioCtx.createGain();
        o.frequency.value = 880; g.gain.value = 0.2;
        o.connect(g).connect(audioCtx.destination);
        o.start(audioCtx.currentTime + at); o.stop(audioCtx.currentTime + at + 0.15);
      });
    } catch (e) { console.warn("beep failed", e); }
  }
  // browsers start audio only after a user gesture: unlock it on the first click
  document.addEventListener("click", () => { audioCtx = audioCtx || new AudioContext(); audioCtx.resume(); }, { once: true });
  topbar();
  return { vocab, user, lang, t, el, api, badge, healthBox, fmtTime, fmtDateTime, reasonText, localiseReasons, svg, sparkline, beep, applyI18n, main: document.getElementById("main") };
})();
