"""Acoustic features and debtor stress scoring, relative to the speaker's own baseline.

Nothing heavy is imported here; import the submodule you need.

Live interface (one tracker per debtor leg)
-------------------------------------------
The live pipeline receives :class:`emotion.live.StressTrackers` (the
:class:`~agent_monitor.model.stages.StressFactory` built by :mod:`agent_monitor.compose`), which
builds one tracker per scored leg::

    from agent_monitor.model.stress import StressSample, StressEvent, StressLevel, BaselineStatus
    from emotion.tracker import StressTracker

    tracker = StressTracker.for_leg(settings, sample_rate=16000, leg=Leg.DEBTOR, start=0.0)
    # or: StressTracker(settings.stress, emotion.model.load_model(path), sample_rate, leg, start)

    samples = tracker.push_frame(frame)          # AudioFrame of this leg, call-clock ``start``
    samples = tracker.push_pcm(pcm, start=None)  # 16-bit LE mono bytes at ``sample_rate``
    tracker.add_words(transcript.words, until=transcript.end)  # optional: ASR word times
    events = tracker.drain_events()              # StressEvent level changes since last call
    samples = tracker.finish()                   # end of the leg: score the tail

* ``push_*`` return the :class:`~agent_monitor.model.stress.StressSample` s that became due:
  one every ``settings.stress.hop_s`` (1 s) of call time, ``t`` = end of the scored window (the
  last ``window_s`` = 4 s), emitted about 0.1-0.2 s after that audio arrived. ``score`` is the
  smoothed 0-100 score, ``level`` none/elevated/high after hysteresis (onset/offset thresholds,
  ``onset_s``, ``min_level_s``), ``baseline`` absolute/relative, ``raw`` the window's own score
  (``None`` when it held too little voiced speech, e.g. the debtor was silent).
* Audio gaps (a later ``start``) are filled with silence up to 60 s; overlaps are dropped.
* Baseline: the first ``baseline_speech_s`` (8 s) of voiced speech form the speaker baseline
  (absolute mode until then), updated slowly from calm windows afterwards. ``tracker.baseline``
  and ``tracker.baseline_status`` expose it; a ready :class:`emotion.baseline.SpeakerBaseline`
  can also be passed to the constructor.
* ``tracker.episodes`` lists closed :class:`~agent_monitor.model.stress.StressEpisode` s.
* Cost: 0.4-0.9% of one core per leg (``python benchmarks/bench_stress.py``, measured on a loaded
  2-core machine).
* Bad input (wrong leg or rate, NaN samples, odd PCM length) raises :class:`StressError`.

Modules
-------
``pitch`` YIN F0 and periodicity; ``frames`` 8 kHz frame analysis (batch or streaming);
``features`` window/clip features; ``baseline`` speaker baseline; ``model`` the calibrated
logistic scorers (file in ``models/stress/``); ``levels`` smoothing and hysteresis; ``tracker``
live tracker and clip scoring. Training and evaluation (``agent-monitor stress train``,
``agent-monitor eval stress [--conditions ...]``) live in :mod:`emotion.offline`, which the live
tracker never imports. Telephone lines (gain, G.711, GSM/AMR/Opus, noise, loss) come from
:mod:`agent_monitor.audio.conditions`.
"""
