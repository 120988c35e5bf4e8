// QA queue at volume: search (call id, agent, team, rule: any part, any case; words said in the
// call through the full-text index), level/state/date filters, "mine", sortable columns, pages,
// assignment to a reviewer (a lead's shows who assigned it; taking it over for oneself asks first:
// qa_hold.js) and "next in queue" (which claims the call it opens). The filters live
// in the URL (shareable, and the review page's "next in queue" uses the same ones). Dates are the
// days of the browser's time zone (sent as tz), the same days the dates in the table are shown in.
"use strict";
Object.assign(window.I18N.en, {
  release_held_confirm: "{by} assigned this call to {who}. Put it back in the queue?",
  released: "Back in the queue: {call}.",
});
Object.assign(window.I18N.zh, {
  release_held_confirm: "此通话由 {by} 分配给了 {who}。要把它放回队列吗？",
  released: "已放回队列：{call}。",
});
(() => {
  const { t, el, api, badge, fmtTime, vocab } = AM;
  const params = new URLSearchParams(location.search);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  const input = (name, attrs) => { const n = el("input", { name, ...attrs }); n.value = params.get(name) || ""; return n; };
  const select = (name, values) => {
    const n = el("select", { name }, el("option", { value: "" }, t("all")), ...values.map((v) => el("option", { value: v }, t(v))));
    n.value = params.get(name) || "";
    return n;
  };
  const fields = {
    // the lengths the server takes (web/ui/api_queue.py)
    q: input("q", { size: 18, placeholder: t("said_placeholder"), id: "f-q", maxlength: 200 }),
    call: input("call", { size: 12, id: "f-call", maxlength: 64 }),
    agent: input("agent", { size: 10, id: "f-agent", maxlength: 64 }),
    team: input("team", { size: 8, id: "f-team", maxlength: 100 }),
    rule: input("rule", { size: 12, id: "f-rule", maxlength: 100 }),
    level: select("level", [...vocab.warning_levels].reverse()),
    state: select("state", ["pending", "in_review", "done"]),
    since: input("since", { type: "date" }),
    until: input("until", { type: "date" }),
  };
  const mine = el("input", { type: "checkbox", name: "mine", value: "true", id: "f-mine", checked: params.get("mine") === "true" });
  const lab = (k, n) => el("label", {}, t(k), n);
  const form = el("form", { class: "filters", id: "qa-filters" },
    lab("said", fields.q), lab("call", fields.call), lab("agent", fields.agent), lab("team", fields.team), lab("rule", fields.rule),
    lab("level", fields.level), lab("state", fields.state), lab("date_from", fields.since), lab("date_to", fields.until),
    el("label", { class: "check" }, t("mine"), mine),
    el("button", { class: "act primary", type: "submit" }, t("filter")),
    el("button", { class: "act", type: "button", id: "next-in-queue", onclick: () => goNext() }, t("next_in_queue")));
  // the address may have been edited by hand: what the server would refuse falls back to the default
  const SORTS = ["queued", "date", "duration", "level", "score", "state"];
  const whole = (v, lo, hi, def) => { const n = Number(v); return v !== null && Number.isInteger(n) && n >= lo && n <= hi ? n : def; };
  let sort = SORTS.includes(params.get("sort")) ? params.get("sort") : "queued";
  let order = params.get("order") === "asc" ? "asc" : "desc";
  let offset = whole(params.get("offset"), 0, 1000000, 0);
  const limit = whole(params.get("limit"), 1, 200, 50);
  // column: [label key, sort key or null]
  const COLUMNS = [["call", null], ["agent", null], ["team", null], ["level", "level"], ["rule", null], ["reason", null], ["date", "date"],
    ["duration", "duration"], ["score", "score"], ["state", "state"], ["assigned", null], ["", null]];
  const head = el("tr");
  const tbody = el("tbody");
  const table = el("table", { class: "grid", id: "qa-queue" }, el("thead", {}, head), tbody);
  const pager = el("div", { class: "pager", id: "pager" });
  const msg = el("p", { class: "error", id: "queue-msg", role: "alert", hidden: true });
  // one line under the filters: an error (default) or a plain word ("muted"), never a dialog
  const say = (text, kind = "error") => { msg.textContent = text || ""; msg.hidden = !text; msg.className = kind; };
  // a narrow window (or 200% zoom) scrolls the table, not the whole page
  AM.main.append(el("h1", { i18n: "qa_queue" }), form, msg, el("div", { class: "table-scroll", style: "overflow-x:auto" }, table), pager);
  let reviewers = [];

  function query(extra) {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.append(k, v);
    q.set("sort", sort); q.set("order", order); q.set("limit", limit); q.set("offset", offset);
    if (zone && (q.has("since") || q.has("until"))) q.set("tz", zone);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }
  function drawHead() {
    head.replaceChildren(...COLUMNS.map(([key, by]) => {
      if (!by) return el("th", {}, key ? t(key) : "");
      const active = sort === by;
      const arrow = active ? (order === "asc" ? " ▲" : " ▼") : "";
      return el("th", { class: "sortable" + (active ? " sorted" : ""), "data-sort": by, "aria-sort": active ? (order === "asc" ? "ascending" : "descending") : "none" },
        el("button", { type: "button", class: "link", onclick: () => { order = active && order === "desc" ? "asc" : "desc"; sort = by; offset = 0; load(); } }, t(key) + arrow));
    }));
  }
  function assignCell(it) {
    const sel = el("select", { class: "assign", "aria-label": t("assign_to") }, el("option", { value: "" }, "—"),
      ...reviewers.map((r) => el("option", { value: r, selected: r === it.assigned_to }, r)));
    sel.addEventListener("change", async () => {
      const url = `/api/qa/calls/${encodeURIComponent(it.call.call_id)}/`, choice = sel.value;
      // taking over for myself a call a lead assigned to someone else asks first (qa_hold.js), and
      // so does putting it back in the queue ("—": pending, nobody's)
      const asked = !choice ? QaHold.mayTake(it, "release_held_confirm") : choice !== AM.user.name || QaHold.mayTake(it);
      if (!asked) { sel.value = it.assigned_to; say(t("take_kept", { who: it.assigned_to }), "muted"); return; }
      // no second choice on this row until the list shows the first one's outcome: made on the
      // row as it was, it was refused as "given to someone else meanwhile" (the first choice)
      sel.disabled = true;
      try {
        if (choice) await api("POST", url + "assign", { reviewer: choice, take_over: QaHold.holder(it) });
        else await api("POST", url + "release", { take_over: QaHold.holder(it) });
        await load(); // says nothing when it worked, else its error, which stands
        if (!choice && msg.hidden) say(t("released", { call: it.call.call_id }), "muted");
      }
      catch (e) {
        sel.value = it.assigned_to || "";
        if (e.status !== 409) { say(t("error") + ": " + e.message); return; }
        await load(); // given to someone else since the list was loaded: shows who has it now
        if (msg.hidden) say(t("held_meanwhile"));
      }
      finally { sel.disabled = false; }
    });
    const by = QaHold.byNote(it); // "alice (assigned by lead)": a hand assignment, which does not lapse
    return by ? el("span", { class: "held" }, sel, " ", el("span", { class: "assigned-by muted" }, by)) : sel;
  }
  // the last query asked: an answer to an earlier one (a slow network, a second search or page
  // asked meanwhile) is not drawn, so the rows always match the filters and page on show
  let asked = 0;
  async function load() {
    document.body.dataset.ready = "0"; // until the rows of this query are shown
    const q = query();
    const ask = ++asked;
    history.replaceState(null, "", "?" + q);
    sessionStorage.setItem("qaQueueQuery", q.toString());
    drawHead();
    let data;
    try { data = await api("GET", "/api/qa/queue?" + q); }
    catch (e) {
      if (ask !== asked) return;
      // no rows of an earlier search under filters they do not match
      say(t("error") + ": " + e.message);
      tbody.replaceChildren();
      pager.replaceChildren();
      document.body.dataset.ready = "1";
      return;
    }
    if (ask !== asked) return;
    say("");
    tbody.replaceChildren(...data.items.map((it) => el("tr", { "data-call": it.call.call_id },
      el("td", {}, it.call.call_id), el("td", {}, it.call.agent_id), el("td", {}, it.team || ""), el("td", {}, badge(it.level)),
      el("td", { class: "rules" }, it.rules.join(", ")), el("td", { class: "reason" }, AM.localiseReasons(it.reason)),
      el("td", {}, AM.fmtDateTime(it.call.started_at)),
      el("td", { class: "num" }, fmtTime(it.duration)), el("td", { class: "num score" }, it.score == null ? "—" : it.score.toFixed(0) + "%"),
      el("td", { class: "state" }, t(it.state)), el("td", {}, assignCell(it)),
      el("td", {}, el("a", { href: "/qa/calls/" + encodeURIComponent(it.call.call_id), class: "open" }, t("open"))))));
    if (!data.items.length) tbody.append(el("tr", {}, el("td", { colspan: COLUMNS.length, class: "muted" }, t("no_items"))));
    // the pages next to the one on show: a second click before the next page came is the same page
    const at = offset, last = Math.min(at + limit, data.total);
    // past the last page (an old address, or calls done meanwhile): none shown here, so say so
    const shown = data.items.length ? t("range_of", { first: at + 1, last, total: data.total }) : t("range_of", { first: 0, last: 0, total: data.total });
    pager.replaceChildren(
      el("button", { class: "act", id: "prev-page", disabled: at === 0, onclick: () => { offset = Math.max(0, at - limit); load(); } }, "‹ " + t("previous")),
      el("span", { id: "page-info" }, data.total ? shown : "0"),
      el("button", { class: "act", id: "next-page", disabled: last >= data.total, onclick: () => { offset = at + limit; load(); } }, t("next") + " ›"));
    document.body.dataset.ready = "1";
  }
  async function goNext() {
    const q = query(); q.delete("sort"); q.delete("order"); q.delete("limit"); q.delete("offset");
    try {
      const { call_id } = await api("POST", "/api/qa/claim?" + q); // it is mine now: nobody else is handed it
      if (call_id) location.href = "/qa/calls/" + encodeURIComponent(call_id);
      else say(t("queue_empty"), "muted");
    } catch (e) { say(t("error") + ": " + e.message); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  api("GET", "/api/qa/reviewers").then((r) => { reviewers = r.reviewers; return load(); })
    .catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message)));
})();
