"""One leg's speech recognition in a worker process: :class:`RemoteTranscriber`.

It keeps the :class:`~agent_monitor.model.stages.Transcriber` semantics of the in-process
transcriber exactly: every ``feed``/``close``/``release`` is the same call made in the worker, and
the transcripts come back as they are (partials, finals, the keyword second pass). It also keeps
the leg's call clock (``t0`` plus the audio fed) and its next utterance number, so that when its
worker dies the leg goes on: the feed in flight (or the next one) fails with
:class:`~agent_monitor.errors.SpeechWorkerError` (the leg worker logs it and counts it; the
audio is recorded all the same; the open utterance is lost), and the next feed opens the leg
again on a live worker at the current call time and utterance number, like a resumed call. While
no worker is running the audio is not transcribed (``untranscribed_s`` counts it).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import replace

from agent_monitor.errors import SpeechWorkerError
from agent_monitor.model.audio import BYTES_PER_SAMPLE, Leg
from agent_monitor.model.transcript import Transcript
from agent_monitor.workers.messages import Close, Feed, Open, Release
from agent_monitor.workers.process import WorkerProcess

log = logging.getLogger(__name__)


class RemoteTranscriber:
    """The :class:`Transcriber` of one leg, run in the worker that ``place`` picks."""

    def __init__(
        self,
        place: Callable[[], tuple[WorkerProcess, int] | None],
        lang: str,
        leg: Leg,
        *,
        t0: float,
        first_utterance: int,
        keywords: Sequence[str],
        sample_rate: int,
    ) -> None:
        """``place``: a live worker (the least loaded) and a new leg key, or ``None`` when none runs."""
        self._place = place
        self.lang = lang
        self.leg = leg
        self.keywords = tuple(keywords)
        self.sample_rate = sample_rate
        #: the call time up to which audio has been fed
        self.clock = t0
        self.next_utterance = first_utterance
        self.untranscribed_s = 0.0
        self.worker: WorkerProcess | None = None
        self._key = -1
        self._drop: weakref.finalize[[WorkerProcess, int], RemoteTranscriber] | None = None
        self._released = False

    async def open(self) -> None:
        """Open the leg on a live worker (nothing when none runs: the next feed tries again)."""
        placed = self._place()
        if placed is None:
            return
        worker, key = placed
        request = Open(-1, key, self.lang, self.leg, self.clock, self.next_utterance, self.keywords)
        worker.add_legs(1)
        try:
            await worker.request(lambda req: replace(request, req=req))
        except BaseException:
            worker.add_legs(-1)
            raise
        self.worker, self._key = worker, key
        # a leg abandoned without release (its task cancelled) is still dropped in the worker
        self._drop = weakref.finalize(self, _drop, worker, key)

    async def feed(self, pcm: bytes) -> list[Transcript]:
        seconds = len(pcm) / BYTES_PER_SAMPLE / self.sample_rate
        if self.worker is not None and not self.worker.alive:
            self.clock += seconds
            self._lost()
        worker = await self._worker()
        self.clock += seconds
        if worker is None:
            self.untranscribed_s += seconds
            return []
        return self._track(await self._ask(worker, lambda req: Feed(req, self._key, pcm)))

    async def close(self) -> list[Transcript]:
        worker = self.worker
        if worker is None:
            return []
        try:
            return self._track(await self._ask(worker, lambda req: Close(req, self._key)))
        except BaseException:
            self._forget()  # the worker dropped the leg (or is gone): nothing to release
            raise

    async def release(self) -> None:
        worker = self.worker
        if worker is None or self._released:
            return
        self._released = True
        self._forget()
        if worker.alive:
            await worker.request(lambda req: Release(req, self._key))

    async def _worker(self) -> WorkerProcess | None:
        """The leg's worker, the leg opened (again) on a live one if it has none."""
        if self.worker is None and not self._released:
            await self.open()
            if self.worker is not None and self.untranscribed_s:
                log.warning("%s leg: transcribed again from %.1f s", self.leg, self.clock)
        return self.worker

    def _lost(self) -> None:
        """The leg's worker died between two requests: its open utterance is lost, say so once
        (the next audio opens the leg on a live worker)."""
        assert self.worker is not None
        death = self.worker.death or "speech worker stopped"
        self._forget()
        raise SpeechWorkerError(f"{self.leg} leg at {self.clock:.1f} s: {death}")

    async def _ask(self, worker: WorkerProcess, make: Callable[[int], Feed | Close]) -> list[Transcript]:
        try:
            result: list[Transcript] = await worker.request(make)
        except SpeechWorkerError as exc:
            self._forget()  # the worker is gone with the leg: the next audio opens it on another
            raise SpeechWorkerError(f"{self.leg} leg at {self.clock:.1f} s: {exc}") from exc
        return result

    def _track(self, transcripts: list[Transcript]) -> list[Transcript]:
        for transcript in transcripts:
            if transcript.final and not transcript.wordless:
                self.next_utterance = max(self.next_utterance, transcript.utterance + 1)
        return transcripts

    def _forget(self) -> None:
        """The leg no longer lives in its worker (released, dropped, or the worker died)."""
        if self._drop is not None:
            self._drop.detach()
            self._drop = None
            if self.worker is not None:
                self.worker.add_legs(-1)
        self.worker = None


def _drop(worker: WorkerProcess, key: int) -> None:
    """A leg's transcriber was garbage-collected unreleased: the worker forgets the leg."""
    worker.add_legs(-1)
    worker.post(Release(-1, key, reuse=False))
