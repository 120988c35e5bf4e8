"""What the pipeline reports for monitoring: :class:`PipelineMetrics` (a Protocol) and a no-op.

The pipeline never imports the web layer; the server hands the call manager an implementation
(:class:`web.metrics.PrometheusMetrics`, one registry per application) and everything else
(tests, ``analyze``) gets :data:`NO_METRICS`. Every method is called on the event loop and must
return at once (no I/O, no waiting). Values that exist as state anyway (live calls, queue depths)
are not pushed here: the scrape reads them.

- ``recognition_lag``: after each batch of a leg's audio is processed, how far recognition is
  behind the audio received on that leg (seconds of call audio: received minus processed);
- ``audio_dropped``: seconds of a leg's audio dropped from recognition (a full inbox);
- ``alert_published``: seconds from the end of the offending words (call clock) to the alert being
  published (the call clock at publication, from the wall clock);
- ``db_write``: wall seconds of one outbox transaction (one attempt, in the writer thread pool).
"""

from __future__ import annotations

from typing import Protocol

from agent_monitor.model.audio import Leg


class PipelineMetrics(Protocol):
    def recognition_lag(self, leg: Leg, seconds: float) -> None: ...

    def audio_dropped(self, leg: Leg, seconds: float) -> None: ...

    def alert_published(self, latency_s: float) -> None: ...

    def db_write(self, seconds: float) -> None: ...


class NoMetrics:
    """Reports nothing (no metrics endpoint: tests, file analysis)."""

    def recognition_lag(self, leg: Leg, seconds: float) -> None:
        pass

    def audio_dropped(self, leg: Leg, seconds: float) -> None:
        pass

    def alert_published(self, latency_s: float) -> None:
        pass

    def db_write(self, seconds: float) -> None:
        pass


NO_METRICS: PipelineMetrics = NoMetrics()
