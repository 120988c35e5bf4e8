"""``benchmarks/health_unclear_call.py``: a real call's finals per leg through the ``unclear`` rule
(the decoding is the pipeline's own, tested in ``tests/asr``; here the figures it prints)."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.settings import HealthSettings
from benchmarks.health_unclear_call import leg_line, worst_share


def final(t: float, speech_s: float, words: int) -> Transcript:
    ws = tuple(Word("w", t, t + 0.2, 0.95) for _ in range(words))
    return Transcript(Leg.DEBTOR, 0, t, t + speech_s, " ".join("w" for _ in ws), True, ws, speech_s=speech_s)


def test_worst_share_is_the_largest_over_full_windows_only() -> None:
    finals = [final(0, 4.0, 0), final(5, 4.0, 3), final(10, 4.0, 3), final(15, 2.0, 0)]
    # windows of 8 s: [4 wl, 4] 0.5, [4, 4] 0, [4, 4, 2 wl] 0.2; 4 s of speech never fills 20 s
    assert worst_share(finals, 8.0) == 0.5
    assert worst_share(finals, 20.0) == 0.0


def test_leg_line_counts_and_names_the_starts() -> None:
    health = HealthSettings(unclear_speech_s=8.0, unclear_wordless_share=0.45)
    finals = [final(0, 4.0, 0), final(5, 4.0, 3), final(10, 4.0, 3)]
    line = leg_line("amr+gain-20", Leg.DEBTOR, finals, [8.0], health)
    assert line.split() == ["amr+gain-20", "debtor", "3", "1", "12.0", "33%", "50%", "9s", "deaf"]
