"""Live commands: ``serve``, ``replay`` and ``capture`` (``demo``: :mod:`agent_monitor.cli.demo_cmd`).

- ``agent-monitor serve [--host H] [--port P] [--audiosocket-port P|off]``: the web server with
  ``/ws/ingest``, ``/ws/twilio``, ``/ws/events`` and the AudioSocket listener, on SQLite under
  ``data_dir`` with no other setup.
- ``agent-monitor replay FILE --server URL [--speed 1.0] [--protocol ingest|twilio]``: stream a
  recorded (stereo) call into a running server as a live call, in real time times ``speed``.
- ``agent-monitor capture --server URL [--mic DEV] [--call-audio DEV]``: an agent desktop's
  headset microphone and call audio as the two legs of a live call.

Shared with ``demo``, which starts the same server: :func:`server_options` (the options),
:func:`server_settings` (applied to the settings), :func:`own_heap`, :func:`preflight` and
:func:`check_numbers`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_monitor.data_dir_lock import DataDirLock
from agent_monitor.errors import ConfigError, StreamingClientError
from agent_monitor.event_loops import run
from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    serve = commands.add_parser("serve", help="run the live server (websockets, AudioSocket, events)")
    server_options(serve)
    serve.set_defaults(func=cmd_serve)

    replay = commands.add_parser("replay", help="stream a recorded call into a running server as a live call")
    replay.add_argument("file", type=Path, help="the call recording (stereo: one leg per channel)")
    replay.add_argument("--server", required=True, help="server URL, e.g. http://127.0.0.1:8000")
    replay.add_argument("--speed", type=float, default=1.0, help="times real time (default 1.0)")
    replay.add_argument("--protocol", choices=("ingest", "twilio"), default="ingest")
    _call_options(replay)
    replay.add_argument("--agent-channel", choices=("left", "right"), default=None)
    replay.add_argument("--start", type=float, default=0.0, help="start this many seconds into the file")
    replay.add_argument("--duration", type=float, default=None, help="send only this many seconds")
    replay.set_defaults(func=cmd_replay)

    capture = commands.add_parser("capture", help="stream the headset mic and call audio as a live call")
    capture.add_argument("--server", required=True, help="server URL, e.g. http://127.0.0.1:8000")
    capture.add_argument("--mic", help="input device of the agent's headset microphone (index or name)")
    capture.add_argument("--call-audio", help="input device carrying the far end (index or name)")
    capture.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    capture.add_argument("--rate", type=int, default=16000, help="capture sample rate (default 16000)")
    capture.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    _call_options(capture)
    capture.set_defaults(func=cmd_capture)


def server_options(p: argparse.ArgumentParser) -> None:
    """The options of a command that starts the server (``serve``, ``demo``): :func:`server_settings`."""
    p.add_argument("--host", help="bind address (default settings.server.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP/websocket port (default settings.server.port)")
    p.add_argument("--audiosocket-port", help="AudioSocket TCP port, or 'off'")
    p.add_argument(
        "--role",
        choices=("all", "analysis", "web"),
        help="this node's role on a floor (default settings.cluster.role, all; README: Running a floor)",
    )


def _call_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--call-id", help="call id (default: a new random id)")
    p.add_argument("--agent-id", default="agent-1")
    p.add_argument("--debtor-id")
    p.add_argument("--debtor-phone")
    p.add_argument("--debtor-tz", help="IANA time zone of the debtor, e.g. America/Chicago")
    p.add_argument("--debt-id", help="the debt the call is about (Regulation F counts calls per debt)")
    p.add_argument(
        "--consented",
        action="store_true",
        help="the debtor gave direct prior consent to this call (left out of the frequency counts)",
    )
    p.add_argument(
        "--lang", choices=("en", "zh"), help="call language (default: the server's, for this agent)"
    )
    p.add_argument(
        "--record-only",
        action="store_true",
        help="stream even if the server has no model for the call's language (recorded, not transcribed)",
    )


def _call(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    call = {
        "call_id": args.call_id or f"{prefix}-{uuid.uuid4().hex[:12]}",
        "agent_id": args.agent_id,
        "debtor_id": args.debtor_id,
        "debtor_phone": args.debtor_phone,
        "debtor_tz": args.debtor_tz,
        "debt_id": args.debt_id,
        "consented": True if args.consented else None,
        "lang": args.lang,
    }
    return {k: v for k, v in call.items() if v is not None}


def server_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with the :func:`server_options` given on the command line, validated."""
    update: dict[str, Any] = {}
    if args.host:
        update["host"] = args.host
    if args.port is not None:
        update["port"] = args.port
    if args.audiosocket_port is not None:
        text = str(args.audiosocket_port).strip().lower()
        update["audiosocket_port"] = None if text in ("off", "none", "") else text
    try:  # validated as the settings are (a port is 0-65535), not copied in unchecked
        server = type(settings.server).model_validate({**settings.server.model_dump(), **update})
    except ValidationError as exc:
        problems = "; ".join(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from None
    settings = settings.model_copy(update={"server": server})
    if getattr(args, "role", None):
        settings = settings.model_copy(
            update={"cluster": settings.cluster.model_copy(update={"role": args.role})}
        )
    return settings


def preflight(settings: Settings) -> None:
    """Before the server starts: print which call languages it can transcribe (a language without
    its model is recorded only, loudly), and fail with one line if the rule packs do not load."""
    from agent_monitor.compose import preflight as stages_preflight

    print(f"agent-monitor: {stages_preflight(settings)}", file=sys.stderr)


def own_heap(settings: Settings) -> None:
    """Start this command again on the configured allocator and huge pages (:mod:`agent_monitor.allocator`),
    before anything heavy is loaded; returns when they are set already (or there is nothing to set)."""
    from agent_monitor.allocator import restart_with_heap

    restart_with_heap(settings.server.allocator, settings.server.huge_pages)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = server_settings(args, settings)
    own_heap(settings)
    import uvicorn

    from agent_monitor.accounts.secrets import unshared_on_floor
    from agent_monitor.cli import settling
    from agent_monitor.cli.listeners import bind_serve_ports
    from agent_monitor.cluster.node_id import check_node_id_free
    from agent_monitor.compose import create_app
    from web.server_options import uvicorn_options

    preflight(settings)
    server = settings.server
    with DataDirLock(settings.data_dir):  # one server per data directory, checked before anything
        said = check_node_id_free(settings)  # and one process per node id on a floor
        for line in ([said] if said else []) + unshared_on_floor(settings):
            print(f"agent-monitor: {line}", file=sys.stderr)
        http, audiosocket = bind_serve_ports(settings)  # a port in use: one line, exit 3
        print(
            f"agent-monitor: serving on http://{server.host}:{server.port} (data in {settings.data_dir})",
            file=sys.stderr,
        )
        # not uvicorn.run, which swallows the KeyboardInterrupt that a Ctrl-C ends in: the server
        # settles its calls either way (a Ctrl-C pressed again too), then Ctrl-C exits 130 and
        # SIGTERM as main() says
        app = create_app(settings, audiosocket)
        config = uvicorn.Config(app, host=server.host, port=server.port, **uvicorn_options(settings))
        settling.serve(config, http)
    return 0


def _check_language(args: argparse.Namespace) -> None:
    """Ask the server whether it transcribes the call's language; refuse unless ``--record-only``."""
    from agent_monitor.ingest.server_languages import check_transcribed

    warning = check_transcribed(args.server, args.agent_id, args.lang, record_only=args.record_only)
    if warning:
        print(warning, file=sys.stderr)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.accounts.secrets import client_ingest_token
    from agent_monitor.ingest.call_audio import load_call_audio
    from agent_monitor.ingest.client import replay_call
    from agent_monitor.ingest.server_languages import split_server_url

    split_server_url(args.server)  # refused before the audio is read or anything connects
    check_numbers(("--speed", args.speed, 0.0, False), ("--start", args.start, 0.0, True))
    if args.duration is not None:
        check_numbers(("--duration", args.duration, 0.0, False))
    # sent as telephone audio: 8 kHz L16 (ingest) or 8 kHz mu-law (Twilio)
    audio = load_call_audio(args.file, 8000, args.agent_channel or settings.asr.agent_channel)
    if args.start >= audio.duration:
        raise ConfigError(f"--start {args.start:g}: {args.file} is {audio.duration:.1f} s long")
    if args.start or args.duration:
        audio = audio.excerpt(args.start, args.duration)
    call = _call(args, "replay")
    _check_language(args)
    print(
        f"replaying {args.file} ({audio.duration:.1f} s) as call {call['call_id']} "
        f"over {args.protocol} at {args.speed:g}x",
        file=sys.stderr,
    )
    token = client_ingest_token(settings)
    result = run(replay_call(args.server, audio, call, protocol=args.protocol, speed=args.speed, token=token))
    if not result.completed:
        raise StreamingClientError(
            f"call {result.call_id}: server closed the stream after {result.seconds_sent:.1f} s "
            f"(code {result.close_code}: {result.close_reason or 'no reason'})"
        )
    level = result.stopped.get("level")
    print(f"call {result.call_id}: {result.seconds_sent:.1f} s sent" + (f", level {level}" if level else ""))
    return 0


def check_numbers(*checks: tuple[str, float, float, bool]) -> None:
    """Refuse, before anything connects, an option that is not a finite number above (or, where
    ``or_equal``, at least) its floor: ``(option, value, floor, or_equal)``."""
    for option, value, floor, or_equal in checks:
        if not (math.isfinite(value) and (value >= floor if or_equal else value > floor)):
            bound = f"at least {floor:g}" if or_equal else f"above {floor:g}"
            raise ConfigError(f"{option} {value:g}: must be a finite number {bound}")


def cmd_capture(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.accounts.secrets import client_ingest_token
    from agent_monitor.ingest.capture import capture_call, list_devices
    from agent_monitor.ingest.server_languages import split_server_url

    if args.list_devices:
        print(list_devices())
        return 0
    split_server_url(args.server)  # refused before a device is opened or anything connects
    call = _call(args, "capture")
    _check_language(args)
    print(
        f"capturing call {call['call_id']}: mic={args.mic or 'default'} "
        f"call audio={args.call_audio or 'default'} (Ctrl-C ends the call)",
        file=sys.stderr,
    )

    async def run_capture() -> Any:
        stop = asyncio.Event()
        task = asyncio.create_task(
            capture_call(
                args.server,
                call,
                mic=args.mic,
                call_audio=args.call_audio,
                sample_rate=args.rate,
                duration_s=args.duration,
                stop_event=stop,
                token=client_ingest_token(settings),
            )
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            stop.set()
            return await task

    result, stats = run(run_capture())
    if not result.completed:
        raise StreamingClientError(
            f"call {result.call_id}: server closed the stream "
            f"(code {result.close_code}: {result.close_reason})"
        )
    print(
        f"call {result.call_id}: {result.seconds_sent:.1f} s captured, level {result.stopped.get('level')}, "
        f"padded {stats.padded_samples}, trimmed {stats.trimmed_samples}"
    )
    return 0
