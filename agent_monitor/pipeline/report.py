"""The report of a call, read back from the database: utterances, hits, stress, alerts, level.

What ``agent-monitor analyze`` prints (text or ``--json``); built from the stored rows so the
report shows exactly what was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agent_monitor.errors import NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import LegHealth
from agent_monitor.model.rules import RuleHit
from agent_monitor.model.stress import StressSample
from agent_monitor.model.transcript import Transcript
from agent_monitor.storage import repo


@dataclass(frozen=True, slots=True)
class AlertSummary:
    alert_id: int
    level: str
    t: float
    state: str
    reasons: tuple[dict[str, Any], ...]
    handoff: str | None  # requested / escalated / taken over, or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "level": self.level,
            "t": self.t,
            "state": self.state,
            "reasons": list(self.reasons),
            "handoff": self.handoff,
        }


@dataclass(frozen=True, slots=True)
class StoredHit:
    hit_id: int
    status: str
    hit: RuleHit

    def to_dict(self) -> dict[str, Any]:
        return {"hit_id": self.hit_id, "status": self.status, **self.hit.to_dict()}


@dataclass(frozen=True, slots=True)
class HealthNote:
    """A leg's signal-health issue starting or clearing at ``t`` call seconds."""

    t: float
    health: LegHealth

    def to_dict(self) -> dict[str, Any]:
        h = self.health
        return {
            "t": self.t,
            "leg": h.leg.value,
            "issue": h.issue.value,
            "active": h.active,
            "message": h.message,
            "figures": dict(h.figures),
        }


@dataclass(frozen=True, slots=True)
class CallReport:
    call_id: str
    agent_id: str
    status: str
    level: str
    high_sensitivity: bool
    duration_s: float
    utterances: tuple[Transcript, ...]
    hits: tuple[StoredHit, ...]
    stress: tuple[StressSample, ...]
    alerts: tuple[AlertSummary, ...]
    qa_queued: bool
    recordings: tuple[dict[str, Any], ...]
    health: tuple[HealthNote, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "status": self.status,
            "level": self.level,
            "high_sensitivity": self.high_sensitivity,
            "duration_s": self.duration_s,
            "utterances": [
                {"leg": u.leg.value, "start": u.start, "end": u.end, "text": u.text, "utterance": u.utterance}
                for u in self.utterances
            ],
            "hits": [h.to_dict() for h in self.hits],
            "stress": [
                {"t": s.t, "score": s.score, "level": str(s.level), "baseline": str(s.baseline)}
                for s in self.stress
            ],
            "alerts": [a.to_dict() for a in self.alerts],
            "qa_queued": self.qa_queued,
            "recordings": list(self.recordings),
            "signal_health": [h.to_dict() for h in self.health],
        }

    def render(self) -> str:
        """The human-readable report."""
        lines = [
            f"call {self.call_id}  agent {self.agent_id}  {self.duration_s:.1f} s  status {self.status}",
            f"level: {self.level}" + ("  (high-sensitivity, queued for QA)" if self.high_sensitivity else ""),
            "",
            "transcript:",
        ]
        for u in self.utterances:
            lines.append(f"  [{_mmss(u.start)}-{_mmss(u.end)}] {u.leg.value:<6} {u.text}")
        lines += ["", f"rule hits ({len(self.hits)}):"]
        for h in self.hits:
            at = "" if h.hit.start is None else f"{_mmss(h.hit.start)} "
            leg = h.hit.leg.value if h.hit.leg else "call"
            lines.append(f"  {at}{h.hit.severity.value:<6} {h.hit.rule} ({leg}, {h.status}): {h.hit.reason}")
            if h.hit.compliant:
                lines.append(f"      say instead: {h.hit.compliant}")
        lines += ["", f"signal health ({len(self.health)}):"]
        for note in self.health:
            lines.append(
                f"  {_mmss(note.t)} {'start' if note.health.active else 'clear':<5} {note.health.message}"
            )
        lines += ["", "debtor stress:"]
        lines.append("  " + _stress_line(self.stress))
        lines += ["", f"alerts ({len(self.alerts)}):"]
        for a in self.alerts:
            why = "; ".join(str(r.get("text", "")) for r in a.reasons)
            extra = f", handoff {a.handoff}" if a.handoff else ""
            lines.append(f"  #{a.alert_id} {_mmss(a.t)} {a.level} ({a.state}{extra}): {why}")
        return "\n".join(lines)


def _mmss(t: float) -> str:
    return f"{int(t // 60):02d}:{t % 60:04.1f}"


def _stress_line(stress: tuple[StressSample, ...]) -> str:
    if not stress:
        return "no readings"
    peak = max(stress, key=lambda s: s.score)
    levels: dict[str, float] = {}
    for s in stress:
        levels[str(s.level)] = levels.get(str(s.level), 0.0) + 1
    share = ", ".join(f"{k} {100 * v / len(stress):.0f}%" for k, v in sorted(levels.items()))
    return f"{len(stress)} readings, peak {peak.score:.0f} at {_mmss(peak.t)} ({peak.level}); {share}"


def build_report(session: Session, call_id: str) -> CallReport:
    """Read a call's report from the database."""
    call = repo.get_call(session, call_id)
    utterances = tuple(repo.to_transcript(u) for u in repo.list_utterances(session, call_id, final_only=True))
    hits = tuple(
        StoredHit(row.id, str(row.status), repo.to_rule_hit(row))
        for row in repo.list_rule_hits(session, call_id)
    )
    stress = tuple(repo.stress_timeline(session, call_id, Leg.DEBTOR))
    alerts = []
    for a in repo.list_alerts(session, call_id=call_id):
        handoff = repo.get_handoff(session, a.id)
        state = None
        if handoff is not None:
            state = "requested"
            if handoff.escalated_at is not None:
                state = "escalated"
            if handoff.taken_over_by is not None:
                state = "taken over"
        alerts.append(AlertSummary(a.id, str(a.level), a.raised_at_s, str(a.state), tuple(a.reasons), state))
    recordings = tuple(
        {
            "leg": str(r.leg),
            "path": r.path,
            "sample_rate": r.sample_rate,
            "seconds": r.samples_written / r.sample_rate,
            "sha256": r.sha256,
        }
        for r in repo.list_recordings(session, call_id)
    )
    duration = max(
        (r.samples_written / r.sample_rate for r in repo.list_recordings(session, call_id)), default=0.0
    )
    health = tuple(
        HealthNote(row.t_s, repo.to_leg_health(row)) for row in repo.list_signal_health(session, call_id)
    )
    try:
        repo.get_qa_item(session, call_id)
        queued = True
    except NotFoundError:
        queued = False
    return CallReport(
        call_id=call.id,
        agent_id=call.agent_id,
        status=str(call.status),
        level=str(call.final_level),
        high_sensitivity=bool(call.high_sensitivity),
        duration_s=duration,
        utterances=utterances,
        hits=hits,
        stress=stress,
        alerts=tuple(alerts),
        qa_queued=queued,
        recordings=recordings,
        health=health,
    )
