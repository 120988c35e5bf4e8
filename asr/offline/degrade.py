"""Evaluation clips as received over a simulated telephone line (the condition grid of
:mod:`agent_monitor.audio.conditions`), as 16-bit PCM at the recognizer's rate.

The babble mixed into a clip must never contain the speaker being scored: :func:`noise_bank_for`
builds it from the other speech folders of the evaluation data, never from the scored one.
"""

from __future__ import annotations

from pathlib import Path

from agent_monitor.audio.conditions import Condition
from agent_monitor.audio.decode import FloatArray, float_to_pcm16, resample
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.errors import ConfigError

#: folders (under the evaluation data) whose speakers make the babble, each a different speaker set
BABBLE_FOLDERS = ("speech/en/librivox", "speech/en/mfa_spontaneous", "speech/en/librispeech")
#: the longest recordings of each folder are used (continuous speech)
BABBLE_FILES_PER_FOLDER = 3


def babble_files_for(data_dir: Path, scored: Path) -> list[Path]:
    """The longest recordings of each babble folder that neither holds nor lies inside ``scored``."""
    scored = scored.resolve()
    files: list[Path] = []
    for name in BABBLE_FOLDERS:
        folder = (data_dir / name).resolve()
        if not folder.is_dir() or folder == scored or scored in folder.parents or folder in scored.parents:
            continue
        audio = [p for p in folder.rglob("*") if p.suffix in (".wav", ".flac")]
        files.extend(sorted(audio, key=lambda p: -p.stat().st_size)[:BABBLE_FILES_PER_FOLDER])
    return files


def noise_bank_for(data_dir: Path, scored: Path) -> NoiseBank:
    """Line noise of the evaluation call and babble of speakers other than ``scored``'s."""
    files = babble_files_for(data_dir, scored)
    if len(files) < 3:
        raise ConfigError(f"babble for {scored} needs recordings of other speakers under {data_dir}")
    return NoiseBank.from_data_dir(data_dir, babble_files=files)


def degraded_pcm(
    samples: FloatArray, rate: int, condition: Condition, noise: NoiseBank | None, seed: str
) -> bytes:
    """``samples`` (float, mono, at ``rate``) over ``condition``, back at ``rate`` as 16-bit PCM."""
    y, line_rate = condition.apply(samples, rate, noise=noise, seed=seed)
    if line_rate != rate:
        y = resample(y[None, :], line_rate, rate)[0]
    return float_to_pcm16(y)
