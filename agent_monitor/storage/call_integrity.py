"""One call's stored evidence checked against its seals, for the evidence export.

``db verify`` (:func:`~agent_monitor.storage.evidence.verify_all`) checks the whole database; an
export needs the same answer for one call, fast, before it hands out a package whose
``SHA256SUMS`` would otherwise only prove that the files agree with themselves. :func:`call_problems`
checks, for the call:

- its evidence rows (the call, its debt and consent, transcripts with their words, rule hits,
  recordings, signal health)
  against the newest ``evidence_log`` digest of each, and sealed rows that are gone;
- its stress samples against their sealed ranges;
- its alerts and their events (hash-chained rows): each row's hash and the link of the row after
  it (a row rewritten with a matching hash, or its successor deleted to hide that, shows), and each
  alert's state and hand-off against what its events say (an event deleted shows).

The call's finished QA reviews and closed recording files are checked by the export itself
(:func:`~agent_monitor.storage.review_seal.sealed_reviews`,
:func:`~agent_monitor.storage.recording_seal.read_sealed`). An alert deleted together with all its
events and both neighbours' links rewritten is only found by ``db verify`` (the chain's head and
anchors); so is an evidence-log entry whose own row was rewritten.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from agent_monitor.errors import ConflictError
from agent_monitor.storage.alert_state import call_alert_states
from agent_monitor.storage.chain import row_digest
from agent_monitor.storage.evidence import MODELS, digest_matches
from agent_monitor.storage.stress_seal import STRESS, verify_call_stress
from agent_monitor.storage.tables import Alert, AlertEvent, ChainHead, EvidenceEntry, WordRow

_REFUSED = "export refused; an administrator should run `agent-monitor db verify`"
#: at most this many problems are named in the refusal (``db verify`` lists them all)
SHOWN = 5


def _latest_digests(session: Session, call_id: str) -> dict[tuple[str, str], str]:
    log = EvidenceEntry.__table__
    stmt = select(log.c.kind, log.c.ref, log.c.digest).where(log.c.call_id == call_id, log.c.kind != STRESS)
    return {(kind, str(ref)): digest for kind, ref, digest in session.execute(stmt.order_by(log.c.id))}


def _words(session: Session, utterance_ids: list[Any]) -> dict[Any, list[Mapping[Any, Any]]]:
    out: dict[Any, list[Mapping[Any, Any]]] = defaultdict(list)
    table = WordRow.__table__
    for row in session.execute(select(table).where(table.c.utterance_id.in_(utterance_ids))).mappings():
        out[row["utterance_id"]].append(row)
    return out


def _evidence_rows(session: Session, call_id: str, problems: list[str]) -> None:
    latest = _latest_digests(session, call_id)
    seen: set[tuple[str, str]] = set()
    for kind, model in MODELS.items():
        table = model.__table__
        key = table.c.id if kind == "call" else table.c.call_id
        rows = session.execute(select(table).where(key == call_id).order_by(table.c.id)).mappings().all()
        words = _words(session, [r["id"] for r in rows]) if kind == "utterance" else {}
        for row in rows:
            ref = str(row["id"])
            seen.add((kind, ref))
            expected = latest.get((kind, ref))
            label = f"{table.name}: row {ref}"
            if expected is None:
                problems.append(f"{label} is not in the evidence log (written behind the application's back)")
            elif not digest_matches(kind, row, expected, words.get(row["id"], ())):
                problems.append(f"{label} was changed after it was written (evidence digest mismatch)")
    for kind, ref in sorted(set(latest) - seen):
        problems.append(
            f"{MODELS[kind].__table__.name}: row {ref} is in the evidence log but missing (deleted)"
        )


def _chained_rows(session: Session, model: Any, ids: set[int], problems: list[str]) -> None:
    """Each row of ``ids`` in ``model``'s chain: its hash, and the next row's link to it (a row
    rewritten with a new hash breaks that link; a break before the row is its predecessor's
    problem, checked when the predecessor is the call's own)."""
    if not ids:
        return
    table: Table = model.__table__
    wanted = ids | {i + 1 for i in ids}
    # the head first: a row appended meanwhile then only adds a row after it
    head = session.execute(select(ChainHead.seq).where(ChainHead.name == table.name)).scalar_one_or_none()
    rows = {int(r["id"]): r for r in session.execute(select(table).where(table.c.id.in_(wanted))).mappings()}
    for rid in sorted(ids):
        row = rows.get(rid)
        label = f"{table.name}: row {rid}"
        if row is None:
            problems.append(f"{label} is missing (deleted)")
            continue
        if row_digest(table.name, {k: row[k] for k in model.HASHED}) != row["row_hash"]:
            problems.append(f"{label} was changed after it was written (hash mismatch)")
        after = rows.get(rid + 1)
        if (after is None and head != rid) or (after is not None and after["prev_hash"] != row["row_hash"]):
            problems.append(f"{label}: the row after it does not link to it (deleted or changed)")


def call_problems(session: Session, call_id: str) -> list[str]:
    """Every way the call's stored evidence disagrees with its seals (empty: none found)."""
    problems: list[str] = []
    _evidence_rows(session, call_id, problems)
    verify_call_stress(session, call_id, problems)
    alert_ids = set(session.scalars(select(Alert.id).where(Alert.call_id == call_id)))
    _chained_rows(session, Alert, alert_ids, problems)
    if alert_ids:
        event_ids = set(session.scalars(select(AlertEvent.id).where(AlertEvent.alert_id.in_(alert_ids))))
        _chained_rows(session, AlertEvent, event_ids, problems)
    call_alert_states(session, call_id, problems)
    return problems


def check_call_evidence(session: Session, call_id: str, *, reads: int = 3, pause_s: float = 0.05) -> None:
    """Raise :class:`ConflictError` (409) naming what disagrees when the call's stored evidence no
    longer matches its seals: an export would pass altered records on as evidence.

    A live call is written while this reads it: a row and its evidence-log entry commit together
    but are read by separate statements, so a row written in between looks unsealed for one read.
    A disagreement is refused only when each of ``reads`` reads, ``pause_s`` apart, finds it."""
    problems = call_problems(session, call_id)
    for _ in range(reads - 1):
        if not problems:
            return
        time.sleep(pause_s)
        again = set(call_problems(session, call_id))
        problems = [p for p in problems if p in again]
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        raise ConflictError(
            f"call {call_id!r}: stored evidence does not match its seals: "
            f"{'; '.join(problems[:SHOWN])}{more}: {_REFUSED}"
        )
