"""A recording's ``writer`` (revision 0017) is digested only when set: a recording sealed before the
column existed keeps its digest, so ``db verify`` and the export accept it after the upgrade (with
the column in every digest they called each such recording changed and refused its export). A
recording sealed by the first code of revision 0017 (its NULL writer digested as null) verifies
too; a writer or any other column changed behind the application's back is still found. The
columns each evidence kind digests are listed, so that a column added to an evidence table is
decided on rather than digested by accident.

The rows "sealed before 0017" are written at the head revision with the digest of that time (the
recording's columns but ``writer``; the column itself is NULL, as the migration leaves it); the
same check was made once by hand with the code of 9ba4fa0 writing at revision 0016, then
``db upgrade`` and ``db verify`` with this code (4 recordings called changed before the mend)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agent_monitor.model.audio import Leg
from agent_monitor.storage import evidence
from agent_monitor.storage.chain import row_digest
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import DIGESTED, content_digest
from agent_monitor.storage.recording_seal import read_sealed
from agent_monitor.storage.tables import Recording
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems
from tests.agent_monitor.storage.test_recording_seal import T0, _recorded_call

#: the recording's digested columns before revision 0017
BEFORE_0017 = ("call_id", "leg", "path", "sample_rate", "encoding", "sha256", "started_at", "closed_at")


def _row(writer: str | None) -> dict[str, object]:
    return {
        "id": 7,
        "call_id": "c1",
        "leg": Leg.AGENT,
        "path": "recordings/c1/agent.wav",
        "sample_rate": 8000,
        "encoding": "pcm_s16le",
        "bytes_written": 48000,
        "samples_written": 24000,
        "sha256": "ab" * 32,
        "started_at": T0,
        "closed_at": T0,
        "writer": writer,
    }


def test_a_recording_without_a_writer_is_digested_as_before_the_column() -> None:
    row = _row(None)
    assert content_digest("recording", row) == row_digest(
        "evidence:recording", {k: row[k] for k in BEFORE_0017}
    )
    named = _row("node-a:8000")
    assert content_digest("recording", named) == row_digest(
        "evidence:recording", {k: named[k] for k in (*BEFORE_0017, "writer")}
    )
    assert content_digest("recording", named) != content_digest("recording", _row("node-b:8000"))


def _ids(db: Database, call_id: str) -> list[int]:
    with db.session() as s:
        return list(
            s.scalars(select(Recording.id).where(Recording.call_id == call_id).order_by(Recording.id))
        )


def test_recordings_sealed_before_the_writer_verify_and_export_after_it(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:  # sealed as before revision 0017: no writer column digested
        m.setitem(DIGESTED, "recording", BEFORE_0017)
        _recorded_call(db, tmp_path, "before-0017")
    with monkeypatch.context() as m:  # sealed by 0017's first code: a NULL writer digested as null
        m.setattr(evidence, "_ADDED_LATER", {})
        _recorded_call(db, tmp_path, "first-0017")
    _recorded_call(db, tmp_path, "named", node="node-a:8000")
    assert chain_problems(db) == []
    with db.session() as s:
        for rec in s.scalars(select(Recording)):
            data, seal = read_sealed(s, tmp_path, rec)  # the export takes every one
            assert len(data) > 44 and seal["sealed_sha256"] == rec.sha256

    before, first, named = _ids(db, "before-0017")[0], _ids(db, "first-0017")[0], _ids(db, "named")[0]
    behind_the_app(db, f"UPDATE recordings SET writer = 'node-x' WHERE id IN ({before}, {first}, {named})")
    behind_the_app(db, f"UPDATE recordings SET sample_rate = 16000 WHERE id = {_ids(db, 'before-0017')[1]}")
    problems = chain_problems(db)
    changed = {int(p.split()[2]) for p in problems if "evidence digest mismatch" in p}
    assert changed == {before, first, named, _ids(db, "before-0017")[1]}, problems


#: the columns each evidence kind's digest covers, as stored digests were computed; a column added
#: to an evidence table must be decided on (left out, digested only when set, or a kind of its own
#: as ``call_debt`` was): digested by accident, it calls every row stored before it changed
SEALED_COLUMNS = {
    "utterance": ("call_id", "leg", "utterance_no", "start_s", "end_s", "text", "final", "lang"),
    "rule_hit": (
        *("call_id", "key", "utterance_id", "utterance_no", "leg", "rule_id", "title", "category"),
        *("severity", "span_start", "span_end", "evidence", "reason", "citation", "compliant"),
        *("start_s", "end_s", "status"),
    ),
    "call": (
        *("id", "agent_id", "debtor_id", "debtor_phone", "debtor_tz", "source_protocol"),
        *("started_at", "ended_at", "status", "final_level", "high_sensitivity", "lang"),
    ),
    "recording": (*BEFORE_0017, "writer"),
    "signal_health": ("call_id", "leg", "issue", "active", "t_s", "message", "figures"),
    "call_debt": ("call_id", "debt_id", "consented"),
}


def test_a_column_added_to_an_evidence_table_is_not_digested_by_accident() -> None:
    assert DIGESTED == SEALED_COLUMNS
    assert {"recording": frozenset({"writer"})} == evidence._ADDED_LATER
