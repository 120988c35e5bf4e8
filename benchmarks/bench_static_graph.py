"""Static graph (``HCLG.fst``) against the lookahead graph: memory, and whether warm-up still pays.

    python benchmarks/bench_static_graph.py [--seconds 15] [--head 4] [--repeat 3] [--spares 8]
        [--audio calls/spokenwoz/MUL1011.opus]

1. **Memory**, one fresh process per graph (``asr.static_graph`` on / off): resident memory
   (``VmRSS``) after loading the language models as a server process does at start
   (:class:`asr.languages.LanguageModels`, with the keyword pass's lookahead model when the static
   graph is used), then per spare after building ``--spares`` spares warmed as the server does
   (``asr.warmup_s`` of pseudo-speech), and the warm-up's CPU per spare.
2. **Warm-up**, both graphs in this process, alternating: thread CPU of decoding the first
   ``--head`` and ``--seconds`` seconds of ``--audio`` (its first channel) on a never-used
   recognizer against one warmed with ``asr.warmup_s`` of pseudo-speech (warm-up not counted).
Needs the built graph (``agent-monitor models build-graph``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.settings import Settings, load_settings
from asr.languages import LanguageModels
from asr.model_loading import load_vosk_model
from asr.model_path import resolve_model_path
from asr.recognizer import new_recognizer
from asr.static_graph import find_static_graph
from asr.warmup import pseudo_speech, warm_up
from benchmarks.profile_vosk import load_pcm

RATE = 16000
PIECE = RATE // 10 * 2  # 0.1 s


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


def memory_child(static: bool, spares: int) -> None:
    """One graph's memory, in its own process; prints one JSON line."""
    base = load_settings()
    settings = base.model_copy(
        update={"asr": base.asr.model_copy(update={"static_graph": static, "spare_recognizers": 0})}
    )
    before = rss_mib()
    models = LanguageModels.from_settings(settings)
    pool = models.pool("en")
    assert pool is not None and (pool.static_graph is not None) == static
    loaded = rss_mib()
    pcm = pseudo_speech(settings.asr.warmup_s, RATE)
    t0 = time.thread_time()
    kept = [warm_up(new_recognizer(pool.model, RATE), pcm) for _ in range(spares)]
    warm_cpu = (time.thread_time() - t0) / max(1, spares)
    after = rss_mib()
    print(
        json.dumps(
            {
                "before": before,
                "loaded": loaded,
                "per_spare": (after - loaded) / max(1, spares),
                "warmup_cpu": warm_cpu,
                "spares": len(kept),
            }
        )
    )
    models.close()


def memory(spares: int) -> None:
    for name, static in (("static", True), ("lookahead", False)):
        cmd = [sys.executable, __file__, "--memory-child", "static" if static else "lookahead"]
        out = subprocess.run([*cmd, "--spares", str(spares)], capture_output=True, text=True, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{name:<10} RSS after loading the models {m['loaded']:.0f} MiB"
            f" (+{m['loaded'] - m['before']:.0f} MiB for the models), {m['per_spare']:.1f} MiB per warmed"
            f" spare ({m['spares']} spares), warm-up {1000 * m['warmup_cpu']:.0f} ms CPU per spare",
            flush=True,
        )


def decode_cpu(model: Any, pcm: bytes, head_s: float, warm: bytes) -> tuple[float, float]:
    """Thread CPU of the first ``head_s`` and of all of ``pcm`` on a new recognizer (warmed first
    with ``warm`` when given; not counted)."""
    spare = new_recognizer(model, RATE)
    if warm:
        spare = warm_up(spare, warm)
    t0 = time.thread_time()
    head = 0.0
    for i in range(0, len(pcm), PIECE):
        spare.kaldi.AcceptWaveform(pcm[i : i + PIECE])
        if not head and i + PIECE >= head_s * RATE * 2:
            head = time.thread_time() - t0
    spare.kaldi.FinalResult()
    return head, time.thread_time() - t0


def warmup_ab(settings: Settings, args: argparse.Namespace) -> None:
    path = resolve_model_path(settings)
    graph, why = find_static_graph(path)
    if graph is None:
        raise SystemExit(f"{why}: run `agent-monitor models build-graph` first")
    models = {"static": load_vosk_model(path, None, graph), "lookahead": load_vosk_model(path)}
    pcm = load_pcm(settings.eval_data_dir / args.audio, args.seconds)
    warm = pseudo_speech(settings.asr.warmup_s, RATE)
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    order = [(g, s) for g in models for s in ("cold", "warm")]
    for round_ in range(args.repeat):
        for graph_name, state in order[round_ % len(order) :] + order[: round_ % len(order)]:
            cpu = decode_cpu(models[graph_name], pcm, args.head, warm if state == "warm" else b"")
            runs.setdefault((graph_name, state), []).append(cpu)
    for (graph_name, state), cpus in sorted(runs.items()):
        head = statistics.median(c[0] for c in cpus)
        total = statistics.median(c[1] for c in cpus)
        print(
            f"{graph_name:<10} {state:<5} first {args.head:.0f} s: {head:.2f} s CPU;"
            f" {args.seconds:.0f} s: {total:.2f} s CPU (median of {len(cpus)}: "
            + " ".join(f"{c[1]:.2f}" for c in cpus)
            + ")"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--head", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spares", type=int, default=8)
    parser.add_argument("--audio", default="calls/spokenwoz/MUL1011.opus")
    parser.add_argument("--memory-child", choices=("static", "lookahead"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child == "static", args.spares)
        return
    memory(args.spares)
    warmup_ab(load_settings(), args)


if __name__ == "__main__":
    main()
