"""The evidence export's check of one call reads it more than once before refusing: a live call is
written while it is read (a row and its evidence-log entry commit together but are read by separate
statements), so a disagreement found by one read only is not a refusal; one found every time is,
and only what every read found is named. (The reads are replaced here by a list of answers: the
tampering itself is tested on real databases in ``tests/web/test_export_integrity.py``.)"""

from __future__ import annotations

from typing import Any

import pytest

from agent_monitor.errors import ConflictError
from agent_monitor.storage import call_integrity


def _reads(monkeypatch: pytest.MonkeyPatch, answers: list[list[str]]) -> list[int]:
    calls: list[int] = []

    def read(session: Any, call_id: str) -> list[str]:
        calls.append(1)
        return answers[len(calls) - 1]

    monkeypatch.setattr(call_integrity, "call_problems", read)
    return calls


def test_a_disagreement_seen_once_is_not_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _reads(monkeypatch, [["utterances: row 7 is not in the evidence log"], [], []])
    call_integrity.check_call_evidence(None, "c-1", pause_s=0)  # type: ignore[arg-type]
    assert len(calls) == 2  # a clean second read ends it


def test_only_what_every_read_finds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    changed, passing = "words: row 3 was changed after it was written", "utterances: row 9 is new"
    calls = _reads(monkeypatch, [[changed, passing], [changed], [changed, passing]])
    with pytest.raises(ConflictError, match="row 3 was changed") as refused:
        call_integrity.check_call_evidence(None, "c-1", pause_s=0)  # type: ignore[arg-type]
    assert "row 9" not in str(refused.value) and len(calls) == 3


def test_a_clean_call_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _reads(monkeypatch, [[]])
    call_integrity.check_call_evidence(None, "c-1")  # type: ignore[arg-type]
    assert len(calls) == 1
