"""Blocking Vosk recognition of one leg, with word times mapped back to the call clock.

Only VAD speech is fed to Vosk, so the recognizer's own clock (seconds of audio fed) skips the
silences. Every run of contiguous audio is recorded as a piece ``(fed_at, call_at)``; a Vosk time
is mapped to the call clock through the piece it falls in.

A :class:`LegRecognizer` is not thread-safe: one worker thread at a time per leg (the async
:class:`asr.streaming.LegTranscriber` guarantees that).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_monitor.errors import RecognizerError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.transcript import Transcript, Word
from asr.keyword_rescore import KeywordRescorer


@dataclass(frozen=True, slots=True)
class SpareRecognizer:
    """A ``KaldiRecognizer`` (words on) ready for a new leg, and where its clock stands.

    Vosk's word times count every sample a recognizer was ever fed, across finals and
    ``Reset()`` (measured with vosk 0.3.45: a recognizer that had heard ``n`` samples gives times
    ``n / rate`` later), so a reused recognizer is handed over with that count.
    """

    kaldi: Any
    fed: int = 0


@dataclass(frozen=True, slots=True)
class _PausePass:
    """The last second pass made at a VAD end of speech: on how many bytes of the utterance and
    against which first-pass words (the final reuses its finding when neither changed)."""

    length: int
    words: tuple[str, ...]


def new_recognizer(model: Any, sample_rate: int) -> SpareRecognizer:
    """A new ``KaldiRecognizer`` of ``model`` with word times on (blocking: about 60 ms of CPU)."""
    from vosk import KaldiRecognizer

    kaldi = KaldiRecognizer(model, sample_rate)
    kaldi.SetWords(True)
    return SpareRecognizer(kaldi)


class LegRecognizer:
    """One ``KaldiRecognizer`` for one leg, fed VAD speech only."""

    def __init__(
        self,
        spare: SpareRecognizer,
        sample_rate: int,
        leg: Leg,
        *,
        lang: str = "en",
        partial_interval_s: float = 0.5,
        partials: bool = True,
        rescorer: KeywordRescorer | None = None,
        rescore_at_pause: bool = True,
    ) -> None:
        """``spare``: a recognizer at ``sample_rate`` (:func:`new_recognizer`, or one reused
        through :meth:`asr.streaming.RecognizerPool.take_recognizer`). ``rescorer``: a second
        pass for key terms on every final (see :mod:`asr.keyword_rescore`), and with
        ``rescore_at_pause`` also at every VAD end of speech (:meth:`speech_paused`)."""
        self.leg = leg
        self.lang = lang
        self.sample_rate = sample_rate
        self._rec = spare.kaldi
        self._partials = partials
        self._partial_every = max(1, int(partial_interval_s * sample_rate)) if partials else 0
        self._since_partial = 0
        self._last_partial: tuple[str, bool] = ("", False)
        self._fed = spare.fed  # samples fed to this Vosk recognizer in total (its clock)
        self._fed_at: list[float] = []  # piece starts on Vosk's clock (s)
        self._call_at: list[float] = []  # ... and on the call clock (s)
        self._next_call_t: float | None = None  # where contiguous audio would continue
        self._utt_start: float | None = None  # call time of the current utterance's first audio
        self._utt_end = 0.0
        self.utterance = 0  # number of the next final
        self._rescorer = rescorer if rescorer else None
        self._utt_pcm = bytearray()  # the open utterance's audio (kept for the second pass only)
        self._utt_fed = 0  # Vosk's clock (samples) at the open utterance's first audio
        self._at_pause = rescore_at_pause and partials
        self._pause_pass: _PausePass | None = None  # the open utterance's last pass at a pause
        self._found_at_pauses: list[dict[str, Any]] = []  # key terms its passes at pauses found

    @property
    def rescorer(self) -> KeywordRescorer | None:
        """The leg's keyword second pass (its pass and CPU counts), if it has one."""
        return self._rescorer

    def spare(self) -> SpareRecognizer:
        """The underlying recognizer and its clock, to hand to the next leg (after a final)."""
        return SpareRecognizer(self._rec, self._fed)

    def accept(self, start: float, pcm: bytes) -> list[Transcript]:
        """Feed speech audio starting at call time ``start``; return a partial and/or a final."""
        if not pcm:
            return []
        n = len(pcm) // BYTES_PER_SAMPLE
        fed_s = self._fed / self.sample_rate
        if self._next_call_t is None or abs(start - self._next_call_t) > 1e-6:
            self._fed_at.append(fed_s)
            self._call_at.append(start)
        self._fed += n
        end = start + n / self.sample_rate
        self._next_call_t = end
        if self._utt_start is None:
            self._utt_start = start
            self._utt_fed = self._fed - n
        if self._rescorer is not None:
            self._utt_pcm += pcm
        self._utt_end = end
        try:
            endpoint = self._rec.AcceptWaveform(pcm)
        except Exception as exc:  # vosk raises plain Exception on internal failure
            raise RecognizerError(f"{self.leg} leg: Vosk failed to accept audio: {exc}") from exc
        if endpoint:
            final = self._final(self._rec.Result())
            return [final] if final else []
        if not self._partials:
            return []
        self._since_partial += n
        if self._since_partial < self._partial_every:
            return []
        self._since_partial = 0
        partial = self.partial_now()
        return [partial] if partial else []

    def partial_now(self) -> Transcript | None:
        """The current partial text of the open utterance, if it changed since the last one."""
        if not self._partials or self._utt_start is None:
            return None
        return self._changed_partial(self._partial_text(), ())

    def speech_paused(self) -> Transcript | None:
        """At a VAD end of speech: the partial, so a word at the end of a turn is seen at once,
        not only when the utterance is settled. With the second pass on, the utterance so far is
        re-decoded against the partial's words; a key term it finds is put into the partial with
        every word's time (so a rule hit on it carries the word's time)."""
        if not self._partials or self._utt_start is None:
            return None
        text = self._partial_text()
        if self._rescorer is None or not self._at_pause or not text:
            return self._changed_partial(text, (), at_pause=True)
        words, pcm = tuple(text.split()), bytes(self._utt_pcm)
        found = self._rescorer.rescore(pcm, words)
        self._pause_pass = _PausePass(len(pcm), words)
        self._found_at_pauses = _merged(self._found_at_pauses, found.missed)
        placed = self._placed(found.words, self._utt_fed / self.sample_rate)
        if not found.missed and [w.text for w in placed] != list(words):
            placed = ()  # the grammar's words are not the partial's: keep the partial, untimed
        return self._changed_partial(" ".join(w.text for w in placed) or text, placed, at_pause=True)

    def _partial_text(self) -> str:
        return str(json.loads(self._rec.PartialResult()).get("partial", "")).strip()

    def _changed_partial(
        self, text: str, words: tuple[Word, ...], at_pause: bool = False
    ) -> Transcript | None:
        """A partial with ``text`` unless it was given already (a partial at a pause is given once
        more with the same text: it is then judged as a phrase, see :class:`Transcript`)."""
        key = (text, at_pause)
        if (
            not text
            or self._utt_start is None
            or key == self._last_partial
            or (not at_pause and text == self._last_partial[0])
        ):
            return None
        self._last_partial = key
        return Transcript(
            leg=self.leg,
            utterance=self.utterance,
            start=self._utt_start,
            end=max(self._utt_end, words[-1].end) if words else self._utt_end,
            text=text,
            final=False,
            words=words,
            lang=self.lang,
            at_pause=at_pause,
        )

    def end_segment(self) -> Transcript | None:
        """The VAD says the speech is over: settle the utterance."""
        return self._final(self._rec.FinalResult())

    def discard_segment(self) -> None:
        """Drop what was fed since the last final (noise too short to be speech)."""
        self._rec.FinalResult()
        self._reset_utterance()

    def to_call_time(self, t: float) -> float:
        """Map a time on Vosk's clock (seconds of audio fed) to the call clock."""
        if not self._fed_at:
            return t
        i = max(0, bisect.bisect_right(self._fed_at, t + 1e-9) - 1)
        return self._call_at[i] + (t - self._fed_at[i])

    def _reset_utterance(self) -> None:
        self._utt_start = None
        self._pause_pass = None
        self._found_at_pauses = []
        self._utt_pcm = bytearray()
        self._last_partial = ("", False)
        self._since_partial = 0

    def _placed(self, found: Sequence[dict[str, Any]], fed_s: float) -> tuple[Word, ...]:
        """Vosk word results timed from ``fed_s`` on Vosk's clock, as words on the call clock."""
        return tuple(
            Word(
                text=str(w["word"]),
                start=round(self.to_call_time(fed_s + float(w["start"])), 3),
                end=round(self.to_call_time(fed_s + float(w["end"])), 3),
                conf=float(w.get("conf", 1.0)),
            )
            for w in found
        )

    def _missed(
        self, pcm: bytes, found_words: Sequence[dict[str, Any]], paused: _PausePass | None
    ) -> list[dict[str, Any]]:
        """The second pass's key terms for a final: what the passes at the utterance's pauses
        found, and, unless the last of them saw the same audio and words or the first pass was
        sure of every word (:meth:`KeywordRescorer.worth_it`), a new pass's finding.

        A term found at a pause was warned about already; it stays unless the final's first pass
        has it: the final's words often differ from the partial's (Vosk's final decode), and their
        one-edit variants then need not contain the phrase the pause's pass preferred."""
        if self._rescorer is None:
            return []
        words = tuple(str(w["word"]) for w in found_words)
        found = [w for w in self._found_at_pauses if w["word"] not in words]
        if paused is not None and paused.length == len(pcm) and paused.words == words:
            self._rescorer.reused += 1
            return found
        if not self._rescorer.worth_it([float(w.get("conf", 1.0)) for w in found_words]):
            return found
        return _merged(found, self._rescorer.rescore(pcm, words).missed)

    def _final(self, raw: str) -> Transcript | None:
        result = json.loads(raw)
        text = str(result.get("text", "")).strip()
        utt_start, utt_end, fed_s = self._utt_start, self._utt_end, self._utt_fed / self.sample_rate
        found = result.get("result", [])
        missed = (
            [
                {**w, "start": fed_s + w["start"], "end": fed_s + w["end"]}
                for w in self._missed(bytes(self._utt_pcm), found, self._pause_pass)
            ]
            if text
            else []
        )
        speech_s = (self._fed - self._utt_fed) / self.sample_rate if utt_start is not None else 0.0
        self._reset_utterance()
        if not text:
            return self._wordless(utt_start, utt_end, speech_s)
        if missed:
            found = sorted([*found, *missed], key=lambda w: float(w["start"]))
            text = " ".join(str(w["word"]) for w in found)
        words = self._placed(found, 0.0)
        start = words[0].start if words else (utt_start or 0.0)
        end = words[-1].end if words else utt_end
        transcript = Transcript(
            leg=self.leg,
            utterance=self.utterance,
            start=start,
            end=end,
            text=text,
            final=True,
            words=words,
            lang=self.lang,
            speech_s=round(speech_s, 3),
        )
        self.utterance += 1
        return transcript

    def _wordless(self, start: float | None, end: float, speech_s: float) -> Transcript | None:
        """The final of speech Vosk made no word of (its number stays for the next utterance)."""
        if start is None or speech_s <= 0:
            return None
        return Transcript(
            leg=self.leg,
            utterance=self.utterance,
            start=start,
            end=end,
            text="",
            final=True,
            lang=self.lang,
            speech_s=round(speech_s, 3),
        )


def _merged(found: Sequence[dict[str, Any]], more: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``found`` and the words of ``more`` that overlap no word of it in time."""
    out = list(found)
    for w in more:
        if not any(w["start"] < o["end"] and o["start"] < w["end"] for o in out):
            out.append(w)
    return sorted(out, key=lambda w: float(w["start"]))
