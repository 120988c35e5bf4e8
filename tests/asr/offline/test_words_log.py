"""``eval asr --words-out``: every decode logged word by word, consistent with the scored WER, and
the confidence-floor benchmark reading it (real recordings, the real model)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from agent_monitor.audio.conditions import parse_conditions
from agent_monitor.errors import ConfigError
from agent_monitor.settings import Settings
from asr.offline.evaluate import EvalOptions, edit_distance, evaluate_tree, normalise
from asr.offline.words_log import Decode, WordsLog, read_log
from benchmarks.asr_conf_floor import table, tally


def test_word_log_holds_every_decode_as_scored(
    base_settings: Settings, eval_data: Path, tmp_path: Path
) -> None:
    log = tmp_path / "words.jsonl"
    options = EvalOptions(limit=2, conditions=parse_conditions("clean,mulaw-20"), draws=2, words_out=log)
    results = evaluate_tree(base_settings, eval_data / "speech" / "en" / "librivox", options)
    decodes = read_log(log)
    assert len(decodes) == sum(r.files for r in results) * 2 == 8
    for res in results:
        mine = [d for d in decodes if d.condition == res.condition]
        assert {d.folder for d in mine} == {"librivox"} and len({d.seed for d in mine}) == 4
        pipeline = sum(edit_distance(d.ref, normalise(" ".join(w for w, _ in d.words))) for d in mine)
        assert pipeline == res.pipeline.errors
        assert sum(edit_distance(d.ref, d.plain) for d in mine) == res.plain.errors
    assert all(0.0 <= c <= 1.0 for d in decodes for _, c in d.words)
    # each final with its VAD speech and word count (wordless ones too): they hold the words
    assert all(d.utterances and sum(n for _, n in d.utterances) == len(d.words) for d in decodes)
    assert all(s > 0 for d in decodes for s, _ in d.utterances)
    assert sum(len(d.words) for d in decodes) > 100  # read speech: the words are there

    floors = [0.0, 1.01]
    counts = tally(decodes, floors)
    for res in results:
        c = counts[res.condition]
        assert c["err0.0"] == res.pipeline.errors and c["plain"] == res.plain.errors
        assert c["kept1.01"] == 0 and c["err1.01"] == c["ref"]  # every word dropped: all deleted
    out = table(counts, floors)
    assert "clean" in out and "mulaw-20" in out and "within +1" in out


def test_a_log_written_before_finals_were_logged_reads_with_none(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    line = '{"folder": "f", "condition": "clean", "clip": "a", "seed": 0, "ref": ["a"], "plain": [], '
    old.write_text(line + '"words": [["a", 0.9]]}\n', encoding="utf-8")
    (decode,) = read_log(old)
    assert decode.words == [("a", 0.9)] and decode.utterances == []


def test_a_file_that_is_not_a_word_log_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"folder": "x"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1: not a word-log line"):
        read_log(bad)
    with pytest.raises(ConfigError, match="cannot read the word log"):
        read_log(tmp_path / "missing.jsonl")


def _write_log(path: Path, clips: int) -> WordsLog:
    log = WordsLog(path)
    for n in range(clips):
        log.add(Decode("f", "clean", f"clip{n}", 0, ["a", "b"], ["a"], [("a", 0.9), ("b", 0.5)]))
    return log


def test_the_finished_log_is_on_disk_before_it_is_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each flush to disk covered, seen where the operating system is asked (a power loss
    cannot be produced here): the partial file, every line in it, while the log was not yet in
    place (else a crash just after the rename could leave an empty or short log at the path)."""
    path = tmp_path / "words.jsonl"
    synced: list[tuple[str, int, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size, path.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    log = _write_log(path, 3)
    log.finish()
    log.close()
    assert len(read_log(path)) == 3
    assert synced == [(str(path.with_name("words.jsonl.partial")), path.stat().st_size, False)]


def test_a_log_that_cannot_reach_the_disk_leaves_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "words.jsonl"
    _write_log(path, 1).finish()
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    log = _write_log(path, 5)
    with pytest.raises(OSError, match="No space left"):
        log.finish()
    log.close()  # as evaluate's clean-up does
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words.jsonl"]
