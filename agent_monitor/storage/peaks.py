"""Waveform peaks of a stored recording, computed once per recording state and cached on disk
(``data_dir/peaks/<recording folder>/<leg>-<bytes>-<buckets>.json``): a finished recording is
read once; a growing one gets new peaks as it grows."""

from __future__ import annotations

import json
from pathlib import Path

from agent_monitor.audio.peaks import Peaks, pcm_peaks
from agent_monitor.errors import RecordingError
from agent_monitor.files import write_atomic
from agent_monitor.model.audio import Leg
from agent_monitor.storage.recordings import read_recording, recording_key


def recording_peaks(data_dir: Path, call_id: str, leg: Leg, path: Path, buckets: int) -> Peaks:
    """The peaks of the recording at ``path`` (a leg of ``call_id``), from the cache when the
    recording has not changed since they were computed."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read recording: {exc.strerror or exc}") from exc
    cache = data_dir / "peaks" / recording_key(call_id) / f"{Leg(leg).value}-{size}-{buckets}.json"
    try:
        raw = json.loads(cache.read_text("utf-8"))
        return Peaks(raw["duration"], raw["step"], tuple(raw["min"]), tuple(raw["max"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not cached yet (or a damaged cache file): compute
    audio = read_recording(path)
    peaks = pcm_peaks(audio.pcm, audio.sample_rate, buckets)
    write_atomic(cache, json.dumps(peaks.as_dict()))
    return peaks
