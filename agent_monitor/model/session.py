"""A live (or replayed) call as the pipeline sees it: who, what audio, and its warning level.

:class:`CallInfo` is what an ingest protocol knows when a call starts; :class:`LevelReason` is one
reason behind the fused level of a call (a :class:`~agent_monitor.model.levels.WarningLevel`).
Times on the call clock are float seconds since the call started; ``started_at`` is UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agent_monitor.model.audio import Leg
from agent_monitor.model.calls import PHONE_DEBT, call_phone_key
from agent_monitor.model.identifiers import (
    MAX_ID_CHARS,
    MAX_PHONE_CHARS,
    debtor_zones,
    identifier_problem,
)
from agent_monitor.model.levels import WarningLevel

#: where a call's audio comes from
Source = Literal["ws-ingest", "twilio", "audiosocket", "capture", "file"]
#: how the audio bytes pushed into a session are encoded
Encoding = Literal["L16", "mulaw", "alaw"]

SOURCES: tuple[str, ...] = ("ws-ingest", "twilio", "audiosocket", "capture", "file")
ENCODINGS: tuple[str, ...] = ("L16", "mulaw", "alaw")


#: the identifier fields of :class:`CallInfo` and their length limits
_ID_FIELDS = (
    ("call_id", MAX_ID_CHARS),
    ("agent_id", MAX_ID_CHARS),
    ("debtor_id", MAX_ID_CHARS),
    ("debtor_phone", MAX_PHONE_CHARS),
    ("debtor_tz", MAX_ID_CHARS),
    ("debt_id", MAX_ID_CHARS),
)


@dataclass(frozen=True, slots=True)
class CallInfo:
    """The metadata of a call, given when it starts.

    ``sample_rate`` and ``encoding`` describe the audio bytes pushed into the session (``L16``:
    16-bit little-endian signed PCM; ``mulaw`` / ``alaw``: G.711 mu-law / A-law, one byte per
    sample), one mono stream per leg. ``debtor_tz``: the debtor's IANA zone, or several joined by
    commas where the place is not certain (:func:`~agent_monitor.model.identifiers.debtor_zones`;
    the calling-hours rule holds the call to every one). ``debt_id``: the debt the call is about
    (Regulation F counts calls per debt; without one the debtor id stands for the debt);
    ``consented``: the person gave their direct prior consent to this call (a callback they asked
    for), so it is left out of the frequency counts (12 CFR 1006.14(b)(3)).
    """

    call_id: str
    agent_id: str
    debtor_id: str | None = None
    debtor_phone: str | None = None
    debtor_tz: str | None = None
    lang: str = "en"
    source: Source = "ws-ingest"
    sample_rate: int = 8000
    encoding: Encoding = "L16"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    debt_id: str | None = None
    consented: bool = False

    def __post_init__(self) -> None:
        from agent_monitor.errors import PipelineError

        if not self.call_id:
            raise PipelineError("a call needs a non-empty call id")
        if not self.agent_id:
            raise PipelineError(f"call {self.call_id}: an agent id is required")
        for name, limit in _ID_FIELDS:
            value = getattr(self, name)
            problem = None if value is None else identifier_problem(value, limit)
            if problem is not None:
                raise PipelineError(f"call {self.call_id[:MAX_ID_CHARS]!r}: {name} {problem}")
        if not isinstance(self.consented, bool):
            raise PipelineError(
                f"call {self.call_id}: consented must be true or false, not {self.consented!r}"
            )
        if self.lang not in ("en", "zh"):
            raise PipelineError(f"call {self.call_id}: language must be en or zh, not {self.lang!r}")
        if self.source not in SOURCES:
            raise PipelineError(f"call {self.call_id}: unknown source {self.source!r}")
        if self.encoding not in ENCODINGS:
            raise PipelineError(
                f"call {self.call_id}: encoding must be L16, mulaw or alaw, not {self.encoding!r}"
            )
        if not 4000 <= self.sample_rate <= 48000:
            raise PipelineError(f"call {self.call_id}: unusable sample rate {self.sample_rate}")
        if self.started_at.tzinfo is None:
            raise PipelineError(f"call {self.call_id}: started_at must be timezone-aware")
        if self.debtor_tz is not None:
            try:
                debtor_zones(self.debtor_tz)
            except ValueError as exc:
                raise PipelineError(f"call {self.call_id}: {exc}") from None

    @property
    def debtor_zones(self) -> tuple[str, ...]:
        """The debtor's possible zones (none when the call came without ``debtor_tz``)."""
        return debtor_zones(self.debtor_tz) if self.debtor_tz else ()

    @property
    def phone_key(self) -> str | None:
        """What the calls to this call's number are matched by (:func:`call_phone_key`: its digits,
        a national number read in the country of the call's jurisdiction)."""
        return call_phone_key(self.debtor_phone, self.debtor_tz, self.lang)

    @property
    def by_phone(self) -> bool:
        """Whether the call's history is the calls to its phone number: it named neither its debtor
        nor its debt."""
        return not (self.debt_id or self.debtor_id)

    @property
    def frequency_key(self) -> str | None:
        """What the frequency rule counts this call's history by: its debt id, else its debtor id,
        else its phone number (``phone <digits>``, :attr:`phone_key`: every stored call to that
        number); ``None`` when the call gives none of them (no history to count)."""
        if not self.by_phone:
            return self.debt_id or self.debtor_id
        key = self.phone_key
        return None if key is None else PHONE_DEBT + key

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "L16" else 1

    def to_dict(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "debtor_id": self.debtor_id,
            "debtor_phone": self.debtor_phone,
            "debtor_tz": self.debtor_tz,
            "debt_id": self.debt_id,
            "consented": self.consented,
            "lang": self.lang,
            "source": self.source,
            "sample_rate": self.sample_rate,
            "encoding": self.encoding,
            "started_at": self.started_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Holder:
    """The process that holds a live call: its node's name on a floor (``Settings.node_id``) and
    its own instance id (a node restarted is another instance of the same node)."""

    node: str
    instance: str


@dataclass(frozen=True, slots=True)
class LevelReason:
    """One reason behind a level: a rule hit, a stress reading, or a combination of them.

    ``kind`` is ``rule``, ``stress``, ``combo`` (a hit while the debtor was highly stressed) or
    ``repeat`` (several hits close together). ``t`` is the call time of the evidence.
    """

    kind: str
    level: WarningLevel
    text: str
    t: float
    rule: str | None = None
    severity: str | None = None
    leg: Leg | None = None
    hit_status: str | None = None
    stress_level: str | None = None
    stress_score: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "level": self.level.value,
            "text": self.text,
            "t": self.t,
            "rule": self.rule,
            "severity": self.severity,
            "leg": None if self.leg is None else self.leg.value,
            "hit_status": self.hit_status,
            "stress_level": self.stress_level,
            "stress_score": self.stress_score,
        }


@dataclass(frozen=True, slots=True)
class LegStats:
    """Audio accounting of one leg (seconds of audio at the received rate)."""

    received_s: float = 0.0
    processed_s: float = 0.0
    queued_s: float = 0.0
    dropped_chunks: int = 0
    dropped_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "received_s": self.received_s,
            "processed_s": self.processed_s,
            "queued_s": self.queued_s,
            "dropped_chunks": self.dropped_chunks,
            "dropped_s": self.dropped_s,
        }


@dataclass(frozen=True, slots=True)
class SessionStats:
    """A snapshot of a call session: per-leg audio, findings and the level so far."""

    call_id: str
    legs: dict[Leg, LegStats]
    level: WarningLevel
    utterances: int
    hits: int
    alerts: int
    stress_samples: int

    @property
    def lag_s(self) -> float:
        """How far recognition is behind the received audio (worst leg)."""
        return max((s.received_s - s.processed_s for s in self.legs.values()), default=0.0)

    @property
    def dropped_chunks(self) -> int:
        return sum(s.dropped_chunks for s in self.legs.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "legs": {leg.value: s.to_dict() for leg, s in self.legs.items()},
            "level": self.level.value,
            "utterances": self.utterances,
            "hits": self.hits,
            "alerts": self.alerts,
            "stress_samples": self.stress_samples,
            "lag_s": self.lag_s,
        }
