"""Rule hits and the stress timeline of a call, stored from the data model's types."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError, NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleHit
from agent_monitor.model.stress import StressSample
from agent_monitor.storage.enums import HitStatus
from agent_monitor.storage.repo.calls import get_call
from agent_monitor.storage.tables import RuleHitRow, StressSampleRow, Utterance


def save_rule_hit(
    session: Session,
    call_id: str,
    hit: RuleHit,
    *,
    status: HitStatus = HitStatus.PROVISIONAL,
    utterance_id: int | None = None,
) -> RuleHitRow:
    """Store a rule hit. Without ``utterance_id`` the stored utterance with the hit's leg and
    utterance number is linked when it exists. Returns the row; its ``id`` is what
    :func:`set_rule_hit_status` and alert ``reasons`` refer to."""
    get_call(session, call_id)
    if utterance_id is not None:
        utt = session.get(Utterance, utterance_id)
        if utt is None or utt.call_id != call_id:
            raise NotFoundError(f"utterance {utterance_id} not found in call {call_id!r}")
    elif hit.leg is not None and hit.utterance is not None:
        utterance_id = session.scalars(
            select(Utterance.id).where(
                Utterance.call_id == call_id,
                Utterance.leg == hit.leg,
                Utterance.utterance_no == hit.utterance,
            )
        ).one_or_none()
    if hit.start is not None and hit.end is not None and hit.end < hit.start:
        raise InvalidRecordError(f"rule hit {hit.rule}: end {hit.end} is before start {hit.start}")
    row = RuleHitRow(
        call_id=call_id,
        utterance_id=utterance_id,
        utterance_no=hit.utterance,
        leg=None if hit.leg is None else Leg(hit.leg),
        rule_id=hit.rule,
        title=hit.title,
        category=hit.category,
        severity=str(hit.severity),
        span_start=hit.span[0] if hit.span else None,
        span_end=hit.span[1] if hit.span else None,
        evidence=hit.evidence,
        reason=hit.reason,
        citation=hit.citation,
        compliant=hit.compliant,
        start_s=None if hit.start is None else float(hit.start),
        end_s=None if hit.end is None else float(hit.end),
        status=HitStatus(status),
    )
    session.add(row)
    session.flush()
    return row


def set_rule_hit_status(session: Session, hit_id: int, status: HitStatus) -> RuleHitRow:
    """Confirm (the final transcript agrees) or withdraw (it does not) a provisional hit."""
    row = session.get(RuleHitRow, hit_id)
    if row is None:
        raise NotFoundError(f"rule hit {hit_id} not found")
    row.status = HitStatus(status)
    return row


def list_rule_hits(
    session: Session, call_id: str, *, include_withdrawn: bool = False, leg: Leg | None = None
) -> list[RuleHitRow]:
    """The call's hits in call-clock order (hits without times last)."""
    stmt = (
        select(RuleHitRow)
        .where(RuleHitRow.call_id == call_id)
        .order_by(RuleHitRow.start_s.is_(None), RuleHitRow.start_s, RuleHitRow.id)
    )
    if not include_withdrawn:
        stmt = stmt.where(RuleHitRow.status != HitStatus.WITHDRAWN)
    if leg is not None:
        stmt = stmt.where(RuleHitRow.leg == leg)
    return list(session.scalars(stmt))


def to_rule_hit(row: RuleHitRow) -> RuleHit:
    """The data-model :class:`RuleHit` of a stored row."""
    from agent_monitor.model.rules import Severity

    span = None if row.span_start is None or row.span_end is None else (row.span_start, row.span_end)
    return RuleHit(
        rule=row.rule_id,
        title=row.title,
        category=row.category,
        severity=Severity(row.severity),
        leg=row.leg,
        span=span,
        evidence=row.evidence,
        reason=row.reason,
        citation=row.citation,
        compliant=row.compliant,
        utterance=row.utterance_no,
        start=row.start_s,
        end=row.end_s,
    )


def add_stress_samples(session: Session, call_id: str, samples: Iterable[StressSample]) -> int:
    """Append stress readings (each carries its leg); returns how many were stored."""
    get_call(session, call_id)
    rows = []
    for s in samples:
        if not 0.0 <= s.score <= 100.0:
            raise InvalidRecordError(f"stress score {s.score} at {s.t:.2f} s is outside 0..100")
        rows.append(
            {
                "call_id": call_id,
                "leg": Leg(s.leg),
                "t_s": float(s.t),
                "score": float(s.score),
                "level": s.level,
                "baseline": s.baseline,
                "raw": None if s.raw is None else float(s.raw),
                "speech_s": float(s.speech_s),
            }
        )
    if rows:
        session.execute(insert(StressSampleRow), rows)
    return len(rows)


def stress_timeline(session: Session, call_id: str, leg: Leg = Leg.DEBTOR) -> list[StressSample]:
    """The leg's stress readings in time order, as data-model samples."""
    stmt = (
        select(StressSampleRow)
        .where(StressSampleRow.call_id == call_id, StressSampleRow.leg == leg)
        .order_by(StressSampleRow.t_s, StressSampleRow.id)
    )
    return [
        StressSample(
            t=r.t_s,
            score=r.score,
            level=r.level,
            baseline=r.baseline,
            raw=r.raw,
            speech_s=r.speech_s,
            leg=r.leg,
        )
        for r in session.scalars(stmt)
    ]
