"""The database writes of a call session, as data: a :class:`Write` names an operation and its
arguments, so a write can wait in memory, be spilled to the call's journal on disk as a JSON line
(:mod:`agent_monitor.pipeline.journal`) and be run later, after a database outage or a restart.

:func:`run_write` runs one in a :class:`~sqlalchemy.orm.Session` (in a worker thread, in its own
transaction; :class:`agent_monitor.pipeline.store.CallStore`) and returns a plain value (ids,
numbers), never an ORM object. Every write is **idempotent**: running it again (a journal
replayed after a crash) leaves the same rows: utterances are keyed by (call, leg, number), rule
hits and alerts by the ``key`` (a uuid) the live pipeline gave them, stress batches by their
first sample, and the rest set values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_monitor.errors import NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RuleHit
from agent_monitor.model.session import CallInfo, Holder, LevelReason
from agent_monitor.model.stress import StressSample
from agent_monitor.model.transcript import Transcript
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import RecordingInfo
from agent_monitor.storage.tables import Alert, RuleHitRow, SignalHealthRow, StressSampleRow, Utterance

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Write:
    """One database write of a call: ``OPS[op](session, **args)``."""

    op: str
    args: Mapping[str, Any] = field(default_factory=dict)


def run_write(session: Session, write: Write) -> Any:
    try:
        fn = OPS[write.op]
    except KeyError:
        raise NotFoundError(f"unknown write operation {write.op!r}") from None
    return fn(session, **write.args)


def refuse_held_elsewhere(call_id: str, node: str, present: Collection[str]) -> Callable[[Session], None]:
    """A :class:`ConflictError` when the call is live on another node of the floor whose presence
    is current (:func:`repo.refuse_held_elsewhere`): asked before a resume touches its recordings."""

    def job(s: Session) -> None:
        repo.refuse_held_elsewhere(s, call_id, node, present)

    return job


def open_call(
    info: CallInfo, holder: Holder, present: Collection[str] | None = None
) -> Callable[[Session], tuple[CallInfo, bool, dict[Leg, int]]]:
    """Start (or resume) the call row, held by process ``holder``; returns (the call's info,
    resumed, next utterance number per leg). A resumed call keeps the debt and consent it was
    stored with (what it was judged by and what its seal covers), whatever the reconnecting client
    says now: the info returned has them. ``present``: the floor's nodes whose presence is current
    (a call live on one of them is refused, :func:`repo.start_call`)."""

    def job(s: Session) -> tuple[CallInfo, bool, dict[Leg, int]]:
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
            debt_id=info.debt_id,
            consented=info.consented,
            holder=holder,
            present=present,
        )
        nxt: dict[Leg, int] = {}
        for leg in Leg:
            top = s.scalar(
                select(func.max(Utterance.utterance_no)).where(
                    Utterance.call_id == info.call_id, Utterance.leg == leg
                )
            )
            nxt[leg] = 0 if top is None else int(top) + 1
        if resumed:
            debt_id, consented = repo.call_debt(s, info.call_id)
            return replace(info, debt_id=debt_id, consented=consented), resumed, nxt
        return info, resumed, nxt

    return job


@dataclass(frozen=True, slots=True)
class CallHistory:
    """What a resumed call's new session needs to know of the sessions before it."""

    #: the final transcripts per leg, in call order (replayed into the new rule checkers)
    finals: Mapping[Leg, Sequence[Transcript]]
    #: (leg, rule) of the call-level findings stored (a must-say rule reported missed)
    findings: frozenset[tuple[Leg | None, str]]


def call_history(call_id: str) -> Callable[[Session], CallHistory]:
    """The stored history of a call that is resumed."""

    def job(s: Session) -> CallHistory:
        finals = {
            leg: [repo.to_transcript(u) for u in repo.list_utterances(s, call_id, leg=leg, final_only=True)]
            for leg in Leg
        }
        rows = repo.list_rule_hits(s, call_id)
        findings = frozenset((r.leg, r.rule_id) for r in rows if r.utterance_no is None)
        return CallHistory(finals, findings)

    return job


# --- the operations --------------------------------------------------------------------------------
def _register_recording(
    s: Session, call_id: str, leg: Leg, path: str, rate: int, at: datetime, writer: str | None = None
) -> int:  # a journal written before ``writer`` existed names none
    return repo.register_recording(s, call_id, leg, path, rate, started_at=at, writer=writer).id


def _recording_progress(s: Session, call_id: str, leg: Leg, bytes_written: int) -> None:
    repo.update_recording_progress(
        s, call_id, leg, bytes_written=bytes_written, samples_written=bytes_written // 2
    )


def _close_recording(s: Session, call_id: str, leg: Leg, info: RecordingInfo, at: datetime) -> None:
    repo.close_recording(
        s,
        call_id,
        leg,
        bytes_written=info.bytes_written,
        samples_written=info.samples_written,
        sha256=info.sha256,
        closed_at=at,
    )


def _save_utterance(s: Session, call_id: str, transcript: Transcript) -> int:
    return repo.save_utterance(s, call_id, transcript).id


def _hit_by_key(s: Session, key: str) -> RuleHitRow | None:
    return s.scalars(select(RuleHitRow).where(RuleHitRow.key == key)).one_or_none()


def _save_hit(s: Session, call_id: str, key: str, hit: RuleHit, status: HitStatus) -> int:
    row = _hit_by_key(s, key)
    if row is None:
        row = repo.save_rule_hit(s, call_id, hit, status=status)
        row.key = key
    return row.id


def _settle_hit(s: Session, call_id: str, key: str, status: HitStatus, hit: RuleHit) -> int:
    """Confirm a provisional hit with the final transcript's evidence and times, or withdraw it."""
    found = _hit_by_key(s, key)
    if found is None:
        raise NotFoundError(f"rule hit {key} not found in call {call_id!r}")
    row = repo.set_rule_hit_status(s, found.id, status)
    if status is HitStatus.CONFIRMED:
        _update_evidence(s, call_id, row, hit)
    return row.id


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


def _add_stress(s: Session, call_id: str, samples: Sequence[StressSample]) -> int:
    if not samples:
        return 0
    first = samples[0]
    stored = s.scalar(
        select(StressSampleRow.id).where(
            StressSampleRow.call_id == call_id,
            StressSampleRow.leg == first.leg,
            StressSampleRow.t_s == float(first.t),
        )
    )
    if stored is not None:  # this batch was written before (a replayed journal)
        return 0
    return repo.add_stress_samples(s, call_id, samples)


def _save_health(s: Session, call_id: str, t: float, health: LegHealth) -> int:
    stored = s.scalar(
        select(SignalHealthRow.id).where(
            SignalHealthRow.call_id == call_id,
            SignalHealthRow.leg == health.leg,
            SignalHealthRow.issue == health.issue,
            SignalHealthRow.active == health.active,
            SignalHealthRow.t_s == float(t),
        )
    )
    if stored is not None:  # written before (a replayed journal)
        return int(stored)
    return repo.save_signal_health(s, call_id, t, health).id


def _raise_alert(
    s: Session,
    call_id: str,
    key: str,
    level: WarningLevel,
    reasons: Sequence[LevelReason],
    t: float,
    at: datetime,
    handoff: bool,
) -> int:
    stored = s.scalar(select(Alert.id).where(Alert.key == key))
    if stored is not None:
        return int(stored)
    alert = repo.raise_alert(
        s,
        call_id,
        level,
        [r.to_dict() for r in reasons],
        raised_at_s=t,
        raised_at=at,
        handoff=handoff,
    )
    alert.key = key
    return alert.id


def _enqueue_qa(s: Session, call_id: str, level: WarningLevel, reason: str, at: datetime) -> int:
    return repo.enqueue_for_qa(s, call_id, level, reason, at=at).id


def _end_call(s: Session, call_id: str, status: CallStatus, at: datetime, instance: str = "") -> None:
    """(``instance`` is absent from journals written before it was kept: such an end is written.)"""
    if repo.end_call(s, call_id, ended_at=at, status=status, instance=instance).status is CallStatus.LIVE:
        log.warning("call %s: not marked %s: another process resumed it and holds it", call_id, status.value)


#: every write operation by name (the names are stored in journals: never rename one)
OPS: dict[str, Callable[..., Any]] = {
    "register_recording": _register_recording,
    "recording_progress": _recording_progress,
    "close_recording": _close_recording,
    "save_utterance": _save_utterance,
    "save_hit": _save_hit,
    "settle_hit": _settle_hit,
    "add_stress": _add_stress,
    "save_health": _save_health,
    "raise_alert": _raise_alert,
    "enqueue_qa": _enqueue_qa,
    "end_call": _end_call,
}


# --- constructors, as the session calls them ------------------------------------------------------
def register_recording(call_id: str, leg: Leg, path: str, rate: int, at: datetime, writer: str) -> Write:
    payload = {"call_id": call_id, "leg": leg, "path": path, "rate": rate, "at": at, "writer": writer}
    return Write("register_recording", payload)


def recording_progress(call_id: str, leg: Leg, bytes_written: int) -> Write:
    return Write("recording_progress", {"call_id": call_id, "leg": leg, "bytes_written": bytes_written})


def close_recording(call_id: str, leg: Leg, info: RecordingInfo, at: datetime) -> Write:
    return Write("close_recording", {"call_id": call_id, "leg": leg, "info": info, "at": at})


def save_utterance(call_id: str, transcript: Transcript) -> Write:
    return Write("save_utterance", {"call_id": call_id, "transcript": transcript})


def save_hit(call_id: str, key: str, hit: RuleHit, status: HitStatus) -> Write:
    return Write("save_hit", {"call_id": call_id, "key": key, "hit": hit, "status": status})


def settle_hit(call_id: str, key: str, status: HitStatus, hit: RuleHit) -> Write:
    return Write("settle_hit", {"call_id": call_id, "key": key, "status": status, "hit": hit})


def add_stress(call_id: str, samples: Sequence[StressSample]) -> Write:
    return Write("add_stress", {"call_id": call_id, "samples": list(samples)})


def save_health(call_id: str, t: float, health: LegHealth) -> Write:
    return Write("save_health", {"call_id": call_id, "t": t, "health": health})


def raise_alert(
    call_id: str,
    key: str,
    level: WarningLevel,
    reasons: Sequence[LevelReason],
    t: float,
    at: datetime,
    handoff: bool,
) -> Write:
    args = {"call_id": call_id, "key": key, "level": level, "reasons": list(reasons)}
    return Write("raise_alert", {**args, "t": t, "at": at, "handoff": handoff})


def enqueue_qa(call_id: str, level: WarningLevel, reason: str, at: datetime) -> Write:
    return Write("enqueue_qa", {"call_id": call_id, "level": level, "reason": reason, "at": at})


def end_call(call_id: str, status: CallStatus, at: datetime, instance: str) -> Write:
    """The call's end, written only while process ``instance`` still holds it (:func:`repo.end_call`)."""
    return Write("end_call", {"call_id": call_id, "status": status, "at": at, "instance": instance})
