"""What one leg says changes what the other leg's words mean: with the real Vosk model, the debtor
leg saying "wrong number" makes the agent naming the balance a disclosure to a third party
(EN-3P-2, red), stored, and the call no conversation with the debtor for Regulation F's count.

The speech is SYNTHETIC (espeak-ng, two voices), labelled as such; the database is real SQLite.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning, RuleHitEvent
from agent_monitor.model.rules import WRONG_PARTY, HitStatus
from agent_monitor.pipeline import CallManager
from agent_monitor.storage import Database, repo
from tests.agent_monitor.pipeline.conftest import RATE, CallAudio, EventsOf, Push, Subscribe
from tests.agent_monitor.pipeline.test_call_session import info, of

ANSWER = "sorry, you have the wrong number"
DISCLOSURE = "I am calling about the overdue balance she owes us"
CALL_S = 14.0


def spoken(text: str, voice: str, folder: Path) -> np.ndarray:
    """SYNTHETIC speech of ``text`` (espeak-ng), 8 kHz float."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is not installed; it speaks the scripted call")
    out = folder / f"{voice}-{len(text)}.wav"
    subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    return decode_file(out, target_rate=RATE).samples[0] * 0.6


def scripted(folder: Path, seconds: float, lines: Iterable[tuple[Leg, str, str, float]]) -> CallAudio:
    """A call of ``seconds`` whose legs say the ``(leg, text, voice, at)`` lines (SYNTHETIC speech,
    :func:`spoken`) from ``at`` seconds; silence else."""
    legs = {leg: np.zeros(int(seconds * RATE), dtype=np.float32) for leg in Leg}
    for leg, text, voice, at in lines:
        speech = spoken(text, voice, folder)
        start = int(at * RATE)
        legs[leg][start : start + len(speech)] += speech
    return CallAudio(float_to_pcm16(legs[Leg.AGENT]), float_to_pcm16(legs[Leg.DEBTOR]))


def _call(folder: Path, answer_at: float, disclosure_at: float) -> CallAudio:
    """The debtor leg says ANSWER and the agent leg DISCLOSURE at the given seconds; silence else."""
    lines = [(Leg.DEBTOR, ANSWER, "en-us", answer_at), (Leg.AGENT, DISCLOSURE, "en", disclosure_at)]
    return scripted(folder, CALL_S, lines)


@pytest.mark.asyncio
@pytest.mark.parametrize(("answer_at", "disclosure_at", "disclosed"), [(0.5, 6.0, True), (8.0, 0.5, False)])
async def test_the_debt_named_after_a_wrong_number_is_a_third_party_disclosure(
    manager: CallManager,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
    tmp_path: Path,
    answer_at: float,
    disclosure_at: float,
    disclosed: bool,
) -> None:
    sub = subscribe()
    call_id = f"wrong-{answer_at:g}"
    session = await manager.start_call(info(call_id))
    await push(session, _call(tmp_path, answer_at, disclosure_at))
    await session.stop("stop")
    events = events_of(sub)

    confirmed = {(e.hit.rule, e.hit.leg) for e in of(events, RuleHitEvent) if e.status is HitStatus.CONFIRMED}
    assert ("EN-WRONG-PARTY-1", Leg.DEBTOR) in confirmed
    warned = [w.rule for w in of(events, AgentWarning)]
    # the agent is cued the moment the debtor leg's "wrong number" is final, with what to say
    [cue] = [w for w in of(events, AgentWarning) if w.rule == "EN-WRONG-PARTY-1"]
    assert cue.leg is Leg.DEBTOR and "removed" in (cue.compliant or "") and "wrong" in cue.evidence
    if disclosed:
        assert warned.index("EN-WRONG-PARTY-1") < warned.index("EN-3P-2")
    # the balance named before the person said who they are not is no disclosure to a third party
    assert (("EN-3P-2", Leg.AGENT) in confirmed) is disclosed
    assert ("EN-3P-2" in warned) is disclosed
    with database.session() as s:
        rows = repo.list_rule_hits(s, call_id)
        assert [r.status for r in rows if r.category == WRONG_PARTY] == [HitStatus.CONFIRMED]
        assert [r.severity for r in rows if r.rule_id == "EN-3P-2"] == (["red"] if disclosed else [])
        call = repo.get_call(s, call_id)
        history = repo.debtor_calls_since(s, "d-1", call.started_at - timedelta(days=1), besides="")
        # the agent spoke and the other party answered, but it was not the debtor
        assert [(row.call.id, row.conversation) for row in history if row.call.id == call_id] == [
            (call_id, False)
        ]
