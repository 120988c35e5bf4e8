"""Stress readings (``stress_samples``) under the ``evidence_log`` chain, sealed per range of ids.

The pipeline stores one sample a second per leg, ten at a time, so one entry per sample would
outgrow the rest of the log, and one entry per call would re-read the whole call at every batch.
An entry of kind ``stress`` (ref ``FIRST-LAST``: sample ids; ``call_id``: the call) holds
:func:`stress_digest` of the call's samples with ids in that range: each transaction that inserts
samples seals its new rows of each call as one range, and one that changes or deletes samples
through the application seals the ranges it touched again. ``db verify`` checks that every sample
lies in exactly one range of its call whose digest matches: a sample edited or deleted breaks its
range, one inserted behind the application's back lies in no range.

:mod:`.evidence` hooks this into the session's commit: it keeps what :func:`flushed_markers` and
:func:`statement_markers` note with its own pending rows and appends what :func:`stress_entries`
returns with its other entries.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from itertools import groupby, pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import ORMExecuteState, Session

from agent_monitor.storage.chain import row_digest
from agent_monitor.storage.tables import EvidenceEntry, StressSampleRow

#: the kind of the entries over ranges of a call's stress samples, and the columns they cover
STRESS = "stress"
STRESS_COLUMNS = ("id", "leg", "t_s", "score", "level", "baseline", "raw", "speech_s")
_NEW = "stress+"  # pending (call, floor): the call's samples with ids above floor are new
_TOUCHED = "stress~"  # pending (call, sample id): the ranges holding it are sealed again
_EVERY_CALL = "*"  # an insert whose calls are not known: new rows of every call

Pending = set[tuple[str, Any]]
Range = tuple[int, int, str]  # first id, last id, digest


def stress_digest(call_id: str, first: int, last: int, samples: Iterable[Mapping[Any, Any]]) -> str:
    """The sha256 of the stress samples of a call with ids ``first..last`` (mappings of their
    columns), in id order."""
    ordered = sorted(samples, key=lambda r: int(r["id"]))
    rows = [[_plain(r[c]) for c in STRESS_COLUMNS] for r in ordered]
    fields = {"call_id": call_id, "first": first, "last": last, "samples": rows}
    return row_digest(f"evidence:{STRESS}", fields)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


# --- what a transaction changed --------------------------------------------------------------------
def flushed_markers(session: Session) -> Pending:
    """What the unit of work is flushing (in ``after_flush``): new samples, changed or deleted ones."""
    pending: Pending = set()
    for obj in session.new:
        if isinstance(obj, StressSampleRow):
            pending.add((_NEW, (obj.call_id, obj.id - 1)))
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, StressSampleRow):
            pending.add((_TOUCHED, (obj.call_id, obj.id)))
    return pending


def statement_markers(state: ORMExecuteState) -> Pending:
    """Stress samples are inserted in bulk (``session.execute(insert(...), rows)``), which the
    unit of work never sees: note the calls and the highest sample id before such an insert, and
    the samples an update or delete statement is about to touch (empty for other statements)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return set()
    table = getattr(state.statement, "table", None)  # an annotated copy of the table
    if getattr(table, "name", None) != StressSampleRow.__tablename__:
        return set()
    session, samples = state.session, StressSampleRow.__table__
    params: Any = state.parameters
    rows: list[Mapping[str, Any]] = params if isinstance(params, list) else [params] if params else []
    if state.is_insert:
        floor = session.scalar(select(func.max(samples.c.id))) or 0
        calls = {row.get("call_id") for row in rows}
        if not calls or None in calls:
            calls = {_EVERY_CALL}
        return {(_NEW, (call_id, floor)) for call_id in calls}
    if rows and all("id" in row for row in rows):  # a bulk update by primary key
        where = samples.c.id.in_([row["id"] for row in rows])
    else:
        where = state.statement.whereclause  # type: ignore[attr-defined]
    stmt = select(samples.c.call_id, samples.c.id)
    touched = session.execute(stmt if where is None else stmt.where(where))
    return {(_TOUCHED, (call_id, sample_id)) for call_id, sample_id in touched}


# --- sealing ---------------------------------------------------------------------------------------
def stress_entries(session: Session, pending: Pending, now: datetime) -> list[EvidenceEntry]:
    """``stress`` entries for the ranges touched by this transaction (those whose samples no
    longer match their newest entry) and one for each call's new samples."""
    touched: dict[str, set[int]] = defaultdict(set)
    floors: dict[str, int] = {}
    for kind, key in pending:
        if kind == _TOUCHED:
            touched[key[0]].add(key[1])
        elif kind == _NEW:
            floors[key[0]] = min(key[1], floors.get(key[0], key[1]))
    entries = [e for call_id, ids in sorted(touched.items()) for e in _reseal(session, call_id, ids, now)]
    table = StressSampleRow.__table__
    if _EVERY_CALL in floors:  # one pass over the new rows of every call
        floors = {_EVERY_CALL: min(floors.values())}
    for call_id, floor in sorted(floors.items()):
        stmt = select(table).where(table.c.id > floor)
        if call_id != _EVERY_CALL:
            stmt = stmt.where(table.c.call_id == call_id)
        rows = session.execute(stmt.order_by(table.c.id)).mappings().all()
        by_call = sorted(rows, key=lambda r: (str(r["call_id"]), r["id"]))
        entries += [
            _range_entry(c, list(g), now) for c, g in groupby(by_call, key=lambda r: str(r["call_id"]))
        ]
    return entries


def _range_entry(call_id: str, samples: Sequence[Mapping[Any, Any]], now: datetime) -> EvidenceEntry:
    """The entry sealing ``samples`` (of one call, in id order) as one range."""
    first, last = int(samples[0]["id"]), int(samples[-1]["id"])
    digest = stress_digest(call_id, first, last, samples)
    return EvidenceEntry(kind=STRESS, ref=f"{first}-{last}", call_id=call_id, digest=digest, at=now)


def _ranges(session: Session, call_id: str | None = None) -> dict[str, dict[str, Range]]:
    """The newest digest of every sealed range (of ``call_id``, or of every call), by call and ref."""
    log = EvidenceEntry.__table__
    stmt = select(log.c.call_id, log.c.ref, log.c.digest).where(log.c.kind == STRESS)
    if call_id is not None:
        stmt = stmt.where(log.c.call_id == call_id)
    out: dict[str, dict[str, Range]] = defaultdict(dict)
    for call, ref, digest in session.execute(stmt.order_by(log.c.id)):
        first, _, last = str(ref).partition("-")
        out[str(call)][str(ref)] = (int(first), int(last), digest)
    return out


def _reseal(session: Session, call_id: str, ids: set[int], now: datetime) -> list[EvidenceEntry]:
    """New entries for the ranges of ``call_id`` holding one of ``ids`` whose samples changed."""
    table = StressSampleRow.__table__
    entries = []
    for first, last, digest in sorted(_ranges(session, call_id)[call_id].values()):
        if not any(first <= i <= last for i in ids):
            continue
        stmt = select(table).where(table.c.call_id == call_id, table.c.id.between(first, last))
        now_digest = stress_digest(call_id, first, last, session.execute(stmt).mappings().all())
        if now_digest != digest:
            entries.append(
                EvidenceEntry(kind=STRESS, ref=f"{first}-{last}", call_id=call_id, digest=now_digest, at=now)
            )
    return entries


def seal_existing_stress(session: Session, now: datetime) -> list[EvidenceEntry]:
    """One entry per call whose stress samples have no entry yet, its range spanning them all."""
    log = EvidenceEntry.__table__
    sealed_calls = set(session.scalars(select(log.c.call_id).where(log.c.kind == STRESS).distinct()))
    table = StressSampleRow.__table__
    entries = []
    for call_id in sorted(set(session.scalars(select(table.c.call_id).distinct())) - sealed_calls):
        samples = session.execute(select(table).where(table.c.call_id == call_id).order_by(table.c.id))
        entries.append(_range_entry(call_id, list(samples.mappings()), now))
    return entries


# --- verification ------------------------------------------------------------------------------
def verify_stress(session: Session, problems: list[str]) -> int:
    """Check each call's stress samples against its sealed ranges; returns the samples."""
    ranges = _ranges(session)
    table = StressSampleRow.__table__
    stmt = select(table).order_by(table.c.call_id, table.c.id).execution_options(yield_per=5000)
    rows = 0
    for call_id, group in groupby(session.execute(stmt).mappings(), key=lambda r: str(r["call_id"])):
        samples = list(group)
        rows += len(samples)
        _check_call(call_id, samples, sorted(ranges.pop(call_id, {}).values()), problems)
    for call_id, left in sorted(ranges.items()):
        _check_call(call_id, [], sorted(left.values()), problems)
    return rows


def verify_call_stress(session: Session, call_id: str, problems: list[str]) -> None:
    """:func:`verify_stress` for one call's samples (the evidence export)."""
    table = StressSampleRow.__table__
    stmt = select(table).where(table.c.call_id == call_id).order_by(table.c.id)
    samples = session.execute(stmt).mappings().all()
    _check_call(call_id, samples, sorted(_ranges(session, call_id).get(call_id, {}).values()), problems)


def _check_call(
    call_id: str, samples: Sequence[Mapping[Any, Any]], ranges: Sequence[Range], problems: list[str]
) -> None:
    """Every sample in exactly one range (sorted by first id) whose digest matches."""
    label = f"stress_samples: call {call_id}"
    for (a, b, _), (c, d, _) in pairwise(ranges):
        if c <= b:
            problems.append(f"{label} has overlapping sealed ranges {a}-{b} and {c}-{d}")
    starts = [first for first, _, _ in ranges]
    inside: list[list[Mapping[Any, Any]]] = [[] for _ in ranges]
    unsealed = []
    for sample in samples:
        i = bisect_right(starts, int(sample["id"])) - 1
        if i >= 0 and sample["id"] <= ranges[i][1]:
            inside[i].append(sample)
        else:
            unsealed.append(str(sample["id"]))
    if unsealed:
        ids = ", ".join(unsealed[:10]) + (f" and {len(unsealed) - 10} more" if len(unsealed) > 10 else "")
        problems.append(
            f"{label} is not in the evidence log (written behind the application's back): sample {ids}"
        )
    for (first, last, want), held in zip(ranges, inside, strict=True):
        if stress_digest(call_id, first, last, held) == want:
            continue
        if not held:
            problems.append(
                f"{label} is in the evidence log but its samples are missing (deleted): {first}-{last}"
            )
        else:
            problems.append(
                f"{label} was changed after it was written (samples {first}-{last}: a sample edited,"
                " deleted or added; evidence digest mismatch)"
            )
