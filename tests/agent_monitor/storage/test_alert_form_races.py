"""Two supervisors at one alert, and one QA form saved twice, at the same moment, on SQLite and
PostgreSQL.

A take-over used to decide whether to acknowledge the alert first before taking the lock: when
another supervisor acknowledged it at that moment, the take-over was refused ("already
acknowledged", a 409) and nobody took the call over. The same form saved twice at once (a double
click; two first reads seeding the default form) was a conflict instead of the unchanged form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agent_monitor.errors import InvalidTransitionError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.scorecard import ScorecardForm
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import AlertState, CallStatus
from agent_monitor.storage.integrity import verify_chains
from agent_monitor.storage.tables import QaForm
from tests.agent_monitor.storage.race_support import at_once, failures

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
ROUNDS = 8
TAKERS = 4


def _red_alert(db: Database, call_id: str) -> int:
    """An alert with a handoff to supervisors on a new call, still live (a call that ended has
    nothing to take over)."""
    with db.session() as s:
        repo.ensure_agent(s, "agent-1", team="North")
        repo.start_call(s, call_id, "agent-1", source_protocol="file", started_at=T0)
        reasons = [{"kind": "rule"}]
        alert = repo.raise_alert(s, call_id, WarningLevel.RED, reasons, raised_at_s=3.0, handoff=True)
        return int(alert.id)


def _end(db: Database, call_id: str) -> None:
    with db.session() as s:
        repo.end_call(s, call_id, ended_at=T0 + timedelta(seconds=30), status=CallStatus.ENDED)


def _step(db: Database, alert_id: int, by: str, take_over: bool) -> Callable[[], None]:
    def job() -> None:
        with db.session() as s:
            if take_over:
                repo.take_over(s, alert_id, by)
            else:
                repo.acknowledge_alert(s, alert_id, by)

    return job


def test_a_take_over_while_another_supervisor_acknowledges_takes_the_call_over(db: Database) -> None:
    for n in range(ROUNDS):
        alert_id = _red_alert(db, f"c-{n}")
        jobs = [_step(db, alert_id, "sup-ack", take_over=False)]
        jobs += [_step(db, alert_id, f"sup-{k}", take_over=True) for k in range(TAKERS)]
        results = at_once(jobs)
        _end(db, f"c-{n}")
        assert not failures(results, InvalidTransitionError), results
        assert sum(r is None for r in results[1:]) == 1, results  # one take-over, the others a 409
        with db.session() as s:
            handoff = repo.get_handoff(s, alert_id)
            assert handoff is not None and handoff.taken_over_by is not None, results
            assert repo.get_alert(s, alert_id).state is AlertState.ACKNOWLEDGED
    with db.session() as s:
        assert all(r.ok for r in verify_chains(s))


FORM = {"name": "calls", "title": "Calls", "items": [{"key": "greet", "en": "Greets"}]}


def test_the_same_form_saved_at_once_is_one_version(db: Database) -> None:
    for n in range(ROUNDS):
        form = ScorecardForm.parse({**FORM, "title": f"Calls {n}"})

        def save(form: ScorecardForm = form) -> int:
            with db.session() as s:
                return int(repo.save_form(s, form, "admin1").version)

        versions = at_once([save] * 6)
        assert versions == [n + 1] * 6, versions
    with db.session() as s:
        assert [f.version for f in repo.list_forms(s) if f.name == "calls"] == list(range(1, ROUNDS + 1))


def test_first_reads_at_once_seed_the_default_form_once(db: Database) -> None:
    def current() -> int:
        with db.session() as s:
            return int(repo.current_form(s).id)

    ids = at_once([current] * 6)
    assert len(set(ids)) == 1, ids
    with db.session() as s:
        assert s.query(QaForm).count() == 1
