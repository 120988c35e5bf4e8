"""Async, VAD-gated streaming transcription.

:class:`RecognizerPool` holds the process's one shared ``vosk.Model`` and a thread pool sized to
the cores; every blocking Vosk call runs there, never on the event loop. A
:class:`LegTranscriber` joins the webrtcvad segmenter (cheap, runs inline) and a
:class:`~asr.recognizer.LegRecognizer` for one leg. Feed one leg from one task, in order.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from agent_monitor.errors import ModelError, RecognizerError
from agent_monitor.lanes import LaneExecutor
from agent_monitor.model.audio import Leg, SpeechSegment
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import MODEL_MANIFEST, Settings
from asr.keyword_rescore import KeywordRescorer
from asr.model_loading import load_language_model
from asr.model_manifest import load_manifest
from asr.model_path import resolve_model_path
from asr.recognizer import LegRecognizer, SpareRecognizer, new_recognizer
from asr.vad import SpeechAudio, SpeechEnded, VadOutput, VadSegmenter
from asr.warmup import pseudo_speech, warm_up

T = TypeVar("T")
_SAME: Any = object()  # RecognizerPool's default grammar model: its own model


def model_language(name: str) -> str:
    """The transcript language (``en`` or ``zh``) of a model, from the manifest or its name."""
    lang = ""
    try:
        spec = load_manifest(MODEL_MANIFEST).get(name)
        lang = spec.lang if spec else ""
    except ModelError:
        lang = ""
    lang = (lang or Path(name).name).lower()
    return "zh" if any(tag in lang for tag in ("zh", "cn")) else "en"


class RecognizerPool:
    """The shared Vosk model and the worker threads that run every blocking Vosk call.

    It also keeps *spare* ``KaldiRecognizer`` objects. Creating one costs about 60 ms of CPU
    (measured with the small English model): done on the event loop it would stall every call,
    and eight calls starting at once would put half a second of work in front of their first
    audio. So :meth:`take_recognizer` hands out a spare (or builds one in a worker thread),
    :meth:`give_back` settles and resets a finished leg's recognizer in a worker thread and keeps
    it (at most ``max_spares``), and :meth:`prewarm` builds spares before the first call arrives.
    A reused recognizer is also cheaper: a never-used one costs about 2.5x more CPU over its first
    8 s of speech (measured with the small English model), and word error rate on the shared
    English sets was the same (48.2% reused after another speaker, 48.4% new).
    """

    def __init__(
        self,
        model: Any,
        *,
        lang: str = "en",
        workers: int = 0,
        sample_rate: int = 16000,
        max_spares: int = 16,
        warmup_s: float = 0.0,
        executor: LaneExecutor | None = None,
        grammar_model: Any | None = _SAME,
        static_graph: Path | None = None,
    ) -> None:
        """``executor``: threads shared with other pools (one per language, :mod:`asr.languages`);
        their owner shuts them down. Default: this pool's own ``workers`` threads.
        ``grammar_model``: the model the keyword second pass builds grammar recognizers on
        (default ``model``; ``None``: no second pass); ``static_graph``: the built static graph
        ``model`` was loaded with (:mod:`asr.model_loading`), if any."""
        self.model = model
        self.grammar_model = model if grammar_model is _SAME else grammar_model
        self.static_graph = static_graph
        self.lang = lang
        #: the rate every spare recognizer is built for (``settings.asr.sample_rate``)
        self.sample_rate = sample_rate
        self.workers = workers or os.cpu_count() or 1
        self.max_spares = max_spares
        self._own_executor = executor is None
        self._executor = executor or LaneExecutor(self.workers, "vosk")
        self.warmup_s = warmup_s
        self._spares: list[SpareRecognizer] = []
        self.created = 0  # recognizers built so far (for tests and metrics)
        self.warmed = 0  # ... of which warmed by :meth:`prewarm`

    @classmethod
    def from_settings(cls, settings: Settings, model_name: str | None = None) -> RecognizerPool:
        name = model_name or settings.asr.model
        path = resolve_model_path(settings, name)
        lang = model_language(name)
        loaded = load_language_model(path, settings.asr, lang)
        return cls(
            loaded.decoding,
            lang=lang,
            workers=settings.asr.threads,
            sample_rate=settings.asr.sample_rate,
            max_spares=settings.asr.spare_recognizers,
            warmup_s=settings.asr.warmup_s,
            grammar_model=loaded.grammar,
            static_graph=loaded.static_graph,
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _new_recognizer(self) -> SpareRecognizer:
        self.created += 1
        return new_recognizer(self.model, self.sample_rate)

    async def take_recognizer(self) -> SpareRecognizer:
        """A recognizer for a new leg: a spare, or one built in a worker thread."""
        if self._spares:
            return self._spares.pop()
        return await self.run(self._new_recognizer)

    async def give_back(self, spare: SpareRecognizer) -> None:
        """Keep the recognizer of an ended leg as a spare (if there is room), settled and reset.

        ``FinalResult`` first: a ``Reset()`` in the middle of an utterance does not clear Vosk's
        decoder (measured: the next audio's word times then drift), after a final it does."""
        if len(self._spares) >= self.max_spares:
            return

        def settle() -> None:
            spare.kaldi.FinalResult()
            spare.kaldi.Reset()

        await self.run(settle)
        if len(self._spares) < self.max_spares:
            self._spares.append(spare)

    def _warm_recognizer(self, pcm: bytes) -> SpareRecognizer:
        spare = self._new_recognizer()
        return warm_up(spare, pcm) if pcm else spare

    async def prewarm(self) -> None:
        """Build spares up to ``max_spares`` in the worker threads, each warmed (``warmup_s``).

        Warming is for the lookahead graph (a new recognizer's composition cache is empty): on
        the static graph a new recognizer costs what a warmed one does, so none is warmed."""
        missing = max(0, self.max_spares - len(self._spares))
        warm = missing and self.warmup_s > 0 and self.static_graph is None
        pcm = pseudo_speech(self.warmup_s, self.sample_rate) if warm else b""
        built = await asyncio.gather(*(self.run(self._warm_recognizer, pcm) for _ in range(missing)))
        self.warmed += len(built) if pcm else 0
        self._spares.extend(built)

    @property
    def spares(self) -> int:
        return len(self._spares)

    def close(self) -> None:
        if self._own_executor:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._spares.clear()


class LegTranscriber:
    """VAD + Vosk for one leg. ``feed`` and ``close`` must be awaited in order, from one task."""

    def __init__(
        self,
        pool: RecognizerPool,
        settings: Settings,
        leg: Leg,
        *,
        t0: float = 0.0,
        partials: bool = True,
        on_segment: Callable[[SpeechSegment], None] | None = None,
        spare: SpareRecognizer | None = None,
        keywords: Sequence[str] = (),
    ) -> None:
        """``spare``: a recognizer from ``pool.take_recognizer()`` (built here, blocking, if
        not given); hand it back with :meth:`release` once the leg is closed. ``keywords``: key
        terms checked again on every final by a second pass (``settings.asr.keyword_second_pass``;
        see :mod:`asr.keyword_rescore`)."""
        rate = settings.asr.sample_rate
        if spare is not None and rate != pool.sample_rate:
            raise RecognizerError(f"the pool's recognizers run at {pool.sample_rate} Hz, not {rate} Hz")
        self.leg = leg
        self.pool = pool
        self.vad = VadSegmenter(settings.vad, rate, leg, t0=t0)
        self.recognizer = LegRecognizer(
            spare if spare is not None else new_recognizer(pool.model, rate),
            rate,
            leg,
            lang=pool.lang,
            partial_interval_s=settings.asr.partial_interval_s,
            partials=partials,
            rescorer=KeywordRescorer(
                pool.grammar_model, rate, keywords, below_conf=settings.asr.keyword_second_pass_below_conf
            )
            if keywords and settings.asr.keyword_second_pass and pool.grammar_model is not None
            else None,
            rescore_at_pause=settings.asr.keyword_second_pass_at_pause,
        )
        self._released = False
        self._on_segment = on_segment
        self._settle_after = settings.asr.final_after_silence_s
        self._settle_at: float | None = None  # call time at which the open utterance is settled
        self.segments = 0

    async def feed(self, pcm: bytes) -> list[Transcript]:
        """Add the leg's next audio (16-bit PCM at ``settings.asr.sample_rate``)."""
        return await self._process(self.vad.push(pcm), closing=False)

    async def close(self) -> list[Transcript]:
        """End of the leg's audio: settle the last utterance."""
        return await self._process(self.vad.flush(), closing=True)

    async def release(self) -> None:
        """After :meth:`close`: give the recognizer back to the pool for the next leg."""
        if not self._released:
            self._released = True
            await self.pool.give_back(self.recognizer.spare())

    def _settle_due(self, closing: bool) -> bool:
        if self._settle_at is None:
            return False
        return closing or (not self.vad.in_speech and self.vad.time >= self._settle_at)

    async def _process(self, outputs: list[VadOutput], *, closing: bool) -> list[Transcript]:
        if not outputs and not self._settle_due(closing):
            return []
        transcripts, segments = await self.pool.run(self._recognize, outputs, closing)
        if self._on_segment is not None:
            for segment in segments:
                self._on_segment(segment)
        return transcripts

    def _recognize(
        self, outputs: list[VadOutput], closing: bool
    ) -> tuple[list[Transcript], list[SpeechSegment]]:
        """Runs in a worker thread.

        A VAD end of speech does not settle the utterance at once: speech resuming within
        ``asr.final_after_silence_s`` continues it, so Vosk keeps its decoding context (settling
        at every pause cost 1.7 WER points on spontaneous speech). Vosk's own endpoints still give
        finals at any time.
        """
        results: list[Transcript] = []
        segments: list[SpeechSegment] = []
        for out in outputs:
            if isinstance(out, SpeechAudio):
                if self._settle_at is not None and out.start >= self._settle_at:
                    self._settle(results)
                self._settle_at = None
                results.extend(self.recognizer.accept(out.start, out.pcm))
            elif isinstance(out, SpeechEnded):
                self.segments += 1
                segments.append(out.segment)
                if out.too_short and self._settle_at is None:
                    self.recognizer.discard_segment()
                    continue
                self._settle_at = out.segment.end + self._settle_after
                partial = self.recognizer.speech_paused()
                if partial is not None:
                    results.append(partial)
        if self._settle_due(closing):
            self._settle(results)
        return results, segments

    def _settle(self, results: list[Transcript]) -> None:
        self._settle_at = None
        final = self.recognizer.end_segment()
        if final is not None:
            results.append(final)
