"""Speech recognition in worker processes: real Vosk in real child processes on a real call.

One pool of two workers serves the whole module (starting one loads the model: seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from agent_monitor.audio.decode import decode_file, split_legs
from agent_monitor.compose import open_stages
from agent_monitor.errors import ConfigError, ModelError, SpeechWorkerError
from agent_monitor.model.audio import Leg
from agent_monitor.model.stages import Transcriber, TranscriberFactory
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import DecoderSettings, Settings, load_settings
from agent_monitor.workers import process
from agent_monitor.workers.messages import Feed, Ready
from agent_monitor.workers.pool import WorkerPool, worker_processes, worker_settings
from agent_monitor.workers.process import WorkerProcess
from asr.languages import LanguageModels

RATE = 16000
CHUNK = RATE // 2 * 2  # half a second of 16-bit audio
CALL_S = 16.0  # the first seconds of the SpokenWOZ call: both parties speak


@pytest.fixture(scope="module")
def small(base_settings: Settings) -> Settings:
    """Two spare recognizers in all: the pool starts fast. Without Vosk's dither, so a worker's
    transcript can be compared word for word with the in-process one (with it, Kaldi's
    process-wide random numbers make two runs differ: a word, or where an utterance ends)."""
    asr = base_settings.asr.model_copy(
        update={"spare_recognizers": 2, "decoder": {"en": DecoderSettings(dither=0.0)}}
    )
    return base_settings.model_copy(update={"asr": asr})


@pytest.fixture(scope="module")
def pool(small: Settings) -> Iterator[WorkerPool]:
    p = WorkerPool.start(small, 2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def call_legs(eval_data: Path) -> dict[Leg, bytes]:
    audio = decode_file(eval_data / "calls/spokenwoz/MUL1011.opus", target_rate=RATE)
    legs = split_legs(audio, None, "left")
    return {leg: pcm[: int(CALL_S * RATE) * 2] for leg, pcm in legs.items()}


async def _open(factory: TranscriberFactory, leg: Leg, t0: float = 0.0, first: int = 0) -> Transcriber:
    return await factory.transcriber("en", leg, t0=t0, first_utterance=first, keywords=("bastard",))


async def _run(transcriber: Transcriber, pcm: bytes) -> list[Transcript]:
    out: list[Transcript] = []
    for i in range(0, len(pcm), CHUNK):
        out += await transcriber.feed(pcm[i : i + CHUNK])
    out += await transcriber.close()
    await transcriber.release()
    return out


async def _call(factory: TranscriberFactory, legs: dict[Leg, bytes]) -> dict[Leg, list[Transcript]]:
    opened = {leg: await _open(factory, leg) for leg in legs}
    results = await asyncio.gather(*(_run(opened[leg], pcm) for leg, pcm in legs.items()))
    return dict(zip(legs, results, strict=True))


def _words(transcripts: list[Transcript]) -> list[str]:
    """The final words in order. (Not tagged with their utterance number: a first word lost to
    the dither shifts every later word's utterance, and the words were then all counted as wrong;
    the utterances are compared on their own below.)"""
    return [w.text for t in transcripts if t.final for w in t.words]


def test_a_call_through_two_workers_gives_the_in_process_words(
    pool: WorkerPool, small: Settings, call_legs: dict[Leg, bytes]
) -> None:
    remote = asyncio.run(_call(pool, call_legs))
    models = LanguageModels.from_settings(small)
    try:
        local = asyncio.run(_call(models, call_legs))
    finally:
        models.close()
    for leg in call_legs:
        assert len(_words(local[leg])) >= 10, leg  # both parties speak in these seconds
        # word for word, utterance for utterance (no dither: the same audio gives the same words)
        assert _words(remote[leg]) == _words(local[leg])
        finals = [(t.utterance, t.text, t.start, t.end) for t in remote[leg] if t.final]
        assert finals == [(t.utterance, t.text, t.start, t.end) for t in local[leg] if t.final]
        assert any(not t.final for t in remote[leg])  # partials come back too
    assert [w.legs for w in pool.workers] == [0, 0]  # every leg released


def test_legs_go_to_the_least_loaded_worker_and_keep_the_call_clock(pool: WorkerPool) -> None:
    async def scenario() -> None:
        first = await _open(pool, Leg.AGENT)
        second = await _open(pool, Leg.DEBTOR)
        assert sorted(w.legs for w in pool.workers) == [1, 1]
        third = await _open(pool, Leg.AGENT, t0=100.0, first=7)  # a resumed call
        assert sorted(w.legs for w in pool.workers) == [1, 2]
        for t in (first, second):
            assert await t.close() == []
            await t.release()
        fourth = await _open(pool, Leg.DEBTOR)  # goes beside nothing: the idle worker
        assert sorted(w.legs for w in pool.workers) == [1, 1]
        for t in (third, fourth):
            await t.close()
            await t.release()
        assert [w.legs for w in pool.workers] == [0, 0]
        with pytest.raises(ModelError, match=r"no zh model|no model configured"):
            await pool.transcriber("zh", Leg.AGENT, t0=0.0, first_utterance=0, keywords=())

    asyncio.run(scenario())


def test_a_killed_worker_is_reported_and_replaced_and_its_leg_goes_on(
    pool: WorkerPool, call_legs: dict[Leg, bytes]
) -> None:
    pcm = call_legs[Leg.AGENT]
    half = len(pcm) // 2 // CHUNK * CHUNK

    async def scenario() -> None:
        leg = await _open(pool, Leg.AGENT)
        before = [w for w in pool.workers if w.legs == 1]
        assert len(before) == 1
        for i in range(0, half, CHUNK):
            await leg.feed(pcm[i : i + CHUNK])
        os.kill(before[0].pid, signal.SIGKILL)
        death = rf"agent leg at 8\.\d s: speech worker 0 \(pid {before[0].pid}\) was killed by SIGKILL"
        with pytest.raises(SpeechWorkerError, match=death):
            await leg.feed(pcm[half : half + CHUNK])  # in flight or seen before it is sent
        later: list[Transcript] = []
        for i in range(half + CHUNK, len(pcm), CHUNK):
            later += await leg.feed(pcm[i : i + CHUNK])
        later += await leg.close()
        await leg.release()
        words = [w for t in later if t.final for w in t.words]
        assert len(words) >= 5  # the other worker took the leg over
        assert all(w.start >= CALL_S / 2 for w in words)  # still on the call clock

    asyncio.run(scenario())
    deadline = time.monotonic() + 30
    while pool.restarts < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pool.restarts == 1
    assert all(w.alive for w in pool.workers) and len(pool.workers) == 2
    assert asyncio.run(_call(pool, {Leg.DEBTOR: call_legs[Leg.DEBTOR]}))[Leg.DEBTOR]


def test_shutdown_leaves_no_child_process(small: Settings) -> None:
    stages = asyncio.run(
        open_stages(small.model_copy(update={"server": small.server.model_copy(update={"workers": 1})}))
    )
    assert isinstance(stages.transcribers, WorkerPool) and stages.runner is stages.transcribers
    assert "in 1 speech worker processes" in stages.transcribers.describe()
    pids = [w.pid for w in stages.transcribers.workers]
    assert pids and set(pids) <= _children()
    stages.close()
    assert not set(pids) & _children()
    assert all(w.proc.poll() is not None for w in stages.transcribers.workers)


def test_workers_setting_auto_and_n(base_settings: Settings) -> None:
    def resolved(value: int | str, cores: int) -> int:
        server = base_settings.server.model_copy(update={"workers": value})
        return worker_processes(base_settings.model_copy(update={"server": server}), cores)

    assert resolved("auto", 2) == 0 and resolved("auto", 1) == 0
    assert resolved("auto", 8) == 7
    assert resolved(3, 2) == 3 and resolved(0, 64) == 0
    with pytest.raises(ConfigError, match=r"server\.workers"):
        load_settings(server={"workers": "many"})
    # ``asr.threads`` are the threads of one process; ``asr.workers`` was their former name
    assert load_settings(asr={"workers": 3}).asr.threads == 3
    assert worker_settings(load_settings(asr={"spare_recognizers": 16}), 3).asr.spare_recognizers == 6


def _children() -> set[int]:
    """The live child processes of this process (from /proc)."""
    me, out = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                out.add(int(entry.name))
    return out


@pytest.mark.asyncio
async def test_worker_trims_its_heap_when_its_last_leg_is_released(
    small: Settings, call_legs: dict[Leg, bytes]
) -> None:
    """The child's request handler (in this process, real Vosk): releasing the worker's last open
    leg hands the heap back (``server.trim_heap_after_idle_s``, 0 here), releasing one of two does not."""
    from multiprocessing import Pipe

    from agent_monitor.heap_trim import HeapTrimmer
    from agent_monitor.workers.child import LegServer
    from agent_monitor.workers.messages import Feed, Open, Release

    models = LanguageModels.from_settings(small)
    front, back = Pipe()
    try:
        server = LegServer(models, back, HeapTrimmer(delay_s=0.0))
        for key, leg in enumerate(call_legs):
            await server.handle(
                Open(req=key, key=key, lang="en", leg=leg, t0=0.0, first_utterance=0, keywords=())
            )
            await server.handle(Feed(req=10 + key, key=key, pcm=call_legs[leg][:CHUNK]))
        await server.handle(Release(req=20, key=0))
        assert not server.heap.pending and server.heap.trims == 0  # one leg still open
        await server.handle(Release(req=21, key=1))
        for _ in range(100):
            if server.heap.trims:
                break
            await asyncio.sleep(0.05)
        assert server.heap.trims == 1
        replies = [front.recv() for _ in range(6)]
        assert all(r.error is None for r in replies)
    finally:
        front.close()
        back.close()
        models.close()


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def test_a_hung_worker_is_killed_and_replaced_and_its_leg_goes_on(
    pool: WorkerPool, call_legs: dict[Leg, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that stops answering (SIGSTOP) is killed after the request deadline, then handled
    like a dead one: the request fails, the leg goes on in another worker, a new worker starts."""
    monkeypatch.setattr(process, "REQUEST_TIMEOUT_S", 3.0, raising=False)
    monkeypatch.setattr(process, "REQUEST_AUDIO_FACTOR", 1.0, raising=False)
    pcm = call_legs[Leg.DEBTOR]
    restarts = pool.restarts

    async def scenario() -> int:
        leg = await _open(pool, Leg.DEBTOR)
        hung = next(w for w in pool.workers if w.legs == 1)
        await leg.feed(pcm[:CHUNK])
        os.kill(hung.pid, signal.SIGSTOP)
        try:
            with pytest.raises(SpeechWorkerError, match=r"no reply to a request within 3 s"):
                await asyncio.wait_for(leg.feed(pcm[CHUNK : 2 * CHUNK]), 60)  # hangs without a deadline
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(hung.pid, signal.SIGCONT)
        assert not hung.alive and hung.proc.wait(30) == -signal.SIGKILL
        later: list[Transcript] = []
        for i in range(2 * CHUNK, len(pcm), CHUNK):
            later += await leg.feed(pcm[i : i + CHUNK])
        later += await leg.close()
        await leg.release()
        assert [w for t in later if t.final for w in t.words]  # another worker took the leg over
        return hung.pid

    hung_pid = asyncio.run(scenario())
    assert _wait_for(lambda: pool.restarts == restarts + 1)
    assert all(w.alive and w.pid != hung_pid for w in pool.workers)


def test_a_garbled_message_from_a_worker_is_its_death() -> None:
    """The front's reader gets bytes that do not unpickle: the worker is killed and reported dead,
    its request in flight fails (a peer socket stands in for the child, which never sends such)."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    worker = WorkerProcess(0, proc, ours, Ready(proc.pid, ("en",), {}, {}, "fake"))
    deaths: list[WorkerProcess] = []
    worker.on_death = deaths.append
    worker._sender.start()
    worker._reader.start()
    child = Connection(theirs.detach())

    async def scenario() -> None:
        asked = asyncio.create_task(worker.request(lambda req: Feed(req, 1, b"\0\0" * CHUNK)))
        await asyncio.to_thread(child.recv)  # the request arrived
        child.send_bytes(b"\x80\x05garbage")
        with pytest.raises(SpeechWorkerError, match=r"unreadable message"):
            await asyncio.wait_for(asked, 30)

    try:
        asyncio.run(scenario())
        # the reader fails the request, then reports the death: wait for it to have done both
        worker._reader.join(30)
        assert deaths == [worker] and not worker.alive and proc.wait(30) == -signal.SIGKILL
    finally:
        child.close()
        worker.close()
        proc.kill()
        proc.wait()


def test_a_worker_given_a_garbled_message_ends(small: Settings) -> None:
    """A real worker whose reader gets bytes that do not unpickle exits (and is seen to die)
    instead of living on deaf."""
    worker = WorkerProcess.start(0, worker_settings(small, 1))
    deaths: list[WorkerProcess] = []
    worker.on_death = deaths.append
    try:
        worker._conn.send_bytes(b"not a pickle")
        assert worker.proc.wait(60) == 0
        assert _wait_for(lambda: bool(deaths), 30) and not worker.alive
    finally:
        worker.close()
