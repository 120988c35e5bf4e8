"""The ``demo`` command: a live server with sample calls, for a first look.

``agent-monitor demo [--calls N] [--rounds N] [--speed S] [--duration S]``: start the server (the
options of ``serve``: :func:`agent_monitor.cli.live_cmd.server_options`) and keep replaying the
sample call of the shared data (or its first ``--duration`` seconds) with scripted violations
(synthetic espeak-ng speech, labeled so) spliced in, printing calls and alerts as they happen.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_monitor.cli.live_cmd import check_numbers, own_heap, preflight, server_options, server_settings
from agent_monitor.errors import ConfigError, DatasetError
from agent_monitor.event_loops import run
from agent_monitor.settings import Settings

if TYPE_CHECKING:
    from agent_monitor.cli.listeners import ServePorts

#: the demo's scripted agent violations: (in the agent's first pause after this many seconds, text);
#: rendered by espeak-ng (synthetic speech)
DEMO_SCRIPT = ((12.0, "you are a stupid idiot"), (45.0, "shut up you idiot"))
DEMO_CALL = Path("calls") / "spokenwoz" / "MUL1011.opus"
#: the most concurrent demo calls: each is an agent user whose new password is hashed first (about
#: 0.3 s each, in a thread that a Ctrl-C or SIGTERM cannot stop): ``--calls 100000`` spent hours
#: there, deaf to both, before a call started (2 cores keep up with about 8 calls)
MAX_DEMO_CALLS = 100


def register(commands: Any, evals: Any) -> None:
    demo = commands.add_parser("demo", help="start the server and keep replaying sample calls")
    server_options(demo)
    demo.add_argument(
        "--calls", type=int, default=2, help=f"concurrent demo calls (default 2, at most {MAX_DEMO_CALLS})"
    )
    demo.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0 = forever)")
    demo.add_argument("--speed", type=float, default=1.0)
    demo.add_argument(
        "--duration", type=float, default=None, help="each call: only this many seconds of the sample call"
    )
    demo.set_defaults(func=cmd_demo)


def demo_audio(settings: Settings, duration: float | None = None) -> Any:
    """The sample call with the demo's scripted violations (synthetic speech) spliced in; with
    ``duration``, its first ``duration`` seconds (the first violation comes about 16 s in)."""
    from agent_monitor.ingest.call_audio import load_call_audio, synthetic_speech
    from agent_monitor.model.audio import Leg

    path = settings.eval_data_dir / DEMO_CALL
    if not path.is_file():
        raise DatasetError(
            f"{path}: the demo's sample call is missing; set AGENT_MONITOR_EVAL_DATA_DIR to the shared data"
        )
    audio = load_call_audio(path, 8000, settings.asr.agent_channel)
    for at, text in reversed(DEMO_SCRIPT):
        at = audio.quiet_point(Leg.AGENT, at)
        audio = audio.splice(Leg.AGENT, synthetic_speech(text, 8000), at, f"[synthetic] {text}")
    return audio if duration is None else audio.excerpt(0.0, duration)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    check_numbers(("--calls", args.calls, 1, True), ("--rounds", args.rounds, 0, True))
    if args.calls > MAX_DEMO_CALLS:
        raise ConfigError(
            f"--calls {args.calls}: at most {MAX_DEMO_CALLS} (each demo call is an agent user set up "
            "first, about 0.3 s each; 2 cores keep up with about 8 live calls)"
        )
    check_numbers(("--speed", args.speed, 0.0, False))
    if args.duration is not None:
        check_numbers(("--duration", args.duration, 0.0, False))
    settings = server_settings(args, settings)
    own_heap(settings)  # the demo's server runs in this process, as `serve` does
    # the demo's calls need two legs each: warming more spares would only delay its start
    spares = min(settings.asr.spare_recognizers, 2 * args.calls)
    asr = settings.asr.model_copy(update={"spare_recognizers": spares})
    settings = settings.model_copy(update={"asr": asr})
    preflight(settings)
    from agent_monitor.cli.listeners import bind_serve_ports

    ports = bind_serve_ports(settings)  # a port in use: one line, exit 3, as `serve`
    return run(_demo(settings, ports, args.calls, args.rounds, args.speed, args.duration))


async def _demo(
    settings: Settings, ports: ServePorts, calls: int, rounds: int, speed: float, duration: float | None
) -> int:
    import uvicorn

    from agent_monitor.cli.settling import SettlingServer
    from agent_monitor.compose import create_app
    from agent_monitor.ingest.client import stream_ingest
    from web.server_options import uvicorn_options

    audio = await asyncio.to_thread(demo_audio, settings, duration)
    http, audiosocket = ports
    app = create_app(settings, audiosocket)
    host, port = settings.server.host, settings.server.port
    server = SettlingServer(uvicorn.Config(app, host=host, port=port, **uvicorn_options(settings, "WARNING")))
    serving = asyncio.create_task(server.serve(sockets=http))
    while not server.started:
        if serving.done():
            serving.result()
            return 1
        await asyncio.sleep(0.1)
    url = f"http://{host}:{port}"
    print(f"agent-monitor demo: server on {url}; events: ws://{host}:{port}/ws/events", file=sys.stderr)
    print(
        "demo calls are a real recorded call with SYNTHETIC (espeak-ng) violations spliced in",
        file=sys.stderr,
    )
    from agent_monitor.accounts.demo import ensure_demo_users

    agent_ids = [f"demo-agent-{i + 1}" for i in range(calls)]
    accounts = await asyncio.to_thread(ensure_demo_users, app.state.services.db, agent_ids)
    print(f"sign in at {url}/login (passwords are new each run):", file=sys.stderr)
    for account in accounts:
        print(f"  {account.role:<10} {account.username:<16} {account.password}", file=sys.stderr)
    printer = asyncio.create_task(_print_events(app))
    try:
        n = 0
        while rounds == 0 or n < rounds:
            n += 1
            starts = [
                stream_ingest(
                    url,
                    audio,
                    {
                        "call_id": f"demo-{uuid.uuid4().hex[:8]}",
                        "agent_id": f"demo-agent-{i + 1}",
                        "debtor_tz": "America/Chicago",
                    },
                    speed=speed,
                    token=app.state.auth.ingest_token,
                )
                for i in range(calls)
            ]
            await asyncio.gather(*starts)
    finally:
        printer.cancel()
        server.should_exit = True
        await serving
    return 0


async def _print_events(app: Any) -> None:
    from agent_monitor.model.events import AgentWarning, AlertRaised, CallEnded, CallStarted

    services = app.state.services
    with services.bus.subscribe(
        lambda e: isinstance(e, CallStarted | CallEnded | AlertRaised | AgentWarning)
    ) as sub:
        async for event in sub:
            if isinstance(event, CallStarted):
                line = f"call started  {event.call_id} agent {event.info.agent_id}"
            elif isinstance(event, CallEnded):
                line = f"call ended    {event.call_id} {event.status} level {event.level.value}"
            elif isinstance(event, AlertRaised):
                why = "; ".join(r.text for r in event.reasons[:2])
                line = f"ALERT {event.level.value.upper():6} {event.call_id} t={event.t:.1f}s {why}"
            else:
                assert isinstance(event, AgentWarning)
                line = f'agent warning {event.call_id} t={event.t:.1f}s {event.title}: "{event.evidence}"'
            print(line, flush=True)
