"""The stage interfaces: what the pipeline and the web app need from ASR, rules and stress.

The services (``pipeline``, ``ingest``, ``web``) depend on these Protocols only; the stage packages
(``asr``, ``qa_rules``, ``emotion``) provide classes that satisfy them, and the composition root
(:mod:`agent_monitor.compose`) builds those and hands them over as one :class:`Stages` bundle.
Every signature speaks the data model (times in call-clock seconds, audio as 16-bit mono PCM at
``settings.asr.sample_rate``).

In the manner of a speech toolkit's *STT + stream adapter*: a **factory**, built once per process
(shared models, spare recognizers, warm-up), opens one **per-leg stream** object for each leg of
each call; the stream is fed in order from one task and closed at the end of the leg.

- :class:`TranscriberFactory` -> :class:`Transcriber`: speech in, :class:`Transcript` events out.
- :class:`CheckerFactory` -> :class:`LegChecker`: a leg's transcripts in, rule :class:`HitEvent` s
  out; the factory also runs the call-level checks (calling hours, call frequency) and names the
  key terms the recognizer checks again on every final.
- :class:`StressFactory` -> :class:`StressScorer`: a leg's audio (and its words) in, stress
  samples and level changes out.
- :class:`RulePacks`: the rule packs the server loads, listed and linted (admin pages), and the
  rule set rebuilt from a :class:`PackSelection` (packs enabled, disabled, uploaded).
- :class:`Runner`: the process's shared worker threads for blocking work (Vosk, rules, numpy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from agent_monitor.lanes import LaneStats
from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import CallRecord
from agent_monitor.model.rules import CallFacts, HitEvent, RequiredDisclosure, RuleHit
from agent_monitor.model.stress import StressEvent, StressSample
from agent_monitor.model.transcript import Transcript, Word

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MissingModel:
    """A call language the process cannot transcribe: its configured model and the reason."""

    lang: str
    model: str
    reason: str
    #: the reason without the server's paths, for anyone who asks (``GET /api/languages`` is public)
    public_reason: str = ""

    @property
    def message(self) -> str:
        """The sentence shown to people (signal health, start-up line)."""
        return f"no {self.lang} model installed: not transcribed"

    def to_public_dict(self) -> dict[str, str]:
        """``{model, reason}`` naming no file or folder of the server."""
        return {"model": model_name(self.model), "reason": self.public_reason or self.message}


def model_name(model: str) -> str:
    """A configured model (a name, or a model directory's path) as its name: the last path part."""
    return model.replace("\\", "/").rstrip("/").rpartition("/")[2] or model


@dataclass(frozen=True, slots=True)
class PackCheck:
    """One rule pack checked: its name, version and rule count, or the one-line error."""

    file: str
    ok: bool
    name: str | None = None
    version: str | None = None
    rules: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class UploadedPack:
    """One version of a rule pack uploaded from the admin page: its name, version and YAML."""

    name: str
    version: int
    text: str


@dataclass(frozen=True, slots=True)
class PackSelection:
    """What the live rule set is built from: the installed pack files but ``disabled_files`` (named
    as :attr:`PackCheck.file`), plus the enabled versions of uploaded packs."""

    uploaded: tuple[UploadedPack, ...] = ()
    disabled_files: frozenset[str] = frozenset()


class Runner(Protocol):
    """Shared worker threads: every blocking call of the live path runs here, never on the loop
    (:class:`agent_monitor.lanes.LaneExecutor`)."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Work that holds up a leg's recognition or an alert (Vosk, rules): served first."""
        ...

    async def run_deferred(self, fn: Callable[..., T], *args: Any) -> T:
        """Work whose result may come later (debtor stress): runs when no urgent job waits."""
        ...

    def lane_stats(self) -> tuple[LaneStats, ...]:
        """Jobs, queue waits and CPU of each lane so far."""
        ...


class Transcriber(Protocol):
    """Speech recognition of one leg. ``feed``/``close`` are awaited in order, from one task."""

    async def feed(self, pcm: bytes) -> list[Transcript]:
        """The leg's next audio; returns the partial and final transcripts it completed (finals
        also for speech it made no word of: :attr:`Transcript.wordless`)."""
        ...

    async def close(self) -> list[Transcript]:
        """End of the leg's audio: settle the last utterance."""
        ...

    async def release(self) -> None:
        """After :meth:`close`: hand the recognizer back for reuse by a later leg."""
        ...


class TranscriberFactory(Protocol):
    """The speech model of each call language, loaded once per process."""

    def can_transcribe(self, lang: str) -> bool:
        """Whether calls in ``lang`` are transcribed (its model is installed and loaded)."""
        ...

    def missing_model(self, lang: str) -> MissingModel:
        """Why ``lang`` is not transcribed (shown as the legs' ``NO_MODEL`` signal health)."""
        ...

    async def transcriber(
        self, lang: str, leg: Leg, *, t0: float, first_utterance: int, keywords: Sequence[str]
    ) -> Transcriber:
        """A stream for one leg (a spare recognizer when there is one). ``t0``: the leg's call time
        so far (resumed calls); ``first_utterance``: its next utterance number; ``keywords``: key
        terms checked again on every final. Raises :class:`ModelError` for a language that
        :meth:`can_transcribe` refuses."""
        ...

    async def prewarm(self) -> None:
        """Build spare per-leg recognizers before the first call."""
        ...

    def describe(self) -> str:
        """One line: what is transcribed and what is not (and why)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """``{"transcribed": {lang: model}, "not_transcribed": {lang: {model, reason}}}``: model names
        and reasons without the server's paths (:meth:`MissingModel.to_public_dict`)."""
        ...

    def close(self) -> None: ...


class LegChecker(Protocol):
    """The rules of one leg of one call, fed its transcripts in order (called in a worker thread)."""

    def update(self, transcript: Transcript) -> list[HitEvent]:
        """A partial or final transcript: provisional, confirmed or withdrawn hits."""
        ...

    def advance(self, t: float) -> list[HitEvent]:
        """The leg's clock reached ``t``: confirmed hits of must-say rules whose window passed."""
        ...

    def checklist(self) -> tuple[RequiredDisclosure, ...]:
        """The leg's must-say rules as a checklist: said, missed or still due."""
        ...


class CheckerFactory(Protocol):
    """The loaded rule set: per-leg checkers plus the checks on a call's metadata."""

    def checker(self, lang: str, leg: Leg, facts: CallFacts | None = None) -> LegChecker:
        """A checker of one leg of a call; the call's two legs share ``facts`` (what one leg's
        rules learned that the other's read: the debtor said it was a wrong number)."""
        ...

    def key_terms(self, lang: str, leg: Leg) -> tuple[str, ...]:
        """The words the recognizer checks again on every final of this leg (may be empty)."""
        ...

    def calling_hours(self, calls: Iterable[CallRecord]) -> list[RuleHit]:
        """Calls placed outside the allowed hours in the debtor's time zone."""
        ...

    def call_frequency(self, call_id: str, calls: Iterable[CallRecord]) -> list[RuleHit]:
        """Frequency-cap hits about the call ``call_id`` (the other ``calls`` are its history)."""
        ...


class StressScorer(Protocol):
    """Stress of one leg's speaker (called in a worker thread, in order)."""

    def push_pcm(self, pcm: bytes) -> list[StressSample]: ...

    def add_words(self, words: Iterable[Word], until: float | None = None) -> None:
        """Recognised words (for the speaking rate) up to call time ``until``."""
        ...

    def finish(self) -> list[StressSample]:
        """End of the leg's audio: the last samples."""
        ...

    def drain_events(self) -> list[StressEvent]:
        """Level changes since the last call."""
        ...


class StressFactory(Protocol):
    """Builds a scorer per scored leg (blocking: may load a model file)."""

    def scored(self, leg: Leg) -> bool:
        """Whether ``leg``'s speaker is scored at all (the debtor)."""
        ...

    def scorer(self, leg: Leg, t0: float) -> StressScorer: ...


class RulePacks(Protocol):
    """The rule packs the server loads, for the admin pages (blocking: reads files)."""

    def installed(self) -> list[PackCheck]:
        """Every configured pack, each loaded and checked."""
        ...

    def lint(self, text: str) -> PackCheck:
        """A pack's YAML text checked without installing it."""
        ...

    def try_text(self, text: str, lang: str, pack_text: str | None = None) -> list[RuleHit]:
        """The hits of ``text`` said by the agent, with the pack ``pack_text`` (YAML) or, when
        ``None``, the installed packs; a broken pack raises ``RulePackError`` naming ``pack.yaml``."""
        ...

    def build(self, selection: PackSelection) -> CheckerFactory:
        """A new rule set (for calls that start later) from the selected packs; a broken or
        clashing pack raises ``RulePackError`` naming it (by file or ``name vN``)."""
        ...


@dataclass(frozen=True, slots=True)
class Stages:
    """Everything the services receive from the stages, built by :mod:`agent_monitor.compose`."""

    transcribers: TranscriberFactory
    checkers: CheckerFactory
    stress: StressFactory
    packs: RulePacks
    #: the shared threads for blocking stage work (rules, stress, recognition)
    runner: Runner

    def close(self) -> None:
        """Release the models and threads (blocking)."""
        self.transcribers.close()
