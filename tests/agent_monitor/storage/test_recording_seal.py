"""A recording file modified on disk after it was closed (its sha256 sealed in the evidence log) is
named by ``db verify`` and refused by :func:`read_sealed` (the evidence export); an open recording
(a live call) is skipped and said so; untouched recordings verify clean."""

from __future__ import annotations

import hashlib
import math
import struct
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from agent_monitor.cli import main
from agent_monitor.errors import ConflictError
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import Holder
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import upgrade_database
from agent_monitor.storage.recording_seal import read_sealed, seal_left_open, verify_recording_files
from agent_monitor.storage.recordings import RecordingWriter, read_recording, recording_path
from tests.agent_monitor.storage.conftest import PostgresDatabases
from tests.redis_support import RedisServer

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
RATE = 8000


def _tone(seconds: float) -> bytes:
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(int(8000 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(n)))


def _recorded_call(
    db: Database, media_dir: Path, call_id: str, *, close: bool = True, node: str | None = None
) -> Path:
    """A call whose two legs are recorded as the live pipeline records them (register, write,
    close, store the size and sha256); with ``close=False`` the recordings stay open (live)."""
    with db.session() as s:
        repo.start_call(s, call_id, "A1", source_protocol="ws_ingest", started_at=T0)
    for leg in Leg:
        path = recording_path(media_dir, call_id, leg)
        with db.session() as s:
            repo.register_recording(s, call_id, leg, str(path), RATE, started_at=T0, writer=node)
        writer = RecordingWriter(path, RATE)
        writer.write(_tone(3.0))
        if not close:
            writer.flush()
            continue
        info = writer.close()
        with db.session() as s:
            repo.close_recording(
                s,
                call_id,
                leg,
                bytes_written=info.bytes_written,
                samples_written=info.samples_written,
                sha256=info.sha256,
                closed_at=T0,
            )
    return recording_path(media_dir, call_id, Leg.AGENT)


def _zero_10k(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(20_000)
        f.write(bytes(10_000))


def _verify(db_url: str, media_dir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(media_dir))
    return main(["db", "verify"])


def test_db_verify_names_a_modified_or_missing_recording_file(
    db: Database,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    agent = _recorded_call(db, tmp_path, "c1")
    _recorded_call(db, tmp_path, "live-1", close=False)
    assert _verify(db_url, tmp_path, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "recording_files: 2 rows: ok" in out, out
    assert "2 open recording(s) skipped" in out and "call 'live-1' agent leg" in out, out

    _zero_10k(agent)
    assert _verify(db_url, tmp_path, monkeypatch) == 1
    captured = capsys.readouterr()
    assert "recording_files: 2 rows: 1 PROBLEM(S)" in captured.out, captured.out
    assert f"call 'c1' agent leg: file {agent} does not match the sha256 sealed" in captured.out
    assert "debtor leg: file" not in captured.out  # the untouched leg is not named
    assert "1 problem(s) found" in captured.err

    debtor = recording_path(tmp_path, "c1", Leg.DEBTOR)
    debtor.unlink()
    assert _verify(db_url, tmp_path, monkeypatch) == 1
    out = capsys.readouterr().out
    assert f"call 'c1' debtor leg: file {debtor} is missing" in out, out


def test_open_recordings_are_skipped_not_hashed(db: Database, tmp_path: Path) -> None:
    _zero_10k(_recorded_call(db, tmp_path, "live-1", close=False))  # still being written: no seal
    with db.session() as s:
        files = verify_recording_files(s, tmp_path)
    assert files.report.ok and files.report.rows == 0
    assert files.open == ("call 'live-1' agent leg", "call 'live-1' debtor leg")


def test_read_sealed_gives_the_sealed_bytes_and_refuses_a_modified_file(db: Database, tmp_path: Path) -> None:
    agent = _recorded_call(db, tmp_path, "c1")
    with db.session() as s:
        rec = repo.require_recording(s, "c1", Leg.AGENT)
        data, seal = read_sealed(s, tmp_path, rec)
        assert data == agent.read_bytes()
        assert hashlib.sha256(data).hexdigest() == seal["sealed_sha256"] == rec.sha256
        entry = seal["evidence_log"]
        assert entry["id"] >= 1 and len(entry["row_hash"]) == 64 and len(entry["digest"]) == 64
    _zero_10k(agent)
    with db.session() as s, pytest.raises(ConflictError, match="agent leg's recording was modified"):
        read_sealed(s, tmp_path, repo.require_recording(s, "c1", Leg.AGENT))
    # the stored sha256 rewritten to the tampered file's: the evidence log's seal disagrees
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE recordings SET sha256 = :h WHERE leg = 'agent'"),
            {"h": hashlib.sha256(agent.read_bytes()).hexdigest()},
        )
    with db.session() as s, pytest.raises(ConflictError, match="does not match its evidence-log seal"):
        read_sealed(s, tmp_path, repo.require_recording(s, "c1", Leg.AGENT))
    recording_path(tmp_path, "c1", Leg.DEBTOR).unlink()
    with db.session() as s, pytest.raises(ConflictError, match=r"debtor leg's recording .* is missing"):
        read_sealed(s, tmp_path, repo.require_recording(s, "c1", Leg.DEBTOR))


def test_recordings_a_crash_left_open_are_sealed_as_they_are_on_disk(db: Database, tmp_path: Path) -> None:
    """A server killed mid-call leaves its recordings open, their headers behind the audio that
    reached the disk. At the next start (the call marked aborted) each is sealed as it is: header
    repaired, size and sha256 stored; ``db verify`` then checks it and the export reads it. A live
    call's recording (another process's) and a file that is gone are left open, the latter named."""
    agent = _recorded_call(db, tmp_path, "crashed", close=False)
    with agent.open("ab") as f:  # audio written after the last header update, as a crash leaves it
        f.write(_tone(0.5))
    _recorded_call(db, tmp_path, "gone", close=False)
    recording_path(tmp_path, "gone", Leg.DEBTOR).unlink()
    with db.session() as s:
        repo.abort_live_calls(s, at=T0)
    _recorded_call(db, tmp_path, "live-elsewhere", close=False)
    with db.session() as s:
        done = seal_left_open(s, tmp_path, T0)
    assert done.sealed == (
        "recordings: call 'crashed' agent leg",
        "recordings: call 'crashed' debtor leg",
        "recordings: call 'gone' agent leg",
    )
    assert len(done.problems) == 1 and done.problems[0].startswith(
        "recordings: call 'gone' debtor leg: left open, cannot be sealed:"
    )
    with db.session() as s:
        rec = repo.require_recording(s, "crashed", Leg.AGENT)
        assert rec.sha256 == hashlib.sha256(agent.read_bytes()).hexdigest()
        assert rec.samples_written == int(3.5 * RATE) and rec.closed_at is not None
        data, _ = read_sealed(s, tmp_path, rec)
        assert read_recording(agent).header_complete and data == agent.read_bytes()
        files = verify_recording_files(s, tmp_path)
        # a progress report written back after the seal (a late journal) does not change it
        repo.update_recording_progress(s, "crashed", Leg.AGENT, bytes_written=2, samples_written=1)
        assert repo.require_recording(s, "crashed", Leg.AGENT).samples_written == int(3.5 * RATE)
    assert files.report.ok and files.report.rows == 3
    assert files.open == (
        "call 'gone' debtor leg",
        "call 'live-elsewhere' agent leg",
        "call 'live-elsewhere' debtor leg",
    )


def _sealed(db: Database) -> dict[str, bool]:
    with db.session() as s:
        rows = repo.list_recordings(s, "a") + repo.list_recordings(s, "b") + repo.list_recordings(s, "old")
        rows += repo.list_recordings(s, "a-live") + repo.list_recordings(s, "a2")
        return {f"{r.call_id}/{Leg(r.leg).value}": r.sha256 is not None for r in rows}


def test_on_a_floor_a_node_seals_only_the_recordings_it_wrote(db: Database, tmp_path: Path) -> None:
    """Nodes of a floor share the database: a node seals the open recordings that it wrote
    (``recordings.writer``) of calls no longer live, all of them at its start or one call's when
    it reaps that call; another node's, a live call's and a row from before writers were named
    are left open. A call resumed on another node names that node as its writer again."""
    for call_id, writer in (("a", "node-a"), ("b", "node-b"), ("old", None), ("a2", "node-a")):
        _recorded_call(db, tmp_path, call_id, close=False, node=writer)
    with db.session() as s:
        repo.abort_live_calls(s, at=T0)
    _recorded_call(db, tmp_path, "a-live", close=False, node="node-a")
    with db.session() as s:
        one = seal_left_open(s, tmp_path, T0, writer="node-a", call_id="a2")
    assert one.sealed == ("recordings: call 'a2' agent leg", "recordings: call 'a2' debtor leg")
    with db.session() as s:  # "a2" resumed on node-b: open again, node-b's
        for leg in Leg:
            path = recording_path(tmp_path, "a2", leg)
            rec = repo.register_recording(s, "a2", leg, str(path), RATE, writer="node-b")
            assert rec.sha256 is None and rec.writer == "node-b"
    with db.session() as s:
        done = seal_left_open(s, tmp_path, T0, writer="node-a")
    assert done.sealed == ("recordings: call 'a' agent leg", "recordings: call 'a' debtor leg")
    assert done.problems == ()
    assert _sealed(db) == {
        "a/agent": True,
        "a/debtor": True,
        "b/agent": False,
        "b/debtor": False,
        "old/agent": False,
        "old/debtor": False,
        "a-live/agent": False,
        "a-live/debtor": False,
        "a2/agent": False,
        "a2/debtor": False,
    }
    with db.session() as s:
        assert seal_left_open(s, tmp_path, T0, writer="node-b").sealed == (
            "recordings: call 'b' agent leg",
            "recordings: call 'b' debtor leg",
            "recordings: call 'a2' agent leg",
            "recordings: call 'a2' debtor leg",
        )


def _status_of(db: Database, call_id: str) -> set[bool]:
    with db.session() as s:
        return {r.sha256 is not None for r in repo.list_recordings(s, call_id)}


def test_db_seal_open_seals_what_a_node_gone_for_good_left_open(
    db: Database,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A floor node that never comes back never seals its recordings: `db seal-open --writer
    NODE` does, refused while NODE is on the floor or Redis cannot say, and first marks aborted
    the calls NODE still holds live (killed before it listed them, nobody reaped them);
    `--unnamed` seals those stored before writers were named, refused (without Redis) while a
    server holds the data directory."""
    for call_id, node in (("gone", "node-g"), ("alive", "node-a"), ("old", None)):
        _recorded_call(db, tmp_path, call_id, close=False, node=node)
    with db.session() as s:
        repo.abort_live_calls(s, at=T0)
    _recorded_call(db, tmp_path, "orphan", close=False, node="node-g")  # never reaped: still live
    with db.session() as s:
        g1 = Holder("node-g", "g1")
        repo.start_call(s, "orphan", "A1", source_protocol="ws_ingest", started_at=T0, resume=True, holder=g1)
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit):  # an empty node id is not --unnamed
        main(["db", "seal-open", "--writer", " "])
    assert "a node id is not empty" in capsys.readouterr().err
    with RedisServer(tmp_path / "redis") as server:
        monkeypatch.setenv("AGENT_MONITOR_CLUSTER__REDIS_URL", server.url)
        with redis.Redis.from_url(server.url) as client:
            client.set("agent-monitor:node:node-a", "1", px=60_000)  # node-a beats: on the floor
        assert main(["db", "seal-open", "--writer", "node-a"]) == 1
        assert "node 'node-a' is on the floor" in capsys.readouterr().err
        assert main(["db", "seal-open", "--writer", "node-g"]) == 0
        out = capsys.readouterr().out
        assert "marked 1 call(s) node 'node-g' left live as aborted: orphan" in out, out
        assert "sealed 4 open recording(s) of node 'node-g' (calls not live)" in out, out
        assert "recordings: call 'gone' agent leg" in out and "call 'orphan' debtor leg" in out
    assert main(["db", "seal-open", "--writer", "node-a"]) == 1  # Redis gone: cannot tell
    assert "cannot tell whether node 'node-a' is on the floor" in capsys.readouterr().err
    monkeypatch.delenv("AGENT_MONITOR_CLUSTER__REDIS_URL")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert main(["db", "seal-open", "--unnamed"]) == 1
        assert "in use by another agent-monitor server" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert main(["db", "seal-open", "--unnamed"]) == 0
    assert "sealed 2 open recording(s) that name no writer" in capsys.readouterr().out
    assert [_status_of(db, c) for c in ("gone", "orphan", "alive", "old")] == [
        {True},
        {True},
        {False},
        {True},
    ]
    with db.session() as s:  # `db verify` names the writer of what is left open
        assert verify_recording_files(s, tmp_path).open == (
            "call 'alive' agent leg (written by node 'node-a')",
            "call 'alive' debtor leg (written by node 'node-a')",
        )


def _resume(db: Database, media_dir: Path, call_id: str, node: str) -> None:
    """Another node resumes the call: it registers the legs' recordings again, as its own."""
    with db.session() as s:
        for leg in Leg:
            path = recording_path(media_dir, call_id, leg)
            repo.register_recording(s, call_id, leg, str(path), RATE, writer=node)


def test_a_node_sealing_holds_the_rows_that_a_resume_on_another_node_reopens(
    postgres: PostgresDatabases, tmp_path: Path
) -> None:
    """On a floor (PostgreSQL) a node sealing the recordings it left open holds their rows until it
    commits: another node resuming the call meanwhile waits, then opens them again as its own.
    Without the lock the resume went first and the seal then stored a hash on rows the other node
    was writing."""
    url = postgres.create()
    upgrade_database(url)
    db = Database.open(url)
    try:
        _recorded_call(db, tmp_path, "moved", close=False, node="node-a")
        with db.session() as s:
            repo.abort_live_calls(s, at=T0)
        resume = threading.Thread(target=_resume, args=(db, tmp_path, "moved", "node-b"))
        with db.session() as s:
            assert len(seal_left_open(s, tmp_path, T0, writer="node-a").sealed) == 2
            resume.start()
            resume.join(1.0)
            assert resume.is_alive()  # waiting for the seal's row locks
        resume.join(10.0)
        assert not resume.is_alive()
        with db.session() as s:
            rows = [(r.writer, r.sha256) for r in repo.list_recordings(s, "moved")]
        assert rows == [("node-b", None)] * 2
    finally:
        db.dispose()
        postgres.drop(url)


#: a server's hold on a data directory, in another process (the lock is counted within one)
HOLD_LOCK = """
import sys, time
from pathlib import Path
from agent_monitor.data_dir_lock import DataDirLock
DataDirLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""
