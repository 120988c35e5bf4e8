// Supervisor live wall: wires the wall's modules (wall_*.js) to the server. The tiles (wall_tiles),
// sorted and filtered for triage (wall_triage), the alert feed with its actions (wall_alerts),
// hand-off pop-ups (wall_popups) with the sound notice (wall_sound), listen-in (wall_listen), and
// the live connection that knows when it is dead (live_conn, shared with the agent page). Events arrive on /ws/ui/live; the
// wall is (re)loaded from /api/wall on every (re)connection, and what changed while it was away is
// set right: alerts closed meanwhile leave the feed, hand-offs someone took leave the dock.
"use strict";
(() => {
  const { el } = AM;
  const Tiles = WallTiles, Alerts = WallAlerts, Popups = WallPopups, Triage = WallTriage;
  let graceS = 30;
  const empty = el("p", { class: "muted", id: "no-live", i18n: "no_live" });
  AM.main.append(LiveConn.banner, WallSound.note,
    el("div", { class: "layout" },
      el("section", {}, el("h1", { i18n: "live_calls" }), Triage.bar, Popups.dock, empty, Tiles.grid),
      Alerts.feed));

  // an alert changed (raised, acknowledged, taken over...): its call's tile shows when and who
  Alerts.listen((a) => { const s = Tiles.calls.get(a.call_id); if (s) { Tiles.noteAlert(s, a); Triage.schedule(); } });

  function show(tile) {
    const s = Tiles.ensure(tile.call, { team: tile.team });
    Tiles.setLevel(s, tile.level);
    tile.utterances.forEach((u) => Tiles.addLine(s, u));
    if (!s.stress.length) tile.stress.forEach((x) => Tiles.addStress(s, x));
    tile.health.forEach((h) => Tiles.applyHealth(s, h));
    tile.alerts.forEach((a) => Alerts.upsert(a));
    if (tile.last_alert_at) Tiles.noteAlert(s, { raised_at: tile.last_alert_at, owner: s.owner });
    tile.handoffs.forEach((h) => Popups.show(h));
    if (!tile.live) end(tile.call.call_id);
    Triage.schedule();
    return s;
  }
  // a call new to this wall: its tile is fetched; its events meanwhile wait, then are applied
  const waiting = new Map(); // call_id -> events that came while its tile was being fetched
  async function fetchTile(ev) {
    if (waiting.has(ev.call_id)) { waiting.get(ev.call_id).push(ev); return; }
    waiting.set(ev.call_id, [ev]);
    let tile = null;
    try { tile = await AM.api("GET", "/api/wall/calls/" + encodeURIComponent(ev.call_id)); }
    catch (e) { console.info("no tile for", ev.call_id, e.message); }
    const queued = waiting.get(ev.call_id);
    waiting.delete(ev.call_id);
    if (tile) { show(tile); queued.forEach(onEvent); }
  }
  async function load() {
    const known = new Set(Tiles.calls.keys()); // a call first seen while the list is on its way is not in it
    // likewise for alerts, hand-offs and dismissals
    const before = { alerts: Alerts.ids(), popups: Popups.ids(), dismissed: Popups.dismissedIds() };
    const data = await AM.api("GET", "/api/wall");
    graceS = data.ended_grace_s;
    Alerts.setResolvedGrace(data.resolved_grace_s);
    Popups.setEscalateAfter(data.escalate_after_s);
    const live = new Set(data.calls.map((c) => c.call.call_id));
    data.calls.forEach(show);
    // what the list no longer holds of a call was closed (resolved) or taken while the wall was away
    // (one seen resolved here leaves when its grace is over)
    data.calls.forEach((tile) => {
      const open = new Set(tile.alerts.map((a) => a.alert_id));
      const waiting = new Set(tile.handoffs.map((h) => h.alert_id));
      const closed = (id) => before.alerts.has(id) && !open.has(id) && Alerts.get(id)?.state !== "resolved";
      Alerts.ofCallIds(tile.call.call_id).forEach((id) => { if (closed(id)) Alerts.drop(id); });
      Popups.ofCallIds(tile.call.call_id).forEach((id) => { if (before.popups.has(id) && !waiting.has(id)) Popups.remove(id); });
    });
    // calls that ended while the wall was not connected (not those that started during the load)
    Tiles.calls.forEach((s, id) => { if (known.has(id) && !live.has(id) && !s.ended) end(id); });
    Popups.keepCalls(live, before.dismissed); // the list came whole: dismissals of calls ended meanwhile go
  }
  function end(callId) {
    const s = Tiles.calls.get(callId);
    if (s && !s.ended) {
      Tiles.end(s);
      setTimeout(() => { Tiles.remove(callId); Alerts.removeCall(callId); Triage.schedule(); }, graceS * 1000);
    }
    Alerts.endCall(callId);
    Popups.removeCall(callId);
    Triage.schedule();
  }
  function onEvent(ev) {
    if (ev.type === "call_started") { // shown at once; the team and what is stored come with the tile
      const info = ev.info;
      Tiles.ensure({ call_id: ev.call_id, agent_id: info.agent_id, started_at: info.started_at });
      Triage.schedule();
      AM.api("GET", "/api/wall/calls/" + encodeURIComponent(ev.call_id)).then(show, (e) => console.info("no tile yet", e.message));
      return;
    }
    const s = Tiles.calls.get(ev.call_id);
    if (!s && ev.type !== "call_ended") { fetchTile(ev); return; }
    switch (ev.type) {
      case "transcript": Tiles.addLine(s, ev); break;
      case "stress": Tiles.addStress(s, ev.sample); break;
      case "signal_health": Tiles.applyHealth(s, { ...ev.health, t: ev.t }); break;
      case "level_changed": Tiles.setLevel(s, ev.level); Triage.schedule(); break;
      case "alert_raised": {
        const pending = ev.alert_id == null;
        Alerts.upsert({ alert_id: pending ? ev.alert_key : ev.alert_id, call_id: ev.call_id, agent_id: ev.agent_id,
          level: ev.level, reasons: ev.reasons, state: "raised", pending, handoff: Boolean(ev.high_sensitivity),
          raised_at: new Date().toISOString() });
        Tiles.setLevel(s, ev.level);
        Triage.schedule();
        break;
      }
      case "alert_stored": Alerts.stored(ev); break;
      case "handoff_requested": Popups.show(ev); Alerts.handoffRequested(ev.alert_id); break;
      case "handoff_escalated": Popups.escalate(ev.alert_id); Alerts.escalate(ev.alert_id); break;
      case "alert_state": Alerts.stateChanged(ev); Popups.remove(ev.alert_id); break;
      case "call_ended": end(ev.call_id); break;
    }
  }
  LiveConn.connect({}, onEvent, () => load().catch((e) => AM.main.prepend(el("p", { class: "error" }, e.message))));
})();
