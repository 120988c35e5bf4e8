"""Settings of what is made of the speech: the rule engine, debtor stress, and their fusion into a level."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings.base import REPO_ROOT, Section

__all__ = ["FusionSettings", "RulesSettings", "StressSettings"]


class RulesSettings(Section):
    """The rule engine (qa_rules): packs, must-say window, call-metadata policy values."""

    #: rule pack files or folders (``*.yaml``); default: the packs shipped in qa_rules/packs
    packs: list[Path] = Field(default_factory=lambda: [REPO_ROOT / "qa_rules" / "packs"])
    #: where trained rule models live (``abuse-<lang>.json``)
    model_dir: Path = REPO_ROOT / "models" / "abuse"
    #: must-say rules (identity, mini-Miranda, recording notice) must be heard this soon (seconds)
    must_say_window_s: float = Field(30.0, gt=0)
    #: the abusive-tone classifier also judges every partial transcript of at least this many words
    #: (0: only partials at a VAD end of speech, and finals): a provisional hit as soon as the words
    #: so far carry the tone, withdrawn by the final if they do not. The warning comes about one
    #: partial interval after the words instead of after the rest of the sentence and a pause.
    #: Shorter partials are not judged: 4-word openings ("this is more than") read as abusive too
    #: often (chosen on the live evaluation's tuning half; README, "Live evaluation")
    classifier_partial_min_words: int = Field(6, ge=0)
    #: allowed calling window in the debtor's local time, "HH:MM", start inclusive, end exclusive
    us_calling_window: tuple[str, str] = ("08:00", "21:00")
    #: PRC window: unverified in law (NIFA convention), so a per-tenant policy value
    prc_calling_window: tuple[str, str] = ("08:00", "21:00")
    prc_calling_window_by_tenant: dict[str, tuple[str, str]] = Field(default_factory=dict)
    #: Regulation F 12 CFR 1006.14(b)(2): more than ``max_calls`` in ``window_days`` is presumed harassment
    freq_max_calls: int = Field(7, ge=1)
    freq_window_days: int = Field(7, ge=1)
    #: no call within this many days after a telephone conversation (conversation day = day 1)
    freq_after_conversation_days: int = Field(7, ge=1)
    #: PRC (CN-FREQ-1): no call once the person has had this many conversations that local day
    #: (institution policy, not law: 3 is the figure secondary sources quote; None: no cap) ...
    prc_max_contacts_per_day: int | None = Field(3, ge=1)
    #: ... or been called this many times that day (calls that connected; None: no cap)
    prc_max_calls_per_day: int | None = Field(None, ge=1)

    @field_validator("us_calling_window", "prc_calling_window")
    @classmethod
    def _window(cls, v: tuple[str, str]) -> tuple[str, str]:
        return calling_window(v)

    @field_validator("prc_calling_window_by_tenant")
    @classmethod
    def _tenant_windows(cls, v: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        return {tenant: calling_window(w, f"tenant {tenant!r}: ") for tenant, w in v.items()}


_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):[0-5][0-9]")


def calling_window(window: tuple[str, str], where: str = "") -> tuple[str, str]:
    """An allowed calling window checked when the settings load: two ``HH:MM`` times, the start
    before the end (a window that is not one, e.g. ``08:00:00``, or the forbidden period
    ``21:00``-``08:00`` written by mistake, was only found at each call: its rules skipped, or
    every call flagged)."""
    start, end = window
    for value in window:
        if not _HHMM.fullmatch(value):
            raise ValueError(f"{where}calling window time {value!r} is not HH:MM (00:00 to 23:59)")
    if tuple(map(int, start.split(":"))) >= tuple(map(int, end.split(":"))):
        raise ValueError(f"{where}calling window {start}-{end}: the start must be before the end")
    return window


class StressSettings(Section):
    """Debtor stress scoring (:mod:`emotion`). Times in seconds, scores 0-100."""

    #: trained coefficients (``agent-monitor stress train`` writes it)
    model_file: Path = REPO_ROOT / "models" / "stress" / "stress-model.json"
    #: a stress sample is produced every ``hop_s`` of call time
    hop_s: float = Field(default=1.0, gt=0.0, le=10.0)
    #: each sample scores the last ``window_s`` of audio
    window_s: float = Field(default=4.0, ge=1.0, le=30.0)
    #: seconds of voiced debtor speech collected before the speaker baseline is formed
    baseline_speech_s: float = Field(default=8.0, ge=1.0)
    #: time constant (seconds of scored speech) of the slow baseline update from calm windows
    baseline_update_s: float = Field(default=300.0, gt=0.0)
    #: time constant of the exponential smoothing of the score
    smoothing_s: float = Field(default=2.0, ge=0.0)
    #: without speech the smoothed score relaxes toward 0 with this time constant
    silence_decay_s: float = Field(default=20.0, gt=0.0)
    #: level thresholds on the smoothed score: rise at ``*_on``, fall below ``*_off``
    elevated_on: float = Field(default=50.0, ge=0.0, le=100.0)
    elevated_off: float = Field(default=40.0, ge=0.0, le=100.0)
    high_on: float = Field(default=75.0, ge=0.0, le=100.0)
    high_off: float = Field(default=65.0, ge=0.0, le=100.0)
    #: a rise needs the score above the onset threshold for this long
    onset_s: float = Field(default=2.0, ge=0.0)
    #: a level is held at least this long before it may fall
    min_level_s: float = Field(default=5.0, ge=0.0)


class FusionSettings(Section):
    """How rule hits and debtor stress become a call level (see :mod:`agent_monitor.pipeline.fusion`).

    Levels are ``none < yellow < orange < red``; the call level only ever rises."""

    #: a hit of this rule severity gives this level (info hits give none)
    yellow_hit_level: WarningLevel = WarningLevel.YELLOW
    orange_hit_level: WarningLevel = WarningLevel.ORANGE
    red_hit_level: WarningLevel = WarningLevel.RED
    #: debtor stress alone: elevated / high give these levels
    stress_elevated_level: WarningLevel = WarningLevel.YELLOW
    stress_high_level: WarningLevel = WarningLevel.ORANGE
    #: a hit while the debtor's stress is high (within ``combo_window_s``) is raised one level
    stress_high_bumps_hit: bool = True
    #: hits and stress this close in call time (seconds) count as co-occurring
    combo_window_s: float = Field(30.0, ge=0.0)
    #: repeated hits: ``repeat_count`` hits of severity at least yellow within ``repeat_window_s``
    #: seconds raise the level one above the highest of them (0 = off)
    repeat_count: int = Field(3, ge=0)
    repeat_window_s: float = Field(120.0, gt=0.0)
    #: act on provisional hits (seen on a partial transcript) for a fast alert; a later withdrawal
    #: does not lower the level (it never goes down) but is recorded on the hit
    act_on_provisional: bool = True
