"""Taking over the alert of a call that is not live, on a real server over SQLite and PostgreSQL.

A take-over of an ended (or aborted) call's alert used to answer 200, record ``taken_over`` in the
alert's hash-chained events and ask the phone system (its hook) to listen, whisper or barge into a
call that no longer existed. Now it is a 409 naming the call, nothing is recorded and the hook is
not called; acknowledging and resolving such an alert stay allowed. The stored call status decides,
not the server's own sessions: a call stored live but held by another node of a floor (here: by
no session of this server) is taken over."""

from __future__ import annotations

from typing import Any

import httpx

from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.integrity import verify_chains
from tests.web.hook_receiver import Receiver
from tests.web.ui_support import login
from tests.web.wall_support import Floor, add_user

PATHS = ("/api/alerts/{}/take_over", "/api/wall/alerts/{}/take_over")


def _chain(db: Any, alert_id: int) -> list[tuple[Any, ...]]:
    """The alert's recorded steps, its state and its hand-off's taker."""
    with db.session() as s:
        steps = [(e.id, e.action.value, e.actor, e.note) for e in repo.alert_events(s, alert_id)]
        handoff = repo.get_handoff(s, alert_id)
        assert handoff is not None
        return [*steps, (repo.get_alert(s, alert_id).state.value, handoff.taken_over_by)]


def test_an_ended_call_s_alert_is_not_taken_over(make_server: Any) -> None:
    receiver = Receiver()
    try:
        server = make_server(phone_hook={"url": receiver.url, "timeout_s": 2.0})
        db = server.services.db
        add_user(db, "sam", "supervisor", team="east")
        floor = Floor(server)
        ended = floor.start("ended-1", "E-1", team="east")
        ended_id = floor.alert(ended, WarningLevel.RED, "threat of violence")
        floor.end(ended)
        aborted = floor.start("aborted-1", "E-2", team="east")
        aborted_id = floor.alert(aborted, WarningLevel.RED, "abusive language")
        with db.session() as s:
            assert repo.abort_call(s, "aborted-1")  # its node died
        elsewhere = floor.start("elsewhere-1", "E-3", team="east")  # stored live, no session here
        elsewhere_id = floor.alert(elsewhere, WarningLevel.RED, "abusive language")
        assert server.services.manager.get("elsewhere-1") is None
        before = {a: _chain(db, a) for a in (ended_id, aborted_id)}
        with httpx.Client(base_url=server.url, timeout=30) as client:
            csrf = login(client, "sam")
            for alert_id, call_id in ((ended_id, "ended-1"), (aborted_id, "aborted-1")):
                for path in PATHS:
                    body = {"mode": "barge", "note": "too late"}
                    r = client.post(path.format(alert_id), json=body, headers=csrf)
                    assert r.status_code == 409, (path, r.status_code, r.text)
                    detail = f"call {call_id!r} has ended: there is nothing to take over"
                    assert r.json() == {"detail": detail}
                assert _chain(db, alert_id) == before[alert_id]  # nothing recorded
            assert receiver.bodies == []  # the phone system was not asked
            # the alert of an ended call can still be closed
            for action in ("acknowledge", "resolve"):
                r = client.post(f"/api/alerts/{ended_id}/{action}", json={}, headers=csrf)
                assert r.status_code == 200, (action, r.text)
            # a call live on another node of the floor (its stored status says so) is taken over
            r = client.post(PATHS[1].format(elsewhere_id), json={"mode": "whisper"}, headers=csrf)
            assert r.status_code == 200, r.text
            assert r.json()["alert"]["taken_over_by"] == "sam" and r.json()["hook"]["ok"], r.json()
        assert [(b["call_id"], b["action"]) for b in receiver.bodies] == [("elsewhere-1", "whisper")]
        with db.session() as s:
            assert all(report.ok for report in verify_chains(s))
    finally:
        receiver.close()
