"""Utterances (partial and final transcripts per leg) with their words."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from agent_monitor.model.audio import Leg
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage.repo.calls import get_call
from agent_monitor.storage.search import searchable
from agent_monitor.storage.tables import Utterance, WordRow


def save_utterance(session: Session, call_id: str, transcript: Transcript) -> Utterance:
    """Store ``transcript``, replacing the earlier partial/final of the same leg and utterance
    number (text, times, words). Returns the stored row (its ``id`` is what rule hits refer to)."""
    get_call(session, call_id)
    row = session.scalars(
        select(Utterance)
        .where(
            Utterance.call_id == call_id,
            Utterance.leg == transcript.leg,
            Utterance.utterance_no == transcript.utterance,
        )
        .options(selectinload(Utterance.words))
    ).one_or_none()
    if row is None:
        row = Utterance(call_id=call_id, leg=transcript.leg, utterance_no=transcript.utterance)
        session.add(row)
    row.start_s, row.end_s = float(transcript.start), float(transcript.end)
    row.text, row.final, row.lang = transcript.text, transcript.final, transcript.lang
    row.search_text = searchable(transcript.text)
    row.words = [
        WordRow(idx=i, text=w.text, start_s=float(w.start), end_s=float(w.end), conf=float(w.conf))
        for i, w in enumerate(transcript.words)
    ]
    session.flush()
    return row


def list_utterances(
    session: Session, call_id: str, *, leg: Leg | None = None, final_only: bool = False
) -> list[Utterance]:
    """The call's utterances in call-clock order, words loaded."""
    stmt = (
        select(Utterance)
        .where(Utterance.call_id == call_id)
        .options(selectinload(Utterance.words))
        .order_by(Utterance.start_s, Utterance.leg, Utterance.utterance_no)
    )
    if leg is not None:
        stmt = stmt.where(Utterance.leg == leg)
    if final_only:
        stmt = stmt.where(Utterance.final.is_(True))
    return list(session.scalars(stmt))


def to_transcript(row: Utterance) -> Transcript:
    """The data-model :class:`Transcript` of a stored utterance."""
    return Transcript(
        leg=row.leg,
        utterance=row.utterance_no,
        start=row.start_s,
        end=row.end_s,
        text=row.text,
        final=row.final,
        words=tuple(Word(w.text, w.start_s, w.end_s, w.conf) for w in row.words),
        lang=row.lang,
    )
