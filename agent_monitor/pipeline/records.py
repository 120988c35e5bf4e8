"""The database writes of a call session, as functions of a :class:`~sqlalchemy.orm.Session`.

Each returns a plain value (ids, numbers), never an ORM object, because it runs in a worker thread
inside its own transaction (:class:`agent_monitor.pipeline.store.CallStore`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_monitor.errors import NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import LegHealth
from agent_monitor.model.rules import HitStatus, RuleHit
from agent_monitor.model.session import CallInfo, LevelReason, WarningLevel
from agent_monitor.model.stress import StressSample
from agent_monitor.model.transcript import Transcript
from agent_monitor.storage import CallStatus, Level, repo
from agent_monitor.storage.recordings import RecordingInfo
from agent_monitor.storage.tables import RuleHitRow, Utterance

Job = Callable[[Session], object]


def open_call(info: CallInfo) -> Callable[[Session], tuple[bool, dict[Leg, int]]]:
    """Start (or resume) the call row; returns (resumed, next utterance number per leg)."""

    def job(s: Session) -> tuple[bool, dict[Leg, int]]:
        try:
            repo.get_call(s, info.call_id)
            resumed = True
        except NotFoundError:
            resumed = False
        repo.start_call(
            s,
            info.call_id,
            info.agent_id,
            source_protocol=info.source,
            started_at=info.started_at,
            debtor_id=info.debtor_id,
            debtor_phone=info.debtor_phone,
            debtor_tz=info.debtor_tz,
            lang=info.lang,
            resume=True,
        )
        nxt: dict[Leg, int] = {}
        for leg in Leg:
            top = s.scalar(
                select(func.max(Utterance.utterance_no)).where(
                    Utterance.call_id == info.call_id, Utterance.leg == leg
                )
            )
            nxt[leg] = 0 if top is None else int(top) + 1
        return resumed, nxt

    return job


def register_recording(call_id: str, leg: Leg, path: str, rate: int, at: datetime) -> Job:
    def job(s: Session) -> int:
        return repo.register_recording(s, call_id, leg, path, rate, started_at=at).id

    return job


def recording_progress(call_id: str, leg: Leg, bytes_written: int) -> Job:
    def job(s: Session) -> None:
        repo.update_recording_progress(
            s, call_id, leg, bytes_written=bytes_written, samples_written=bytes_written // 2
        )

    return job


def close_recording(call_id: str, leg: Leg, info: RecordingInfo, at: datetime) -> Job:
    def job(s: Session) -> None:
        repo.close_recording(
            s,
            call_id,
            leg,
            bytes_written=info.bytes_written,
            samples_written=info.samples_written,
            sha256=info.sha256,
            closed_at=at,
        )

    return job


def save_utterance(call_id: str, transcript: Transcript) -> Callable[[Session], int]:
    def job(s: Session) -> int:
        return repo.save_utterance(s, call_id, transcript).id

    return job


def save_hit(call_id: str, hit: RuleHit, status: HitStatus) -> Callable[[Session], int]:
    def job(s: Session) -> int:
        return repo.save_rule_hit(s, call_id, hit, status=status).id

    return job


def settle_hit(call_id: str, hit_id: int, status: HitStatus, hit: RuleHit) -> Callable[[Session], int]:
    """Confirm a provisional hit with the final transcript's evidence and times, or withdraw it."""

    def job(s: Session) -> int:
        row = repo.set_rule_hit_status(s, hit_id, status)
        if status is HitStatus.CONFIRMED:
            _update_evidence(s, call_id, row, hit)
        return hit_id

    return job


def _update_evidence(s: Session, call_id: str, row: RuleHitRow, hit: RuleHit) -> None:
    row.span_start = hit.span[0] if hit.span else None
    row.span_end = hit.span[1] if hit.span else None
    row.evidence, row.reason = hit.evidence, hit.reason
    row.start_s = None if hit.start is None else float(hit.start)
    row.end_s = None if hit.end is None else float(hit.end)
    if row.utterance_id is None and hit.leg is not None and hit.utterance is not None:
        row.utterance_id = s.scalars(
            select(Utterance.id).where(
                Utterance.call_id == call_id,
                Utterance.leg == hit.leg,
                Utterance.utterance_no == hit.utterance,
            )
        ).one_or_none()


def add_stress(call_id: str, samples: Sequence[StressSample]) -> Job:
    def job(s: Session) -> int:
        return repo.add_stress_samples(s, call_id, samples)

    return job


def save_health(call_id: str, t: float, health: LegHealth) -> Callable[[Session], int]:
    def job(s: Session) -> int:
        return repo.save_signal_health(s, call_id, t, health).id

    return job


def raise_alert(
    call_id: str,
    level: WarningLevel,
    reasons: Sequence[LevelReason],
    t: float,
    at: datetime,
    handoff: bool,
) -> Callable[[Session], int]:
    def job(s: Session) -> int:
        alert = repo.raise_alert(
            s,
            call_id,
            Level(level.value),
            [r.to_dict() for r in reasons],
            raised_at_s=t,
            raised_at=at,
            handoff=handoff,
        )
        return alert.id

    return job


def enqueue_qa(call_id: str, level: WarningLevel, reason: str, at: datetime) -> Job:
    def job(s: Session) -> int:
        return repo.enqueue_for_qa(s, call_id, Level(level.value), reason, at=at).id

    return job


def end_call(call_id: str, status: CallStatus, at: datetime) -> Job:
    def job(s: Session) -> None:
        repo.end_call(s, call_id, ended_at=at, status=status)

    return job
