"""The evidence package of a call: a zip with both legs' audio, the transcript, rule hits, alerts
with their steps, QA reviews, and ``SHA256SUMS`` (sha256 of every other file, ``sha256sum -c``
format) plus ``manifest.json`` (who exported what, when, masked or not, for each recording the
sha256 sealed when it was closed with the evidence-log entry that seals it, and for each QA review
the seal of its finished content in ``qa_review_seals``). A closed recording that no longer
matches its sealed sha256, or a finished review that no longer matches its seal, is not exported:
the export is refused (409), since an evidence package whose sums are only consistent with
themselves would pass altered audio or an altered verdict on as evidence.

A call id is whatever the telephony system sent (any script, ``/``, ``..``), so it never becomes a
path as it is: the zip's folder and the download's file name are :func:`safe_name` of it (letters,
digits, ``._-``; anything else replaced and a short hash of the id appended, so two ids never
share a name), and the exact id is in ``manifest.json`` and ``call.json``."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agent_monitor.errors import AgentMonitorError
from agent_monitor.model.audio import Leg
from agent_monitor.storage import repo
from agent_monitor.storage.call_integrity import check_call_evidence
from agent_monitor.storage.recording_seal import read_sealed
from agent_monitor.storage.recordings import locate_recording, read_recording, wav_header
from agent_monitor.storage.review_seal import sealed_reviews

_OPEN = "recording still open (a live call, or never closed): nothing sealed, exported as written so far"


def safe_name(call_id: str) -> str:
    """A file-name-safe, collision-free name for ``call_id`` (ASCII letters, digits, ``._-``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", call_id).strip(".")
    if safe != call_id or not safe:
        safe = f"{safe or 'call'}-{hashlib.sha256(call_id.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"
    return safe


def content_disposition(call_id: str) -> str:
    """The ``Content-Disposition`` of a call's evidence zip: an ASCII file name, plus the exact id
    in RFC 6266 / 5987 form (``filename*``) for clients that show it."""
    exact = quote(f"evidence-{call_id}.zip", safe="", encoding="utf-8", errors="replace")
    return f"attachment; filename=\"evidence-{safe_name(call_id)}.zip\"; filename*=UTF-8''{exact}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).encode()


def transcript_text(utterances: list[dict[str, Any]]) -> str:
    lines = [
        f"[{u['start']:8.2f} - {u['end']:8.2f}] {u['leg']:6} {u['text']}" for u in utterances if u["final"]
    ]
    return "\n".join(lines) + "\n"


def _audio_files(s: Any, call_id: str, data_dir: Any) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Each leg's audio file, and for the manifest what seals it. A closed recording is exported
    exactly as it was sealed (so its line in ``SHA256SUMS`` is the sealed sha256) and refused
    (:class:`ConflictError`) when the file no longer matches; one still open (a live call, or never
    closed) is exported as far as it is written, marked as not sealed."""
    files: dict[str, bytes] = {}
    recordings: dict[str, Any] = {}
    for leg in Leg:
        row = repo.get_recording(s, call_id, leg)
        if row is None:
            continue
        name = f"audio/{leg.value}.wav"
        if row.sha256 is not None:
            files[name], seal = read_sealed(s, Path(data_dir), row)
            recordings[leg.value] = {"file": name, **seal}
            continue
        try:
            audio = read_recording(locate_recording(data_dir, call_id, leg, row.path))
        except AgentMonitorError:
            continue
        files[name] = wav_header(audio.sample_rate, len(audio.pcm)) + audio.pcm
        recordings[leg.value] = {"file": name, "sealed_sha256": None, "note": _OPEN}
    return files, recordings


def build_evidence_zip(
    s: Any, record: dict[str, Any], data_dir: Any, exported_by: str, masked: bool
) -> tuple[bytes, dict[str, str]]:
    """The zip bytes and the sha256 of each file in it. ``record`` is the call's record as the
    call page gets it (already masked when ``masked``)."""
    call_id = record["call"]["call_id"]
    check_call_evidence(s, call_id)
    files, recordings = _audio_files(s, call_id, data_dir)
    reviews = sealed_reviews(s, call_id)
    files["transcript.json"] = _dumps(record["utterances"])
    files["transcript.txt"] = transcript_text(record["utterances"]).encode()
    steps = {
        str(a["alert_id"]): [
            {"action": str(e.action), "actor": e.actor, "at": e.at.isoformat(), "at_s": e.at_s}
            | {"note": e.note}
            for e in repo.alert_events(s, a["alert_id"])
        ]
        for a in record["alerts"]
    }
    files["alerts.json"] = _dumps({"alerts": record["alerts"], "steps": steps, "rule_hits": record["hits"]})
    files["stress.json"] = _dumps(record["stress"])
    files["signal_health.json"] = _dumps(record["health"])
    files["review.json"] = _dumps(record["reviews"])
    files["call.json"] = _dumps(record["call"])
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    manifest = {
        "call_id": call_id,
        "exported_by": exported_by,
        "exported_at": datetime.now(UTC).isoformat(),
        "personal_data_masked": masked,
        "files": sums,
        "recordings": recordings,
        "reviews": reviews,
    }
    files["manifest.json"] = _dumps(manifest)
    sums["manifest.json"] = hashlib.sha256(files["manifest.json"]).hexdigest()
    files["SHA256SUMS"] = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())).encode()
    buf = io.BytesIO()
    folder = safe_name(call_id)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"{folder}/{name}", data)
    return buf.getvalue(), sums
