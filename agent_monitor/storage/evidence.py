"""Transcripts, hits, calls and their debts, recordings, signal health, stress: under ``evidence_log``.

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

Stress readings (``stress_samples``) are sealed per range of sample ids, not per row
(:mod:`.stress_seal`); finished QA reviews in a chain of their own (:mod:`.review_seal`).
The phone numbers' keys kept per call (``call_phones``, revisions 0015 and 0016) are derived from
the sealed ``calls.debtor_phone``, ``debtor_tz`` and ``lang``, so they are checked against them
rather than sealed (:func:`verify_phone_keys`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from agent_monitor.model.calls import call_phone_key
from agent_monitor.storage import chain, stress_seal
from agent_monitor.storage.chain import ChainReport, row_digest
from agent_monitor.storage.integrity import verify_chains
from agent_monitor.storage.review_seal import verify_reviews
from agent_monitor.storage.stress_seal import STRESS
from agent_monitor.storage.tables import (
    Call,
    CallDebt,
    CallPhone,
    EvidenceEntry,
    Recording,
    RuleHitRow,
    SignalHealthRow,
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
    # a call's debt and consent (revision 0014): a kind of its own, so call digests stay as they were
    "call_debt": CallDebt,
}
_SKIPPED = {
    # search_text is derived from text (the full-text index's form of it, migration 0008)
    "utterance": {"id", "updated_at", "search_text"},
    "rule_hit": {"id", "created_at"},
    "call": set(),
    "recording": {"id", "bytes_written", "samples_written"},
    "signal_health": {"id"},
    "call_debt": {"id"},
}
#: the columns whose values make up each kind's digest
DIGESTED: dict[str, tuple[str, ...]] = {
    kind: tuple(c.key for c in model.__table__.columns if c.key not in _SKIPPED[kind])
    for kind, model in MODELS.items()
}
#: columns added to a digested table after rows of it were sealed: digested only when set, so a
#: row stored before the column (NULL there) keeps the digest it was sealed with (a recording's
#: writer, revision 0017: with it in every digest, ``db verify`` called each recording stored
#: before the upgrade changed and the export refused it)
_ADDED_LATER: dict[str, frozenset[str]] = {"recording": frozenset({"writer"})}
WORD_COLUMNS = ("idx", "text", "start_s", "end_s", "conf")
#: an utterance's words (each a mapping of WORD_COLUMNS)
Words = Iterable[Mapping[str, Any]]
_KIND_OF = {model: kind for kind, model in MODELS.items()}
_PENDING = "agent_monitor.evidence_pending"


def content_digest(kind: str, row: Mapping[Any, Any], words: Words = ()) -> str:
    """The sha256 of a row of ``kind`` (a mapping of its columns; an utterance also its words)."""
    later = _ADDED_LATER.get(kind, frozenset())
    return _digest(kind, [n for n in DIGESTED[kind] if row[n] is not None or n not in later], row, words)


def digest_matches(kind: str, row: Mapping[Any, Any], expected: str, words: Words = ()) -> bool:
    """Whether ``expected`` (the digest stored for ``row``) seals the row as it is: its
    :func:`content_digest`, or, for a row whose later-added columns are NULL, the digest with them
    written as null (what the code of revision 0017 sealed before they were left out when NULL)."""
    words = list(words)
    if content_digest(kind, row, words) == expected:
        return True
    if not any(row[n] is None for n in _ADDED_LATER.get(kind, ())):
        return False
    return _digest(kind, DIGESTED[kind], row, words) == expected


def _digest(kind: str, names: Iterable[str], row: Mapping[Any, Any], words: Words) -> str:
    fields: dict[str, Any] = {n: row[n] for n in names}
    if kind == "utterance":
        ordered = sorted(words, key=lambda w: int(w["idx"]))
        fields["words"] = [[w[c] for c in WORD_COLUMNS] for w in ordered]
    return row_digest(f"evidence:{kind}", fields)


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
    pending.update(stress_seal.flushed_markers(session))


def _collect_bulk(state: ORMExecuteState) -> None:
    if markers := stress_seal.statement_markers(state):
        state.session.info.setdefault(_PENDING, set()).update(markers)


def _seal(session: Session) -> None:
    session.flush()
    pending: set[tuple[str, Any]] = session.info.pop(_PENDING, set())
    now = utcnow()
    entries = stress_seal.stress_entries(session, pending, now)
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
    stress = stress_seal.seal_existing_stress(session, now)
    chain.append_all(session, stress)
    return sealed + len(stress)


# --- verification ------------------------------------------------------------------------------
def verify_all(session: Session, anchors: Mapping[str, chain.Anchor] | None = None) -> list[ChainReport]:
    """The database checks of ``db verify``: the hash chains, alert states, the evidence rows and
    the finished QA reviews (``db verify`` checks the recording files with
    :func:`~agent_monitor.storage.recording_seal.verify_recording_files`)."""
    return [
        *verify_chains(session, anchors),
        verify_evidence(session),
        verify_phone_keys(session),
        verify_reviews(session),
    ]


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
    rows = stress_seal.verify_stress(session, problems)
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
            elif not digest_matches(kind, row, expected, its_words):
                problems.append(f"{label} was changed after it was written (evidence digest mismatch)")
    for kind, ref in sorted(set(latest) - seen):
        name = MODELS[kind].__table__.name
        problems.append(f"{name}: row {ref} is in the evidence log but missing (deleted)")
    return ChainReport("evidence_rows", rows, 0, "", tuple(problems))


def _words_by_utterance(session: Session) -> dict[Any, list[Mapping[str, Any]]]:
    out: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    table = WordRow.__table__
    for row in session.execute(select(table).execution_options(yield_per=5000)).mappings():
        out[row["utterance_id"]].append(dict(row))
    return out


def verify_phone_keys(session: Session) -> ChainReport:
    """The phone numbers' keys kept per call (``call_phones``: derived, not sealed) against the
    sealed ``calls.debtor_phone`` (read in the country of the sealed ``debtor_tz`` and ``lang``) they
    are derived from: a row changed, added or deleted there would change which calls the frequency
    rule counts (:func:`~agent_monitor.model.calls.call_phone_key`)."""
    kept = dict(session.execute(select(CallPhone.call_id, CallPhone.phone_key)).all())
    problems: list[str] = []
    columns = select(Call.id, Call.debtor_phone, Call.debtor_tz, Call.lang)
    stmt = columns.order_by(Call.id).execution_options(yield_per=1000)
    for call_id, phone, zone, lang in session.execute(stmt):
        expected = call_phone_key(phone, zone, lang)
        found = kept.pop(call_id, None)
        if found != expected:
            what = "missing" if found is None else "not the key of the call's number"
            problems.append(f"call_phones: the row of call {call_id} is {what}")
    problems += [f"call_phones: a row for call {c}, which has no such number" for c in sorted(kept)]
    rows = session.scalar(select(func.count()).select_from(CallPhone)) or 0
    return ChainReport("call_phones", int(rows), 0, "", tuple(problems))
