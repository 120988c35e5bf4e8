// The QA review page's scorecard (qa_call.js draws the rest of the page): the items of the review's
// form version, notes, Save / Save and finish, Take. What the reviewer changed and did not save yet
// is kept in this tab; saving a finished review as a draft asks first, and so does taking a call a
// lead assigned to someone else.
"use strict";
const QaScorecard = (() => {
  const { t, el, api } = AM;
  // the server's limits of a review (web/ui/api_qa.py ReviewIn), in characters (code points)
  const NOTES_MAX = 20000, COMMENT_MAX = 2000;
  const chars = (text) => [...text].length;

  // the scorecard of the review's form version; returns save(done). What the reviewer changed and
  // did not save yet is kept in this tab (sessionStorage) at every change, so a reload, the back
  // button, a sign-in after the session ended or a failed save loses nothing; leaving the page with
  // unsaved changes asks first.
  function panel(side, form, mine, alertsBox, status, showHeld) {
    const callId = document.body.dataset.callId;
    const rows = form.items.map((item) => {
      const value = mine.scorecard[item.key];
      const options = [el("option", { value: "" }, t("not_scored"))];
      for (let v = 0; v <= item.max; v++) options.push(el("option", { value: v, selected: value === v }, String(v)));
      if (item.na_allowed) options.push(el("option", { value: "na", selected: value === "na" }, t("na")));
      const sel = el("select", { name: item.key, class: "score" }, ...options);
      if (value === undefined || value === null) sel.value = "";
      const comment = el("input", { class: "comment", name: "comment-" + item.key, placeholder: item.comment_on_fail ? t("comment_required") : t("comment"), size: 24 });
      comment.value = (mine.comments || {})[item.key] || "";
      return el("div", { class: "score-item", "data-item": item.key },
        el("label", {}, el("span", {}, (AM.lang === "zh" ? item.zh : item.en) + (item.weight !== 1 ? ` (×${item.weight})` : "")), " ", sel), " ", comment);
    });
    const notes = el("textarea", { id: "notes", rows: 4, style: "width:100%" });
    notes.value = mine.notes;
    const count = el("span", { id: "notes-count", class: "muted" });
    const score = el("span", { id: "score" }, mine.score == null ? "" : t("score_now", { score: mine.score.toFixed(0) }));
    // what the form holds now, in the shape the server takes
    function collect() {
      const verdicts = {};
      alertsBox.querySelectorAll("input[type=radio]:checked").forEach((r) => { verdicts[r.name.slice(8)] = r.value; });
      const scorecard = {}, comments = {};
      rows.forEach((row) => {
        const sel = row.querySelector("select"), key = sel.name;
        scorecard[key] = sel.value === "" ? null : sel.value === "na" ? "na" : Number(sel.value);
        const c = row.querySelector(".comment").value.trim();
        if (c) comments[key] = c;
      });
      return { verdicts, scorecard, comments, notes: notes.value };
    }
    function apply(values) {
      alertsBox.querySelectorAll("input[type=radio]").forEach((r) => { r.checked = values.verdicts[r.name.slice(8)] === r.value; });
      rows.forEach((row) => {
        const sel = row.querySelector("select"), v = values.scorecard[sel.name];
        sel.value = v === null || v === undefined ? "" : String(v);
        if (sel.value !== (v === null || v === undefined ? "" : String(v))) sel.value = ""; // a value this form does not offer
        row.querySelector(".comment").value = values.comments[sel.name] || "";
      });
      notes.value = values.notes || "";
    }
    const draftKey = "qaDraft:" + AM.user.name + ":" + callId;
    let saved = JSON.stringify(collect()); // what the server holds
    const dirty = () => JSON.stringify(collect()) !== saved;
    function say(text, error) { status.textContent = text; status.classList.toggle("error", !!error); }
    function counted() {
      const n = chars(notes.value);
      count.textContent = n > NOTES_MAX * 0.9 ? n + " / " + NOTES_MAX : "";
      count.classList.toggle("error", n > NOTES_MAX);
    }
    function changed() {
      counted();
      try {
        if (dirty()) sessionStorage.setItem(draftKey, JSON.stringify({ base: saved, values: collect() }));
        else sessionStorage.removeItem(draftKey);
      } catch (e) { /* storage full or disabled: the page still warns before leaving */ }
      if (dirty()) say(t("unsaved"));
      else if (status.textContent === t("unsaved")) say("");
    }
    // a draft of this tab from before a reload: put back what the reviewer had
    try {
      const draft = JSON.parse(sessionStorage.getItem(draftKey) || "null");
      if (draft && draft.values) {
        apply(draft.values);
        if (dirty()) say(t(draft.base === saved ? "draft_restored" : "draft_restored_stale"));
        else sessionStorage.removeItem(draftKey);
      }
    } catch (e) { sessionStorage.removeItem(draftKey); }
    alertsBox.addEventListener("change", changed);
    const panel = el("div", { class: "panel", id: "scorecard", "data-form": form.form_id });
    panel.addEventListener("change", changed);
    panel.addEventListener("input", changed);
    window.addEventListener("beforeunload", (e) => { if (dirty()) { e.preventDefault(); e.returnValue = ""; } });
    // the server's limits, said in words before sending (it would refuse with a validation error)
    function tooLong(values) {
      const n = chars(values.notes);
      if (n > NOTES_MAX) return t("too_long", { what: t("notes"), n, max: NOTES_MAX });
      for (const row of rows) {
        const key = row.querySelector("select").name, c = values.comments[key] || "";
        if (chars(c) > COMMENT_MAX) return t("too_long", { what: t("comment") + " (" + row.querySelector("label span").textContent + ")", n: chars(c), max: COMMENT_MAX });
      }
      return null;
    }
    let finishedAt = mine.finished_at || null; // a finished review: saving it as a draft reopens it
    if (finishedAt && !dirty()) say(t("review_finished", { time: new Date(finishedAt).toLocaleString(AM.lang === "zh" ? "zh-CN" : "en-US", { hourCycle: "h23" }) }));
    // one save: whether the server stored it (else the page says why)
    async function store(done) {
      if (!done && finishedAt && !window.confirm(t("reopen_confirm"))) { say(t("reopen_kept")); return false; }
      const values = collect();
      const refused = tooLong(values);
      if (refused) { say(t("error") + ": " + refused, true); return false; }
      const sent = JSON.stringify(values);
      try {
        const r = await api("POST", `/api/qa/calls/${encodeURIComponent(callId)}/review`, { ...values, done });
        saved = sent;
        finishedAt = r.finished_at || null;
        score.textContent = r.score == null ? "" : t("score_now", { score: r.score.toFixed(0) });
        changed();
        if (!dirty()) say(t("saved_at", { time: new Date().toLocaleTimeString(AM.lang === "zh" ? "zh-CN" : "en-US", { hourCycle: "h23" }) }));
        return true;
      } catch (e) { say(t("error") + ": " + e.message, true); return false; }
    }
    let saving = null; // the save on its way: a promise of whether it was stored
    const save = async (done) => {
      while (saving) await saving; // one save at a time, in order
      saving = store(done);
      try { return await saving; } finally { saving = null; }
    };
    // before leaving for the next call: the save on its way, if any; whether it was stored (true when none was)
    save.settled = async () => { let ok = true; while (saving) ok = await saving; return ok; };
    // Take: a call a lead assigned to someone else asks first (qa_hold.js); who has it is looked
    // up now, not when the page was opened (it may have been assigned since)
    async function take() {
      try {
        const { qa } = await api("GET", "/api/calls/" + encodeURIComponent(callId));
        showHeld(qa);
        if (!QaHold.mayTake(qa)) { say(t("take_kept", { who: qa.assigned_to })); return; }
        showHeld(await api("POST", `/api/qa/calls/${encodeURIComponent(callId)}/assign`, { take_over: QaHold.holder(qa) }));
        say(t("in_review"));
      } catch (e) {
        if (e.status !== 409) { say(t("error") + ": " + e.message, true); return; }
        say(t("held_meanwhile"), true); // given to someone else between the look-up and the answer
        try { showHeld((await api("GET", "/api/calls/" + encodeURIComponent(callId))).qa); } catch (e2) { /* the message stands */ }
      }
    }
    panel.append(el("h2", { i18n: "scorecard" }), el("p", { class: "muted" }, t("form_version", { name: form.name, version: form.version }), " ", score),
      ...rows, el("h2", { i18n: "notes" }), notes, count,
      el("div", { class: "btns" }, el("button", { class: "act", id: "save", onclick: () => save(false) }, t("save")), " ",
        el("button", { class: "act primary", id: "save-done", onclick: () => save(true) }, t("save_done")), " ", status),
      el("p", {}, el("button", { class: "act", id: "take", onclick: take }, t("take_review"))));
    side.append(panel);
    counted();
    return save;
  }
  return { panel };
})();
