"""Transcripts, rule hits, calls, recordings, signal health, stress: under the ``evidence_log`` chain.

These rows change while a call runs, so they are not chained themselves. Instead every
transaction that inserts or changes one of them appends, just before it commits, one
:class:`~agent_monitor.storage.tables.EvidenceEntry` per changed row: the row's kind, key and the
sha256 of its canonical content (:func:`row_digest` of the columns in :data:`DIGESTED`; an
utterance includes its words). :func:`install` hooks this into a session factory, so every write
through :class:`~agent_monitor.storage.engine.Database` is covered without the repository
functions having to remember it.

:func:`verify_evidence` recomputes the digest of every current row and compares it with the newest
entry for that row: a row edited in the database (a transcript, a hit's evidence, a call's
``final_level``, a recording's ``sha256``), deleted, or inserted behind the application's back is
reported. Columns left out on purpose: an utterance's ``updated_at``, a hit's ``created_at`` and
a recording's running ``bytes_written``/``samples_written`` (progress; the closed file's
``sha256`` covers its content, and :mod:`.recording_seal` checks the file against it).

Stress readings (``stress_samples``) are sealed per range, not per row: the pipeline stores one
sample a second per leg, ten at a time, so one entry per sample would outgrow the rest of the log,
and one entry per call would re-read the whole call at every batch. An entry of kind ``stress``
(ref ``FIRST-LAST``: sample ids; ``call_id``: the call) holds :func:`stress_digest` of the call's
samples with ids in that range: each transaction that inserts samples seals its new rows of each
call as one range, and one that changes or deletes samples through the application seals the
ranges it touched again. ``db verify`` checks that every sample lies in exactly one range of its
call whose digest matches: a sample edited or deleted breaks its range, one inserted behind the
application's back lies in no range.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from itertools import groupby, pairwise
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from agent_monitor.storage import chain
from agent_monitor.storage.chain import ChainReport, row_digest
from agent_monitor.storage.integrity import verify_chains
from agent_monitor.storage.tables import (
    Call,
    EvidenceEntry,
    Recording,
    RuleHitRow,
    SignalHealthRow,
    StressSampleRow,
    Utterance,
    WordRow,
)
from agent_monitor.storage.types import utcnow

#: the evidence tables by kind
MODELS: dict[str, type[Any]] = {
    "utterance": Utterance,
    "rule_hit": RuleHitRow,
    "call": Call,
    "recording": Recording,
    "signal_health": SignalHealthRow,
}
_SKIPPED = {
    # search_text is derived from text (the full-text index's form of it, migration 0008)
    "utterance": {"id", "updated_at", "search_text"},
    "rule_hit": {"id", "created_at"},
    "call": set(),
    "recording": {"id", "bytes_written", "samples_written"},
    "signal_health": {"id"},
}
#: the columns whose values make up each kind's digest
DIGESTED: dict[str, tuple[str, ...]] = {
    kind: tuple(c.key for c in model.__table__.columns if c.key not in _SKIPPED[kind])
    for kind, model in MODELS.items()
}
WORD_COLUMNS = ("idx", "text", "start_s", "end_s", "conf")
_KIND_OF = {model: kind for kind, model in MODELS.items()}
_PENDING = "agent_monitor.evidence_pending"
#: the kind of the entries over ranges of a call's stress samples, and the columns they cover
STRESS = "stress"
STRESS_COLUMNS = ("id", "leg", "t_s", "score", "level", "baseline", "raw", "speech_s")
_NEW = "stress+"  # pending (call, floor): the call's samples with ids above floor are new
_TOUCHED = "stress~"  # pending (call, sample id): the ranges holding it are sealed again
_EVERY_CALL = "*"  # an insert whose calls are not known: new rows of every call


def content_digest(kind: str, row: Mapping[Any, Any], words: Iterable[Mapping[str, Any]] = ()) -> str:
    """The sha256 of a row of ``kind`` (a mapping of its columns; an utterance also its words)."""
    fields: dict[str, Any] = {name: row[name] for name in DIGESTED[kind]}
    if kind == "utterance":
        ordered = sorted(words, key=lambda w: int(w["idx"]))
        fields["words"] = [[w[c] for c in WORD_COLUMNS] for w in ordered]
    return row_digest(f"evidence:{kind}", fields)


def stress_digest(call_id: str, first: int, last: int, samples: Iterable[Mapping[Any, Any]]) -> str:
    """The sha256 of the stress samples of a call with ids ``first..last`` (mappings of their
    columns), in id order."""
    ordered = sorted(samples, key=lambda r: int(r["id"]))
    rows = [[_plain(r[c]) for c in STRESS_COLUMNS] for r in ordered]
    fields = {"call_id": call_id, "first": first, "last": last, "samples": rows}
    return row_digest(f"evidence:{STRESS}", fields)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


# --- sealing at commit -----------------------------------------------------------------------------
def install(factory: sessionmaker[Session]) -> None:
    """Seal evidence rows changed in sessions of ``factory`` (call once per factory)."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "do_orm_execute", _collect_bulk)
    event.listen(factory, "before_commit", _seal)
    event.listen(factory, "after_soft_rollback", _forget)


def _changed(obj: Any, kind: str) -> bool:
    state = inspect(obj)
    names = (*DIGESTED[kind], "words") if kind == "utterance" else DIGESTED[kind]
    return any(state.attrs[name].history.has_changes() for name in names)


def _collect(session: Session, flush_context: Any) -> None:
    pending: set[tuple[str, Any]] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, WordRow):
            pending.add(("utterance", obj.utterance_id))
        elif (kind := _KIND_OF.get(type(obj))) is not None:
            pending.add((kind, obj.id))
    for obj in session.dirty:
        kind = _KIND_OF.get(type(obj))
        if kind is not None and _changed(obj, kind):
            pending.add((kind, obj.id))
    for obj in session.new:
        if isinstance(obj, StressSampleRow):
            pending.add((_NEW, (obj.call_id, obj.id - 1)))
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, StressSampleRow):
            pending.add((_TOUCHED, (obj.call_id, obj.id)))


def _collect_bulk(state: ORMExecuteState) -> None:
    """Stress samples are inserted in bulk (``session.execute(insert(...), rows)``), which the
    unit of work never sees: note the calls and the highest sample id before such an insert, and
    the samples an update or delete statement is about to touch."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)  # an annotated copy of the table
    if getattr(table, "name", None) != StressSampleRow.__tablename__:
        return
    session, samples = state.session, StressSampleRow.__table__
    pending: set[tuple[str, Any]] = session.info.setdefault(_PENDING, set())
    params: Any = state.parameters
    rows: list[Mapping[str, Any]] = params if isinstance(params, list) else [params] if params else []
    if state.is_insert:
        floor = session.scalar(select(func.max(samples.c.id))) or 0
        calls = {row.get("call_id") for row in rows}
        if not calls or None in calls:
            calls = {_EVERY_CALL}
        pending.update((_NEW, (call_id, floor)) for call_id in calls)
        return
    if rows and all("id" in row for row in rows):  # a bulk update by primary key
        where = samples.c.id.in_([row["id"] for row in rows])
    else:
        where = state.statement.whereclause  # type: ignore[attr-defined]
    stmt = select(samples.c.call_id, samples.c.id)
    touched = session.execute(stmt if where is None else stmt.where(where))
    pending.update((_TOUCHED, (call_id, sample_id)) for call_id, sample_id in touched)


def _seal(session: Session) -> None:
    session.flush()
    pending: set[tuple[str, Any]] = session.info.pop(_PENDING, set())
    now = utcnow()
    entries = _stress_entries(session, pending, now)
    for kind, key in sorted(pending, key=lambda p: (p[0], str(p[1]))):
        if kind not in MODELS:
            continue
        obj = session.get(MODELS[kind], key)
        if obj is None:  # inserted and deleted in one transaction
            continue
        words = [_columns(w) for w in obj.words] if kind == "utterance" else ()
        entries.append(
            EvidenceEntry(
                kind=kind,
                ref=str(obj.id),
                call_id=obj.id if kind == "call" else obj.call_id,
                digest=content_digest(kind, _columns(obj), words),
                at=now,
            )
        )
    chain.append_all(session, entries)
    session.info.pop(_PENDING, None)


def _stress_entries(session: Session, pending: set[tuple[str, Any]], now: datetime) -> list[EvidenceEntry]:
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


def _ranges(session: Session, call_id: str | None = None) -> dict[str, dict[str, tuple[int, int, str]]]:
    """The newest digest of every sealed range (of ``call_id``, or of every call), by call and ref."""
    log = EvidenceEntry.__table__
    stmt = select(log.c.call_id, log.c.ref, log.c.digest).where(log.c.kind == STRESS)
    if call_id is not None:
        stmt = stmt.where(log.c.call_id == call_id)
    out: dict[str, dict[str, tuple[int, int, str]]] = defaultdict(dict)
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


def _forget(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def seal_existing(session: Session) -> int:
    """Seal every evidence row that has no entry yet (once, when the evidence chain is created on
    a database that already holds calls); returns how many were sealed."""
    log = EvidenceEntry.__table__
    known = {(k, r) for k, r in session.execute(select(log.c.kind, log.c.ref))}
    now, sealed = utcnow(), 0
    for kind, model in MODELS.items():
        for obj in session.scalars(select(model).order_by(model.id)):
            if (kind, str(obj.id)) in known:
                continue
            words = [_columns(w) for w in obj.words] if kind == "utterance" else ()
            call_id = obj.id if kind == "call" else obj.call_id
            digest = content_digest(kind, _columns(obj), words)
            chain.append(
                session, EvidenceEntry(kind=kind, ref=str(obj.id), call_id=call_id, digest=digest, at=now)
            )
            sealed += 1
    sealed_calls = set(session.scalars(select(log.c.call_id).where(log.c.kind == STRESS).distinct()))
    table = StressSampleRow.__table__
    stress = []
    for call_id in sorted(set(session.scalars(select(table.c.call_id).distinct())) - sealed_calls):
        samples = session.execute(select(table).where(table.c.call_id == call_id).order_by(table.c.id))
        stress.append(_range_entry(call_id, list(samples.mappings()), now))
    chain.append_all(session, stress)
    return sealed + len(stress)


# --- verification ------------------------------------------------------------------------------
def verify_all(session: Session, anchors: Mapping[str, chain.Anchor] | None = None) -> list[ChainReport]:
    """The database checks of ``db verify``: the hash chains, alert states and the evidence rows
    (``db verify`` checks the recording files with
    :func:`~agent_monitor.storage.recording_seal.verify_recording_files`)."""
    return [*verify_chains(session, anchors), verify_evidence(session)]


def verify_evidence(session: Session) -> ChainReport:
    """Compare every evidence row with the newest digest the evidence log holds for it."""
    latest: dict[tuple[str, str], str] = {}
    log = EvidenceEntry.__table__
    stmt = select(log.c.kind, log.c.ref, log.c.digest).order_by(log.c.id).execution_options(yield_per=1000)
    for kind, ref, digest in session.execute(stmt):
        latest[(kind, ref)] = digest
    problems: list[str] = []
    seen: set[tuple[str, str]] = {key for key in latest if key[0] == STRESS}
    words = _words_by_utterance(session)
    rows = _verify_stress(session, problems)
    for kind, model in MODELS.items():
        table = model.__table__
        for row in session.execute(select(table).order_by(table.c.id)).mappings():
            rows += 1
            ref = str(row["id"])
            seen.add((kind, ref))
            expected = latest.get((kind, ref))
            label = f"{table.name}: row {ref}"
            its_words = words.get(row["id"], ()) if kind == "utterance" else ()
            if expected is None:
                problems.append(f"{label} is not in the evidence log (written behind the application's back)")
            elif content_digest(kind, row, its_words) != expected:
                problems.append(f"{label} was changed after it was written (evidence digest mismatch)")
    for kind, ref in sorted(set(latest) - seen):
        name = MODELS[kind].__table__.name
        problems.append(f"{name}: row {ref} is in the evidence log but missing (deleted)")
    return ChainReport("evidence_rows", rows, 0, "", tuple(problems))


def _verify_stress(session: Session, problems: list[str]) -> int:
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


Range = tuple[int, int, str]  # first id, last id, digest


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


def _words_by_utterance(session: Session) -> dict[Any, list[Mapping[str, Any]]]:
    out: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    table = WordRow.__table__
    for row in session.execute(select(table).execution_options(yield_per=5000)).mappings():
        out[row["utterance_id"]].append(dict(row))
    return out
