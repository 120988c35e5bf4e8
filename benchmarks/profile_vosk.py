"""Where Vosk's own CPU goes: ``perf record`` of plain Vosk decoding, split by Kaldi component.

    python benchmarks/profile_vosk.py [--audio calls/spokenwoz/MUL1011.opus] [--seconds 90]
        [--options '{"dither": 0.0}'] [--keep perf.data]

Decodes the first ``--seconds`` of ``--audio`` (a file, or a folder whose audio files are joined
in name order; paths under the evaluation data directory) with plain Vosk (one warm-free new
recognizer, 0.1 s pieces, 16 kHz) under ``perf record --call-graph dwarf``, then reads every
sample whose stack passes through ``vosk_recognizer_accept_waveform`` and charges it to the
component of the innermost frame that names one (:data:`COMPONENTS`): BLAS kernels and ``malloc``
go to the Kaldi code that called them. Needs ``perf`` (Debian ``linux-perf``) and a
``kernel.perf_event_paranoid`` that lets a user profile their own processes (<= 2).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.settings import DecoderSettings, load_settings
from asr.model_loading import load_vosk_model
from asr.model_path import resolve_model_path
from asr.recognizer import new_recognizer

RATE = 16000
ENTRY = "vosk_recognizer_accept_waveform"
#: (component, pattern of a frame's symbol); the innermost frame that matches any pattern decides,
#: in this order of precedence among the patterns one frame matches
COMPONENTS = (
    ("endpointing", r"EndpointDetected|TrailingSilenceLength"),
    ("silence weighting (i-vector)", r"OnlineSilenceWeighting|UpdateFrameWeights|UpdateSilenceWeights"),
    (
        "i-vector extractor",
        r"OnlineIvector|IvectorExtractor|IvectorEstimation|OnlineSpliceFrames|OnlineCmvn|OnlineTransform|DiagGmm",
    ),
    (
        "MFCC",
        r"MfccComputer|OnlineGenericBaseFeature|RealFft|FeatureWindowFunction|ExtractWindow|MelBanks|Dither",
    ),
    ("nnet3 acoustic model (BLAS sgemm)", r"nnet3::(?!DecodableAmNnetLoopedOnline::LogLikelihood)"),
    ("graph: on-the-fly lookahead composition HCLr o Gr", r"^fst::|GrammarFst"),
    (
        "decoder: incremental lattice determinization",
        r"LatticeIncrementalDeterminizer|DeterminizeLattice|UpdateLatticeDeterminization|GetLattice",
    ),
    ("decoder: token passing, pruning, acoustic lookups", r"Lattice\w*DecoderTpl|HashList|LogLikelihood"),
)
OTHER = "other (Recognizer glue, feature pipeline plumbing)"


def load_pcm(source: Path, seconds: float) -> bytes:
    """16-bit PCM of the first ``seconds`` of ``source`` (a file, or a folder's audio files joined)."""
    files = (
        sorted(p for p in source.rglob("*") if p.suffix in {".wav", ".flac", ".opus"})
        if source.is_dir()
        else [source]
    )
    parts, total = [], 0
    for file in files:
        samples = decode_file(file, target_rate=RATE).samples[0]
        parts.append(samples)
        total += len(samples)
        if total >= seconds * RATE:
            break
    return float_to_pcm16(np.concatenate(parts)[: int(seconds * RATE)])


def decode(source: Path, seconds: float, options: str) -> None:
    """The profiled run: plain Vosk on ``source``; prints CPU and the transcript's start to stderr."""
    settings = load_settings()
    pcm = load_pcm(source, seconds)
    decoder = DecoderSettings(**json.loads(options)) if options else None
    kaldi = new_recognizer(load_vosk_model(resolve_model_path(settings), decoder), RATE).kaldi
    t0 = time.thread_time()
    for i in range(0, len(pcm), RATE // 5):
        kaldi.AcceptWaveform(pcm[i : i + RATE // 5])
    text = json.loads(kaldi.FinalResult()).get("text", "")
    spent = time.thread_time() - t0
    print(
        f"decoded {len(pcm) / 2 / RATE:.1f} s in {spent:.2f} s thread CPU: {text[:100]}...", file=sys.stderr
    )


def stacks(perf_script: Iterator[str]) -> Iterator[list[str]]:
    """The symbol of each frame of each sample of ``perf script -F ip,sym`` output, innermost first."""
    stack: list[str] = []
    for line in perf_script:
        if line.startswith(("\t", " ")) and line.strip():
            parts = line.split(None, 1)
            stack.append(parts[1].strip() if len(parts) > 1 else "")
        else:
            if stack:
                yield stack
            stack = []
    if stack:
        yield stack


def component(stack: list[str], patterns: list[tuple[str, re.Pattern[str]]]) -> str:
    for symbol in stack:
        for name, pattern in patterns:
            if pattern.search(symbol):
                return name
    return OTHER


def split(perf_script: Iterator[str]) -> tuple[Counter[str], dict[str, Counter[str]], int]:
    """Samples per component (inside AcceptWaveform), its hottest leaf symbols, and all samples."""
    patterns = [(name, re.compile(p)) for name, p in COMPONENTS]
    per: Counter[str] = Counter()
    leaves: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for stack in stacks(perf_script):
        total += 1
        if any(ENTRY in symbol for symbol in stack):
            name = component(stack, patterns)
            per[name] += 1
            leaves[name][stack[0].split("<", 1)[0][:48]] += 1
    return per, leaves, total


def report(per: Counter[str], leaves: dict[str, Counter[str]], total: int) -> None:
    inside = sum(per.values())
    print(f"{inside} of {total} samples inside AcceptWaveform (the rest: Python start-up, model load)")
    print("| component | share of AcceptWaveform CPU | hottest leaf functions |\n|---|---:|---|")
    for name, count in per.most_common():
        top = ", ".join(f"{sym} {100 * n / inside:.1f}%" for sym, n in leaves[name].most_common(3))
        print(f"| {name} | {100 * count / inside:.1f}% | {top} |")


def profile(args: argparse.Namespace) -> None:
    perf = shutil.which("perf")
    if perf is None:
        sys.exit("perf not found: install Debian's linux-perf")
    with tempfile.TemporaryDirectory(prefix="vosk-perf-") as tmp:
        data = Path(args.keep) if args.keep else Path(tmp) / "perf.data"
        command = [
            sys.executable,
            __file__,
            "--decode",
            "--audio",
            args.audio,
            "--seconds",
            str(args.seconds),
        ]
        command += ["--options", args.options] if args.options else []
        record = [perf, "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", str(data), "--"]
        subprocess.run(record + command, check=True)
        script = [perf, "script", "-i", str(data), "-F", "ip,sym", "--no-inline"]
        with subprocess.Popen(script, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
            assert proc.stdout is not None
            per, leaves, total = split(iter(proc.stdout))
    report(per, leaves, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--audio", default="calls/spokenwoz/MUL1011.opus", help="under the evaluation data directory"
    )
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--options", default="", help="DecoderSettings as JSON (default: the model's own)")
    parser.add_argument("--keep", default="", help="write perf.data here (default: a temporary file)")
    parser.add_argument("--decode", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decode:
        decode(load_settings().eval_data_dir / args.audio, args.seconds, args.options)
    else:
        profile(args)


if __name__ == "__main__":
    main()
