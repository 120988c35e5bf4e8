"""Recognised speech: words with times and partial/final transcripts of one leg."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_monitor.model.audio import Leg


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word; ``start``/``end`` in call seconds, ``conf`` in [0, 1]."""

    text: str
    start: float
    end: float
    conf: float = 1.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """The text of one utterance of one leg.

    A partial transcript (``final=False``) may be replaced by later partials and is settled by the
    final one with the same ``utterance`` number. Partials from Vosk carry no word times, so
    ``words`` may be empty for them. ``at_pause``: a partial given at a VAD end of speech (the
    speaker paused after it), so a phrase rather than a sentence cut mid-word.

    ``speech_s`` (finals): seconds of VAD speech the recognizer was given for the utterance. A
    final with no text (:attr:`wordless`) is speech the recognizer made no word of: it is shown
    and stored nowhere and no rule reads it; signal health counts it (``unclear``), since deleted
    words show in no word confidence.
    """

    leg: Leg
    utterance: int
    start: float
    end: float
    text: str
    final: bool
    words: tuple[Word, ...] = field(default=())
    lang: str = "en"
    at_pause: bool = False
    speech_s: float = 0.0

    @property
    def wordless(self) -> bool:
        """A final the recognizer made no word of (see the class documentation)."""
        return self.final and not self.text
