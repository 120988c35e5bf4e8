// Who holds a queued call, for the QA queue and the review page: the reviewer it is with, and who
// assigned it to them when that was someone else ("Assigned to": a lead's hand assignment, which
// never lapses; qa_queue.assigned_by). Taking such a call for oneself ("Take", or oneself in
// "Assigned to") asks first; taking a call nobody holds, one's own, or one a reviewer took for
// themself (a claim, which lapses) stays one click.
"use strict";
Object.assign(window.I18N.en, {
  assigned_by: "(assigned by {by})", held_by: "{state}: {who}",
  take_held_confirm: "{by} assigned this call to {who}. Take it over from them for yourself?",
  take_kept: "Not taken: the call stays with {who}.",
  held_meanwhile: "Not assigned: the call was given to someone else meanwhile; it now shows who has it.",
});
Object.assign(window.I18N.zh, {
  assigned_by: "（由 {by} 分配）", held_by: "{state}：{who}",
  take_held_confirm: "此通话由 {by} 分配给了 {who}。要从其手中接过来由你质检吗？",
  take_kept: "未领取：通话仍由 {who} 质检。",
  held_meanwhile: "未分配：此通话在此期间已分配给他人；现已显示当前质检员。",
});
const QaHold = (() => {
  const { t } = AM;
  // "(assigned by lead)" for a hand assignment, "" otherwise
  const byNote = (entry) => (entry && entry.assigned_to && entry.assigned_by ? t("assigned_by", { by: entry.assigned_by }) : "");
  // "alice (assigned by lead)", "alice", or "" for a call nobody holds
  const who = (entry) => (entry && entry.assigned_to ? entry.assigned_to + (byNote(entry) && (AM.lang === "zh" ? "" : " ")) + byNote(entry) : "");
  // who holds it by a hand assignment (in review, given by someone else), as the take_over of an assignment; undefined if nobody
  const holder = (entry) => (entry && entry.state === "in_review" && entry.assigned_to && entry.assigned_by ? entry.assigned_to : undefined);
  // held for someone else by a hand assignment
  const heldForOther = (entry) => !!holder(entry) && holder(entry) !== AM.user.name;
  // may I take it for myself? asks (the same confirm as reopening a finished review) only when it is held for another
  // (question: the message key, for putting it back in the queue rather than taking it)
  const mayTake = (entry, question = "take_held_confirm") => !heldForOther(entry) || window.confirm(t(question, { by: entry.assigned_by, who: entry.assigned_to }));
  // "in review: alice (assigned by lead)", or "" for a call nobody holds
  const line = (entry) => (entry && entry.assigned_to ? t("held_by", { state: t(entry.state), who: who(entry) }) : "");
  return { byNote, who, line, holder, heldForOther, mayTake };
})();
