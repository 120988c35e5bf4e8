"""``agent-monitor db``: migrate the database and verify its tamper-evident hash chains, the
evidence rows, the finished QA reviews against their seals and the recording files against the
sha256 sealed when each was closed; seal the recordings a floor node gone for good left open."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_monitor.errors import StorageError, TamperDetectedError
from agent_monitor.files import write_atomic

if TYPE_CHECKING:
    from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    db = commands.add_parser(
        "db", help="database: migrate, show the schema revision, verify evidence, seal left-open recordings"
    )
    sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db.set_defaults(func=lambda args, settings: _usage(db))

    up = sub.add_parser("upgrade", help="create or migrate the database to the newest schema")
    up.set_defaults(func=_upgrade)

    status = sub.add_parser("status", help="show the database's schema revision")
    status.set_defaults(func=_status)

    verify = sub.add_parser(
        "verify",
        help="check the hash chains, the evidence rows, finished QA reviews and closed recording files",
    )
    verify.add_argument(
        "--anchors",
        type=Path,
        help="JSON file of chain heads saved earlier (default: the anchors the server writes to"
        " DATA_DIR/chain-anchors.jsonl, when present): also detect truncated or rewritten chains",
    )
    verify.add_argument(
        "--write-anchors", type=Path, help="after a clean check, save the chain heads to this JSON file"
    )
    verify.set_defaults(func=_verify)

    seal = sub.add_parser(
        "seal-open",
        help="seal the open recordings of calls no longer live that a node gone for good wrote",
        description="Seal, as they are on disk, the open recordings of calls that are no longer "
        "live and that node NODE wrote: for a floor node that will not come back (a node that "
        "starts again seals its own). The calls NODE still holds live in the database (killed "
        "before it listed them on the floor, nobody marked them aborted) are marked aborted first. "
        "Refused while NODE is on the floor (its presence in Redis) or, without Redis, while a "
        "server holds the data directory.",
    )
    whose = seal.add_mutually_exclusive_group(required=True)
    whose.add_argument(
        "--writer", metavar="NODE", type=_node_name, help="the node id named as the recordings' writer"
    )
    whose.add_argument(
        "--unnamed",
        action="store_true",
        help="the recordings that name no writer (stored before schema revision 0017); only once "
        "every node runs a version that names it",
    )
    seal.set_defaults(func=_seal_open)


def _node_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a node id is not empty (--unnamed: the recordings naming none)")
    return text


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _display_url(settings: Settings) -> str:
    from agent_monitor.storage.engine import database_url

    return database_url(settings).render_as_string(hide_password=True)


def _upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage.migrate import upgrade_database

    revision = upgrade_database(settings)
    print(f"database {_display_url(settings)} is at schema revision {revision}")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage.engine import make_engine
    from agent_monitor.storage.migrate import current_revision, head_revision, is_known_revision

    engine = make_engine(settings, create=False)  # a report: a missing database is not made
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    state = "up to date" if current == head else "needs `agent-monitor db upgrade`"
    if not is_known_revision(current):
        state = "unknown to this version: migrated by a newer agent-monitor"
    print(f"database {_display_url(settings)}: revision {current or 'none'}, newest {head} ({state})")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage.anchors import anchor_path, read_latest_anchors
    from agent_monitor.storage.chain import Anchor, chain_anchors
    from agent_monitor.storage.engine import Database
    from agent_monitor.storage.evidence import verify_all
    from agent_monitor.storage.migrate import require_current_schema
    from agent_monitor.storage.recording_seal import REPORT_NAME, verify_recording_files
    from agent_monitor.storage.review_seal import sealed_at_upgrade

    anchors: dict[str, Anchor] = {}
    if args.anchors is not None:
        anchors = _read_anchors(args.anchors)
    elif (server_anchors := anchor_path(settings.data_dir)).exists():
        anchors = read_latest_anchors(server_anchors)
        print(f"checking against the chain anchors in {server_anchors}")
    db = Database.open(settings, create=False)
    try:
        require_current_schema(db.engine)
        with db.session() as session:
            reports = verify_all(session, anchors)
            files = verify_recording_files(session, settings.media_dir)
            heads = chain_anchors(session)
            unsealed_before = sealed_at_upgrade(session)
    finally:
        db.dispose()
    reports.append(files.report)
    problems = [p for r in reports for p in r.problems]
    for report in reports:
        mark = "ok" if report.ok else f"{len(report.problems)} PROBLEM(S)"
        head = f", head {report.head_seq}:{report.head_hash[:16]}" if report.head_hash else ""
        print(f"{report.name}: {report.rows} rows{head}: {mark}")
    for problem in problems:
        print(f"  {problem}")
    if files.open:
        print(
            f"{REPORT_NAME}: {len(files.open)} open recording(s) skipped (live or never closed, not sealed):"
        )
        for label in files.open:
            print(f"  {label}")
    _print_sealed_at_upgrade(unsealed_before)
    if problems:
        raise TamperDetectedError(f"{len(problems)} problem(s) found: the evidence records were altered")
    if args.write_anchors is not None:
        doc = {name: {"seq": a.seq, "hash": a.hash} for name, a in heads.items()}
        try:
            write_atomic(args.write_anchors, json.dumps(doc, indent=2) + "\n")
        except OSError as exc:
            raise StorageError(f"{args.write_anchors}: cannot write anchors: {exc.strerror or exc}") from exc
        print(f"chain heads saved to {args.write_anchors}")
    return 0


def _seal_open(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from agent_monitor.data_dir_lock import DataDirLock
    from agent_monitor.storage import repo
    from agent_monitor.storage.engine import Database
    from agent_monitor.storage.migrate import require_current_schema
    from agent_monitor.storage.recording_seal import UNNAMED, seal_left_open

    writer = UNNAMED if args.unnamed else args.writer
    whose = "that name no writer" if args.unnamed else f"of node {writer!r}"
    lock = DataDirLock(settings.data_dir)
    if settings.cluster.redis_url is not None and writer != UNNAMED:
        _refuse_if_on_floor(settings, writer)
    db = Database.open(settings, create=False)  # a missing database: said, nothing made
    try:
        if settings.cluster.redis_url is None:
            lock.acquire()  # no floor: refused while a server runs on this data directory
        require_current_schema(db.engine)
        now = datetime.now(UTC)
        with db.session() as session:  # the node's calls still live (never reaped) end first
            aborted = [] if writer == UNNAMED else repo.abort_live_calls(session, at=now, node=writer)
        with db.session() as session:
            done = seal_left_open(session, settings.media_dir, now, writer=writer)
    finally:
        db.dispose()
        lock.release()
    if aborted:
        print(f"marked {len(aborted)} call(s) node {writer!r} left live as aborted: {', '.join(aborted)}")
    print(f"sealed {len(done.sealed)} open recording(s) {whose} (calls not live)")
    for label in done.sealed:
        print(f"  {label}")
    for problem in done.problems:
        print(f"  {problem}")
    return 1 if done.problems else 0


def _refuse_if_on_floor(settings: Settings, node: str) -> None:
    """Refuse while ``node`` is on the floor: it is alive, and writes (and seals) its own."""
    import redis

    from agent_monitor.cluster.registry import presence_key
    from agent_monitor.errors import ClusterError, ConflictError

    key = presence_key(settings.cluster.prefix, node)
    try:
        with redis.Redis.from_url(str(settings.cluster.redis_url)) as client:
            present = client.exists(key)
    except (redis.RedisError, OSError) as exc:
        raise ClusterError(f"cannot tell whether node {node!r} is on the floor: Redis: {exc}") from exc
    if present:
        raise ConflictError(
            f"node {node!r} is on the floor (its presence in Redis is current): it seals its own "
            "recordings; stop it for good first"
        )


def _print_sealed_at_upgrade(labels: list[str], shown: int = 10) -> None:
    """Say which finished reviews are sealed only as they were found at the upgrade to 0011."""
    if not labels:
        return
    print(
        f"qa_reviews: {len(labels)} review(s) finished before reviews were sealed, sealed as found at"
        " the upgrade to schema 0011 (a change made to them before then cannot be detected):"
    )
    for label in labels[:shown]:
        print(f"  {label}")
    if len(labels) > shown:
        print(f"  and {len(labels) - shown} more")


def _read_anchors(path: Path) -> dict[str, Any]:
    from agent_monitor.storage.chain import Anchor
    from agent_monitor.strict_json import loads_strict

    try:
        doc = loads_strict(path.read_text(encoding="utf-8"))
        return {str(name): Anchor.parse(v) for name, v in doc.items()}
    except OSError as exc:
        raise StorageError(f"{path}: cannot read anchors: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise StorageError(f"{path}: not an anchors file written by `db verify --write-anchors`") from exc
