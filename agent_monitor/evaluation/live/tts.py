"""Text-to-speech for the live evaluation: several engines and voices, all **synthetic** speech.

Three Debian engines (``scripts/setup.sh`` installs them): espeak-ng (formant synthesis, several
accents and voice variants), flite (diphone/cluster-unit voices kal, awb, rms, slt) and festival
(the kal diphone voice of ``festvox-kallpc16k``). mbrola voices for espeak-ng are not packaged in
Debian main (``apt-cache policy mbrola`` has no candidate), so they are not used.

:class:`TtsCache` renders a turn once per (engine, voice, text) and keeps the 16-bit WAV under a
cache folder, so reruns of the evaluation are cheap; :meth:`TtsCache.speak` returns float32
samples at the requested rate.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from agent_monitor.errors import ConfigError, DatasetError

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Voice:
    """One synthetic voice: ``engine`` (espeak-ng, flite, festival) and its voice name."""

    engine: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}"


#: the voices each engine offers here
VOICES: dict[str, tuple[Voice, ...]] = {
    "espeak-ng": tuple(
        Voice("espeak-ng", v)
        for v in ("en-us", "en-us+f3", "en-gb+m3", "en-gb+f2", "en-gb-scotland", "en-029+m2", "en-gb-x-rp+f4")
    ),
    "flite": tuple(Voice("flite", v) for v in ("kal", "awb", "rms", "slt")),
    "festival": (Voice("festival", "kal_diphone"),),
}
ENGINES = tuple(VOICES)
EXECUTABLES = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}


def missing_engines(engines: tuple[str, ...] = ENGINES) -> list[str]:
    """The engines whose program is not installed."""
    return [e for e in engines if shutil.which(EXECUTABLES[e]) is None]


def _command(voice: Voice, text_file: Path, out: Path) -> list[str]:
    exe = shutil.which(EXECUTABLES[voice.engine])
    if exe is None:
        raise DatasetError(f"{EXECUTABLES[voice.engine]} is not installed (scripts/setup.sh installs it)")
    if voice.engine == "espeak-ng":
        return [exe, "-v", voice.name, "-s", "160", "-f", str(text_file), "-w", str(out)]
    if voice.engine == "flite":
        return [exe, "-voice", voice.name, "-f", str(text_file), "-o", str(out)]
    return [exe, "-eval", f"(voice_{voice.name})", str(text_file), "-o", str(out)]


def render(voice: Voice, text: str, out: Path) -> None:
    """Speak ``text`` with ``voice`` into the WAV file ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        text_file = Path(tmp) / "turn.txt"
        text_file.write_text(text + "\n", encoding="utf-8")
        wav = Path(tmp) / "turn.wav"
        proc = subprocess.run(_command(voice, text_file, wav), capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
            raise DatasetError(
                f"{voice.label} failed on {text[:40]!r}: {proc.stderr.strip() or proc.returncode}"
            )
        shutil.move(str(wav), out)


class TtsCache:
    """Rendered turns under ``folder`` (one WAV per voice and text)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, voice: Voice, text: str) -> Path:
        key = hashlib.sha256(f"{voice.engine}\0{voice.name}\0{text}".encode()).hexdigest()[:24]
        return self.folder / voice.engine / f"{key}.wav"

    def speak(self, voice: Voice, text: str, rate: int) -> Samples:
        """``text`` spoken by ``voice`` as float32 mono at ``rate`` (rendered once, then cached)."""
        path = self.path(voice, text)
        if not path.is_file():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # --tts-cache a file, a folder that cannot be written
                raise ConfigError(
                    f"TTS cache {self.folder}: cannot create {path.parent}: {exc.strerror or exc}"
                ) from exc
            partial = path.with_suffix(".part.wav")
            render(voice, text, partial)
            partial.replace(path)
        data, native = sf.read(path, dtype="float32", always_2d=True)
        mono = data.mean(axis=1).astype(np.float32)
        if native != rate:
            mono = soxr.resample(mono, native, rate).astype(np.float32)
        return mono
