"""Settings of the live call pipeline: its queues, the write outbox and the legs' signal health."""

from __future__ import annotations

from pydantic import Field, field_validator

from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings.analysis import FusionSettings
from agent_monitor.settings.base import CallLanguage, Section

__all__ = ["HealthSettings", "LiveSettings", "OutboxSettings"]


class OutboxSettings(Section):
    """The write outbox between a live call and the database (:mod:`agent_monitor.pipeline.store`).
    Times in seconds."""

    #: writes of one call held in memory while the database is slow or down; beyond this (or once
    #: the database has failed for ``spill_after_s``) they go to the call's journal on disk
    capacity: int = Field(500, ge=1)
    #: how long the database may fail (or a write hang) before the queued writes are spilled
    spill_after_s: float = Field(5.0, gt=0.0)
    #: a write running longer than this marks the database degraded (``/healthz``)
    stall_after_s: float = Field(2.0, gt=0.0)
    #: first and longest wait between retries of a failed write
    retry_first_s: float = Field(0.2, gt=0.0)
    retry_max_s: float = Field(2.0, gt=0.0)
    #: how long an alert waits for its row (its ``alert_id``) before going out without one
    alert_id_wait_s: float = Field(0.5, ge=0.0, le=1.0)
    #: threads running database writes (separate from other work, so a stall blocks nothing else)
    writer_threads: int = Field(4, ge=1, le=32)
    #: a call's writes are gathered this long (an urgent one, e.g. an alert, ends it at once) and
    #: written in one transaction of at most ``batch_max`` writes; 0: every write on its own
    batch_linger_s: float = Field(0.25, ge=0.0, le=5.0)
    batch_max: int = Field(64, ge=1, le=10000)


class HealthSettings(Section):
    """Signal health of each leg (:mod:`agent_monitor.pipeline.health`). Levels in dBFS, times in s.

    A level issue starts once its condition has held for ``onset_s`` and clears once it has not
    held for ``clear_s`` (hysteresis: one event when it starts, one when it clears)."""

    enabled: bool = True
    #: levels, noise floor and clipping are measured over this much of the leg's latest audio
    window_s: float = Field(10.0, ge=2.0, le=120.0)
    #: a frame is speech when this far above the noise floor (and above ``dead_dbfs``)
    speech_margin_db: float = Field(10.0, gt=0.0)
    #: a frame below this carries nothing (digital silence, an idle line)
    dead_dbfs: float = Field(-80.0, le=0.0)
    #: ``silent``: no speech on the leg for this long
    silent_s: float = Field(30.0, gt=0.0)
    #: ``one_way``: the leg carries nothing for this long while the other leg speaks
    one_way_s: float = Field(15.0, gt=0.0)
    #: ... and, since the leg went dead, the other leg has stopped after speaking (for at least
    #: ``one_way_pause_s``) this many times without an answer: it waited for the dead leg. A long
    #: monologue against a leg sent with silence suppression (nothing while quiet) is not one-way
    #: audio; 0: the duration alone decides
    one_way_pauses: int = Field(2, ge=0, le=10)
    one_way_pause_s: float = Field(0.75, gt=0.0)
    #: ``low_level``: active speech level below this (normal telephone speech is about -26)
    low_level_dbfs: float = Field(-50.0, le=0.0)
    #: ``noisy``: speech peaks (95th percentile of the frame levels) less than this above the
    #: noise floor (10th percentile)
    noisy_snr_db: float = Field(15.0, gt=0.0)
    #: ... or a noise floor (10th percentile of the frame levels) at least this loud with speech less
    #: than ``noisy_snr_db`` above it (normal telephone speech is about -26)
    noisy_floor_dbfs: float = Field(-33.0, le=0.0)
    #: ``clipping``: more than this share of the samples at full scale
    clipping_share: float = Field(0.005, gt=0.0, le=1.0)
    #: low level and noise are judged only with at least this much speech in the window
    min_speech_s: float = Field(2.0, ge=0.0)
    #: ... whose levels vary by at least this much (90th - 10th percentile; steady hiss: ~3 dB)
    speech_modulation_db: float = Field(6.0, ge=0.0)
    #: ``encoding_mismatch``: at least ``mismatch_s`` of loud white-like audio in the window (and twice
    #: as much as of speech-like loud audio); a 0.25 s block is loud when ``mismatch_loud_share`` of
    #: its frames are above ``mismatch_dbfs``, white-like when the spectral flatness of those frames
    #: is at least ``mismatch_flatness`` (white noise ~0.5, speech ~0.01-0.15)
    mismatch_flatness: float = Field(0.2, gt=0.0, le=1.0)
    mismatch_loud_share: float = Field(0.25, gt=0.0, le=1.0)
    mismatch_dbfs: float = Field(-15.0, le=0.0)
    mismatch_s: float = Field(2.0, ge=0.5, le=30.0)
    #: a level issue (low level, noisy, clipping) starts after holding this long
    onset_s: float = Field(5.0, ge=0.0)
    #: an active level issue clears once its condition has not held for this long
    clear_s: float = Field(10.0, ge=0.0)
    #: ``unclear``: the mean of Vosk's confidence over the leg's last ``unclear_words`` final words
    #: is below ``unclear_conf`` (chosen on the tuning split of ``eval asr``: clean English speech
    #: ~0.86-0.99, lines where most words are wrong ~0.75-0.80; see README "Signal health")
    unclear_words: int = Field(50, ge=5, le=1000)
    unclear_conf: float = Field(0.78, ge=0.0, le=1.0)
    #: ... or at least ``unclear_wordless_share`` of the leg's last ``unclear_speech_s`` seconds of
    #: VAD speech gave no word at all (chosen on the tuning split of ``eval asr``, session 23; see
    #: README "Signal health")
    unclear_speech_s: float = Field(60.0, gt=0.0, le=3600.0)
    unclear_wordless_share: float = Field(0.45, gt=0.0, le=1.0)


class LiveSettings(Section):
    """The live call pipeline (:mod:`agent_monitor.pipeline`). Times in seconds."""

    #: audio waiting per leg between ``push_audio`` and recognition; more is dropped (and counted)
    leg_queue_s: float = Field(10.0, gt=0.0)
    #: recordings hand buffered audio to the OS at least this often (a crash loses at most this)
    recording_flush_s: float = Field(0.5, gt=0.0, le=1.0)
    #: an unacknowledged red handoff is escalated after this long
    escalate_after_s: float = Field(60.0, gt=0.0)
    #: calls reaching this level are queued for QA (a warning level: not ``none``)
    qa_level: WarningLevel = WarningLevel.RED

    @field_validator("qa_level")
    @classmethod
    def _qa_level_is_a_warning(cls, v: WarningLevel) -> WarningLevel:
        if not v.flagged:
            raise ValueError(f"must be one of {', '.join(lv.value for lv in WarningLevel.warnings())}")
        return v

    #: per-subscriber queue of the in-process event bus (non-critical events beyond it drop oldest)
    subscriber_queue: int = Field(1000, ge=1)
    #: stress samples are stored in batches of this many (and at the end of the call)
    stress_batch: int = Field(10, ge=1)
    #: a call's language when its start message names none: the agent's (``lang_by_agent``, by
    #: agent id), else the queue's (``lang_by_queue``, the start message's ``queue``), else this
    default_lang: CallLanguage = "en"
    lang_by_agent: dict[str, CallLanguage] = Field(default_factory=dict)
    lang_by_queue: dict[str, CallLanguage] = Field(default_factory=dict)
    fusion: FusionSettings = FusionSettings()
    outbox: OutboxSettings = OutboxSettings()
