"""``agent-monitor analyze FILE``: a recorded call through the live pipeline; prints and stores the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    p = commands.add_parser(
        "analyze", help="analyse a recorded call with the live pipeline; print and store the report"
    )
    p.add_argument("file", type=Path, metavar="FILE", help="audio file (stereo: one leg per channel)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--call-id", help="call id to store it under (default: derived from the file name)")
    p.add_argument("--agent", default="unknown", help="agent id (default: unknown)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="call language (default en)")
    p.add_argument("--agent-channel", choices=["left", "right"], help="stereo channel of the agent leg")
    p.add_argument(
        "--channel-map",
        help="channel to leg mapping of a file with more than 2 channels, e.g. 0=agent,3=debtor",
    )
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace, settings: Settings) -> int:

    from agent_monitor.audio.decode import parse_channel_map
    from agent_monitor.errors import AudioDecodeError
    from agent_monitor.event_loops import run

    args.channel_map = parse_channel_map(args.channel_map) if args.channel_map else None
    if not args.file.is_file():
        raise AudioDecodeError(str(args.file), "no such file" if not args.file.exists() else "not a file")
    if args.agent_channel:
        settings = settings.model_copy(
            update={"asr": settings.asr.model_copy(update={"agent_channel": args.agent_channel})}
        )
    result = run(_analyze(args, settings))
    report = result.report
    if args.json:
        out = report.to_dict()
        out["elapsed_s"] = round(result.elapsed_s, 3)
        out["audio_s"] = round(result.audio_s, 3)
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.render())
        print(
            f"\nanalysed {result.audio_s:.1f} s of audio in {result.elapsed_s:.1f} s; "
            f"stored as call {report.call_id}",
        )
    return 0


async def _analyze(args: argparse.Namespace, settings: Settings) -> Any:
    import asyncio

    from agent_monitor.compose import build_stages
    from agent_monitor.pipeline.analyze import analyze_file
    from agent_monitor.pipeline.bus import InProcessEventBus
    from agent_monitor.pipeline.manager import CallManager
    from agent_monitor.storage import Database, upgrade_database

    await asyncio.to_thread(upgrade_database, settings)
    db = Database.open(settings)
    stages = await asyncio.to_thread(build_stages, settings)
    if not stages.transcribers.can_transcribe(args.lang):
        print(f"agent-monitor: {stages.transcribers.missing_model(args.lang).message}", file=sys.stderr)
    manager = CallManager(settings, stages, db, InProcessEventBus(settings.live.subscriber_queue))
    try:
        return await analyze_file(
            manager,
            args.file,
            call_id=args.call_id,
            agent_id=args.agent,
            lang=args.lang,
            channel_map=args.channel_map,
        )
    finally:
        await manager.shutdown()
        stages.close()
        db.dispose()
