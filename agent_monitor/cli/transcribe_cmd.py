"""``agent-monitor transcribe`` and ``agent-monitor eval asr``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from agent_monitor.errors import AgentMonitorError, AudioFormatError, ConfigError
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings

if TYPE_CHECKING:
    from agent_monitor.audio.decode import RawFormat


def register(commands: Any, evals: Any) -> None:
    p = commands.add_parser("transcribe", help="transcribe recorded calls (VAD-gated streaming Vosk)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--format", choices=["text", "jsonl", "srt"], default="text")
    p.add_argument("--agent-channel", choices=["left", "right"], help="stereo channel of the agent leg")
    p.add_argument("--channel-map", help="explicit channel to leg mapping, e.g. 0=agent,1=debtor")
    p.add_argument("--model", help="installed model name (default: settings asr.model)")
    p.add_argument("--raw-encoding", choices=["s16le", "mulaw", "alaw"], help="read files as raw audio")
    p.add_argument("--raw-rate", type=int, help="sample rate of raw audio (default 8000; .raw/.pcm 16000)")
    p.add_argument("--raw-channels", type=int, help="channels of raw audio (default 1)")
    p.set_defaults(func=run_transcribe)

    e = evals.add_parser("asr", help="word error rate of transcribe vs plain whole-file Vosk")
    e.add_argument(
        "dirs", nargs="*", type=Path, metavar="DIR", help="folders with labels.csv (searched recursively)"
    )
    e.add_argument(
        "--split",
        choices=("tune", "report", "report-rest"),
        help="instead of DIRs: the tuning or reporting split of the evaluation data, by folder and "
        "speaker, or the reporting speakers' clips that 'report' leaves out (see asr/offline/splits.py)",
    )
    e.add_argument(
        "--plain-cache", type=Path, metavar="DIR", help="keep plain-Vosk transcripts here across runs"
    )
    e.add_argument("--model", help="installed model name (default: settings asr.model)")
    e.add_argument(
        "--words-out",
        type=Path,
        metavar="FILE",
        help="write every decode here, one JSON line per clip and draw: reference, plain Vosk's words "
        "and the pipeline's words with Vosk's confidences (for benchmarks/asr_conf_floor.py)",
    )
    e.add_argument(
        "--draws",
        type=int,
        default=2,
        help="decode every clip this many times on each side, each with its own seeded dither "
        "draw, and average (default 2; 1 with dither 0, where every draw is the same; "
        "see asr/offline/draws.py)",
    )
    e.add_argument(
        "--limit",
        type=int,
        default=0,
        help="at most this many files per folder, spread evenly over its speakers "
        "(0 = all, or the split's own bound)",
    )
    e.add_argument(
        "--conditions",
        default="clean",
        help="telephone line conditions, 'all' or names separated by commas (default: clean); "
        "a name may compose parts with + (gsm+gain-30, mulaw+line-snr15+loss5); "
        "see agent_monitor/audio/conditions.py",
    )
    e.set_defaults(func=run_eval_asr)


def run_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.audio.decode import parse_channel_map
    from asr.streaming import RecognizerPool
    from asr.transcribe import transcribe_file

    if args.agent_channel:
        settings = settings.model_copy(
            update={"asr": settings.asr.model_copy(update={"agent_channel": args.agent_channel})}
        )
    channel_map = parse_channel_map(args.channel_map) if args.channel_map else None
    pool = RecognizerPool.from_settings(settings, args.model)
    failed = 0
    try:
        for index, path in enumerate(args.files):
            try:
                with _Progress(path) as progress:
                    raw = raw_format(path, args.raw_encoding, args.raw_rate, args.raw_channels)
                    result = transcribe_file(
                        pool, settings, path, channel_map=channel_map, raw=raw, progress=progress.update
                    )
            except AgentMonitorError as exc:
                failed += 1
                print(f"agent-monitor: error: {exc}", file=sys.stderr)
                continue
            _write(result.transcripts, str(path), args.format, sys.stdout, header=len(args.files) > 1)
            if index < len(args.files) - 1 and args.format != "jsonl":
                sys.stdout.write("\n")
            sys.stdout.flush()
    finally:
        pool.close()
    if failed:
        print(f"agent-monitor: {failed} of {len(args.files)} files failed", file=sys.stderr)
        return 1
    return 0


def raw_format(path: Path, encoding: str | None, rate: int | None, channels: int | None) -> RawFormat | None:
    """How to read ``path`` as raw audio: ``--raw-encoding``, else its suffix (``.ulaw``: 8 kHz
    mu-law, ``.raw``: 16 kHz s16le); ``--raw-rate``/``--raw-channels`` apply to either (they were
    ignored without ``--raw-encoding``) and are refused for a file with a header, whose own format
    is used (they were ignored silently)."""
    from agent_monitor.audio.decode import RAW_SUFFIXES, RawFormat

    by_suffix = RAW_SUFFIXES.get(path.suffix.lower())
    chosen = encoding or by_suffix
    if chosen is None:
        if rate is not None or channels is not None:
            raise AudioFormatError(
                str(path),
                "--raw-rate and --raw-channels apply to raw audio only: give --raw-encoding, or name "
                f"the file {'/'.join(sorted(RAW_SUFFIXES))}",
            )
        return None
    default_rate = 16000 if encoding is None and chosen == "s16le" else 8000
    rate, channels = default_rate if rate is None else rate, 1 if channels is None else channels
    return RawFormat(sample_rate=rate, channels=channels, encoding=chosen)  # type: ignore[arg-type]


class _Progress:
    """A tqdm bar on stderr for long files when stderr is a terminal; silent otherwise."""

    MIN_SECONDS = 30.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._bar: Any = None

    def __enter__(self) -> _Progress:
        return self

    def update(self, seconds_done: float) -> None:
        if self._bar is None:
            if not sys.stderr.isatty():
                return
            from tqdm import tqdm

            self._bar = tqdm(desc=self.path.name, unit="s", file=sys.stderr, leave=False)
        self._bar.update(seconds_done - self._bar.n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _clock(t: float, sep: str = ".") -> str:
    ms = round(t * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _write(transcripts: tuple[Transcript, ...], file: str, fmt: str, out: TextIO, *, header: bool) -> None:
    if fmt == "jsonl":
        for t in transcripts:
            record = {
                "file": file,
                "leg": str(t.leg),
                "start": round(t.start, 3),
                "end": round(t.end, 3),
                "text": t.text,
                "words": [
                    {
                        "w": w.text,
                        "start": round(w.start, 3),
                        "end": round(w.end, 3),
                        "conf": round(w.conf, 3),
                    }
                    for w in t.words
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if header:
        out.write(f"== {file}\n")
    for i, t in enumerate(transcripts, 1):
        if fmt == "srt":
            out.write(f"{i}\n{_clock(t.start, ',')} --> {_clock(t.end, ',')}\n{t.leg}: {t.text}\n\n")
        else:
            out.write(f"[{_clock(t.start)} - {_clock(t.end)}] {t.leg}: {t.text}\n")


def run_eval_asr(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.audio.conditions import parse_conditions
    from asr.offline.evaluate import EvalOptions, evaluate_split, evaluate_tree
    from asr.offline.report import format_report

    if bool(args.dirs) == bool(args.split):
        raise ConfigError("eval asr: give DIRs or --split, not both or neither")
    if args.draws < 1:
        raise ConfigError(f"eval asr: --draws must be at least 1 (got {args.draws})")
    if args.limit is not None and args.limit < 0:
        raise ConfigError(f"eval asr: --limit must be 0 (all) or more (got {args.limit})")
    options = EvalOptions(
        model_name=args.model,
        limit=args.limit,
        conditions=parse_conditions(args.conditions),
        plain_cache=args.plain_cache,
        draws=args.draws,
        words_out=args.words_out,
    )
    if args.split:
        report = evaluate_split(settings, args.split, options)
    else:
        report = evaluate_tree(settings, args.dirs, options)
    print(format_report(report))
    return 0
