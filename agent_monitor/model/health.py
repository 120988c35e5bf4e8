"""Signal health of a call leg: what the monitor can and cannot hear.

A :class:`HealthIssue` names one problem with a leg's audio or its processing; a
:class:`LegHealth` reading says whether an issue started (``active``) or cleared, with the measured
figures behind it and a sentence for people ("debtor leg silent for 45 s"). Readings travel on the
bus as :class:`agent_monitor.model.events.SignalHealth` events, are stored with the call and shown
on the supervisor's tile, the agent panel and in QA review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from agent_monitor.model.audio import Leg


class HealthIssue(StrEnum):
    """One thing that stops the monitor from hearing a leg properly."""

    SILENT = "silent"  # no speech (or no signal at all) for a long stretch
    LOW_LEVEL = "low_level"  # speech far below a normal telephone level
    CLIPPING = "clipping"  # samples pinned at full scale
    NOISY = "noisy"  # background noise close to the speech level
    ONE_WAY = "one_way"  # one leg carries speech, the other nothing for a long stretch
    ENCODING_MISMATCH = "encoding_mismatch"  # audio plainly not what the start message declared
    NO_MODEL = "no_model"  # no speech model for the call's language: the leg is not transcribed
    UNCLEAR = "unclear"  # speech heard, but the recognizer is unsure of most words it makes of it


@dataclass(frozen=True, slots=True)
class LegHealth:
    """A health issue of one leg started (``active``) or cleared, at ``t`` call seconds.

    ``message`` is the sentence shown to people; ``figures`` the measured values behind it
    (e.g. ``{"silent_s": 45.0}`` or ``{"speech_dbfs": -52.1, "noise_dbfs": -70.3}``).
    """

    leg: Leg
    issue: HealthIssue
    active: bool
    message: str
    figures: dict[str, float] = field(default_factory=dict)
