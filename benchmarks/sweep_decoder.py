"""Word error rate against CPU for decoder options, at several telephone conditions, on two splits.

    python benchmarks/sweep_decoder.py [--conditions clean,mulaw,gain-20,babble-snr20]
        [--tune-seconds 60] [--configs default,beam8,fpc51,fpc99] [--splits tune,report]

Splits by speaker: **tune** is the spontaneous monologues of ``speech/en/mfa_spontaneous`` (one
speaker; the first files up to ``--tune-seconds`` of audio), **report** is every other English
folder (LibriSpeech 1089, the LibriVox reader, the four FSDD digit speakers). Defaults are chosen
on the tune rows; the report rows are only reported. Each clip goes through the live chain's
VAD-gated recogniser (``asr.transcribe.transcribe_legs``, a warmed spare per clip) under each
condition of :mod:`agent_monitor.audio.conditions`; CPU is this process's CPU time for the
recognition only. Configurations: :data:`CONFIGS` (``asr.decoder.en`` options); a name may be
repeated (``default,default``): with Kaldi's default dither each run of the same configuration
gives somewhat different words, so repeated rows show that spread. ``static`` is the installed
options on the static graph (``asr.static_graph``), every other configuration the lookahead graph.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.conditions import needs_noise, parse_conditions
from agent_monitor.model.audio import Leg
from agent_monitor.settings import DecoderSettings, Settings, load_settings
from asr.offline.degrade import degraded_pcm, noise_bank_for
from asr.offline.evaluate import Clip, FolderResult, edit_distance, label_rows, load_clips, normalise
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_legs

CONFIGS: dict[str, DecoderSettings] = {
    "default": DecoderSettings(),
    "beam8": DecoderSettings(beam=8.0, max_active=2000),
    "beam7": DecoderSettings(beam=7.0, max_active=1500, lattice_beam=1.5),
    "fpc51": DecoderSettings(frames_per_chunk=51),
    "fpc99": DecoderSettings(frames_per_chunk=99),
    "dither0": DecoderSettings(dither=0.0),
    "static": DecoderSettings(),
}
#: configurations decoded with the model's static graph (``asr.static_graph``; built by ``agent-monitor
#: models build-graph``); every other one with the lookahead graph the model ships, as measured before
STATIC = frozenset({"static"})
TUNE = ("mfa_spontaneous",)
REPORT = ("librispeech", "librivox", "fsdd_8k_digits")


@dataclass
class Cell:
    errors: int = 0
    words: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0
    texts: list[str] = field(default_factory=list)

    @property
    def wer(self) -> float:
        return 100.0 * self.errors / max(1, self.words)


def load_split(settings: Settings, folders: tuple[str, ...], max_s: float) -> dict[str, list[Clip]]:
    rate = settings.asr.sample_rate
    out: dict[str, list[Clip]] = {}
    for name in folders:
        labels = settings.eval_data_dir / "speech" / "en" / name / "labels.csv"
        clips = load_clips(labels, label_rows(labels), rate, FolderResult(folder=name))
        if max_s:
            kept, total = [], 0.0
            for clip in clips:
                if total >= max_s:
                    break
                kept.append(clip)
                total += len(clip.samples) / rate
            clips = kept
        out[name] = clips
    return out


def score(pool: RecognizerPool, settings: Settings, folders: dict[str, list[Clip]], cond: str) -> Cell:
    rate = settings.asr.sample_rate
    condition = parse_conditions(cond)[0]
    cell = Cell()
    for folder, clips in folders.items():
        root = settings.eval_data_dir / "speech" / "en" / folder
        noise = noise_bank_for(settings.eval_data_dir, root) if needs_noise([condition]) else None
        for clip in clips:
            pcm = degraded_pcm(clip.samples, rate, condition, noise, clip.name)
            asyncio.run(pool.prewarm())
            t0 = time.process_time()
            finals = asyncio.run(transcribe_legs(pool, settings, {Leg.AGENT: pcm}))
            cell.cpu_s += time.process_time() - t0
            hyp = normalise(" ".join(t.text for t in finals))
            cell.errors += edit_distance(clip.ref, hyp)
            cell.words += len(clip.ref)
            cell.audio_s += len(pcm) / 2 / rate
    return cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", default="clean,mulaw,gain-20,babble-snr20")
    parser.add_argument("--configs", default="default,beam8,fpc51,fpc99")
    parser.add_argument("--tune-seconds", type=float, default=60.0)
    parser.add_argument("--splits", default="tune,report", help="tune, report or both")
    args = parser.parse_args()
    base = load_settings()
    conditions = [c.name for c in parse_conditions(args.conditions)]
    chosen = args.splits.split(",")
    splits = {
        name: load_split(base, folders, seconds)
        for name, folders, seconds in (("tune", TUNE, args.tune_seconds), ("report", REPORT, 0.0))
        if name in chosen
    }
    print(
        f"{'config':<9} {'split':<7} "
        + " ".join(f"{c:>22}" for c in conditions)
        + f" {'all: WER / CPU ms/s':>22}"
    )
    for name in args.configs.split(","):
        decoder = CONFIGS[name]
        settings = base.model_copy(
            update={
                "asr": base.asr.model_copy(
                    update={
                        "decoder": {"en": decoder},
                        "spare_recognizers": 1,
                        "static_graph": name in STATIC,
                    }
                )
            }
        )
        pool = RecognizerPool.from_settings(settings)
        if name in STATIC and pool.static_graph is None:
            raise SystemExit("no static graph built: run `agent-monitor models build-graph` first")
        try:
            for split, folders in splits.items():
                cells = [score(pool, settings, folders, c) for c in conditions]
                errors, words = sum(c.errors for c in cells), sum(c.words for c in cells)
                cpu, audio = sum(c.cpu_s for c in cells), sum(c.audio_s for c in cells)
                row = " ".join(f"{c.wer:>8.2f}% {1000 * c.cpu_s / c.audio_s:>8.1f} ms/s" for c in cells)
                total = f"{100 * errors / max(1, words):>8.2f}% {1000 * cpu / audio:>8.1f} ms/s"
                print(f"{name:<9} {split:<7} {row} {total}  ({words} words)", flush=True)
        finally:
            pool.close()


if __name__ == "__main__":
    main()
