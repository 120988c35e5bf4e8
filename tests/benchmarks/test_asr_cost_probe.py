"""The CPU-per-stage probe of ``benchmarks/bench_asr_cost.py`` on an agent leg with key terms:
real Vosk model, SYNTHETIC speech (espeak-ng). With the keyword second pass off (the default) the
probe has no pass to time; with it on, the pass is timed as its own stage."""

from __future__ import annotations

import numpy as np
import pytest

from agent_monitor.ingest.call_audio import synthetic_speech
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from asr.streaming import RecognizerPool
from benchmarks.asr_cost_probe import LegRun, run_leg

RATE = 16000


@pytest.mark.parametrize("second_pass", [False, True])
def test_the_probe_times_the_keyword_pass_only_when_it_is_on(
    base_settings: Settings, second_pass: bool
) -> None:
    asr = base_settings.asr.model_copy(update={"keyword_second_pass": second_pass})
    settings = base_settings.model_copy(update={"asr": asr})
    pool = RecognizerPool.from_settings(settings)
    try:
        speech = synthetic_speech("pay your damn bills today", RATE)
        pcm = np.concatenate([speech, np.zeros(2 * RATE, dtype=np.int16)]).tobytes()
        run = LegRun(Leg.AGENT, pcm, RATE, pool._new_recognizer(), keywords=("damn", "idiot"))
        costs = run_leg(pool, settings, run, 0.1)
    finally:
        pool.close()
    assert costs.words > 0 and costs.cpu["vosk AcceptWaveform"] > 0
    assert (costs.calls.get("keyword 2nd pass", 0) > 0) is second_pass
