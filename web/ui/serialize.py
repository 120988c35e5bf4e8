"""Stored rows as the JSON the pages use, masked for roles that need not see personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from agent_monitor.storage.enums import HitStatus
from web.masking import mask_call_info, mask_fields, mask_text, mask_utterance


def iso(value: datetime | None) -> str | None:
    """A stored time as the pages get it (ISO 8601; ``None`` stays ``None``)."""
    return value.isoformat() if value is not None else None


def call_json(call: Any, masked: bool) -> dict[str, Any]:
    phone = call.debtor_phone
    return {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "debtor_id": call.debtor_id,
        "debtor_phone": mask_text(phone) if masked and phone else phone,
        "debtor_tz": call.debtor_tz,
        "source": call.source_protocol,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "status": str(call.status),
        "level": str(call.final_level),
        "high_sensitivity": bool(call.high_sensitivity),
        "lang": call.lang,
    }


def utterance_json(row: Any, masked: bool) -> dict[str, Any]:
    data = {
        "leg": str(row.leg),
        "utterance": row.utterance_no,
        "start": row.start_s,
        "end": row.end_s,
        "text": row.text,
        "final": bool(row.final),
        "lang": row.lang,
        "words": [{"text": w.text, "start": w.start_s, "end": w.end_s, "conf": w.conf} for w in row.words],
    }
    return mask_utterance(data) if masked else data


def hit_json(row: Any, masked: bool) -> dict[str, Any]:
    data = {
        "hit_id": row.id,
        "rule": row.rule_id,
        "title": row.title,
        "category": row.category,
        "severity": row.severity,
        "leg": str(row.leg) if row.leg is not None else None,
        "evidence": row.evidence,
        "reason": row.reason,
        "citation": row.citation,
        "compliant": row.compliant,
        "start": row.start_s,
        "end": row.end_s,
        "status": str(row.status),
    }
    return mask_fields(data, ("evidence",)) if masked else data


def distinct_hits(rows: list[Any]) -> list[Any]:
    """One row per finding, for rows stored before the pipeline stopped storing a finding twice:
    a resumed call's must-say finding stored again (same rule and leg, no utterance), and a
    partial's hit left standing beside the final's at the same place (same rule, leg and
    utterance, overlapping evidence) are listed once, the confirmed or else the newest row.
    Separate occurrences of a rule in one utterance stay separate; call order is kept."""
    kept: list[Any] = []
    for row in rows:
        twin = next((i for i, k in enumerate(kept) if _same_finding(k, row)), None)
        if twin is None:
            kept.append(row)
        elif (row.status == HitStatus.CONFIRMED, row.id) > (
            kept[twin].status == HitStatus.CONFIRMED,
            kept[twin].id,
        ):
            kept[twin] = row
    ids = {id(r) for r in kept}
    return [r for r in rows if id(r) in ids]


def _same_finding(a: Any, b: Any) -> bool:
    if (a.rule_id, a.leg, a.utterance_no) != (b.rule_id, b.leg, b.utterance_no):
        return False
    if a.utterance_no is None:
        return True
    spans = (a.span_start, a.span_end, b.span_start, b.span_end)
    if None in spans:
        return True
    return bool(a.span_start < b.span_end and b.span_start < a.span_end)


def alert_json(row: Any, masked: bool) -> dict[str, Any]:
    reasons = [dict(r) if isinstance(r, dict) else {"text": str(r)} for r in (row.reasons or [])]
    if masked:
        reasons = [mask_fields(r, ("text", "evidence")) for r in reasons]
    return {
        "alert_id": row.id,
        "call_id": row.call_id,
        "level": str(row.level),
        "reasons": reasons,
        "t": row.raised_at_s,
        "raised_at": iso(row.raised_at),
        "state": str(row.state),
        "acknowledged_by": row.acknowledged_by,
        "resolved_by": row.resolved_by,
    }


def stress_json(sample: Any) -> dict[str, Any]:
    return {"t": sample.t, "score": sample.score, "level": str(getattr(sample.level, "value", sample.level))}


def health_json(row: Any) -> dict[str, Any]:
    """A stored signal-health event (measured levels only: no personal data to mask)."""
    return {
        "t": row.t_s,
        "leg": str(row.leg),
        "issue": str(row.issue),
        "active": bool(row.active),
        "message": row.message,
        "figures": dict(row.figures or {}),
    }


def review_json(row: Any) -> dict[str, Any]:
    return {
        "reviewer": row.reviewer,
        "scorecard": dict(row.scorecard or {}),
        "comments": dict(row.comments or {}),
        "form_id": row.form_id,
        "score": row.score,
        "notes": row.notes,
        "updated_at": iso(row.updated_at),
        "finished_at": iso(row.finished_at),
        "verdicts": {str(v.alert_id): str(v.verdict) for v in row.verdicts},
    }


def recording_json(row: Any) -> dict[str, Any]:
    return {
        "leg": str(row.leg),
        "sample_rate": row.sample_rate,
        "duration": row.samples_written / row.sample_rate if row.sample_rate else 0.0,
        "sha256": row.sha256,
        "closed": row.closed_at is not None,
        "url": f"/api/calls/{quote(row.call_id, safe='')}/recordings/{row.leg}.wav",
    }


def event_masked(data: dict[str, Any]) -> dict[str, Any]:
    """A bus event (its ``to_dict`` JSON) with personal data masked."""
    kind = data.get("type")
    if kind == "transcript":
        return mask_utterance(data)
    if kind == "agent_warning":
        return mask_fields(data, ("evidence",))
    if kind in ("alert_raised", "level_changed"):
        reasons = data.get("reasons")
        if isinstance(reasons, list):
            masked = [mask_fields(r, ("text",)) if isinstance(r, dict) else r for r in reasons]
            return {**data, "reasons": masked}
    if kind == "rule_hit" and isinstance(data.get("hit"), dict):
        return {**data, "hit": mask_fields(data["hit"], ("evidence", "text"))}
    if kind == "call_started" and isinstance(data.get("info"), dict):
        return {**data, "info": mask_call_info(data["info"])}
    return data
