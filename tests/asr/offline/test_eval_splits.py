"""The tuning and reporting splits share no speaker; --limit spreads over speakers; the paired
bootstrap interval of the WER difference."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.errors import ConfigError
from asr.offline.evaluate import Score, spread
from asr.offline.report import diff_interval, draw_wers
from asr.offline.splits import SPLITS, split_parts


def _speakers(labels: Path, keep: Callable[[dict[str, str]], bool]) -> set[str]:
    with labels.open(newline="", encoding="utf-8") as f:
        return {r["speaker"] for r in csv.DictReader(f) if keep(r)}


def test_no_speaker_is_in_both_splits(eval_data: Path) -> None:
    seen: dict[str, set[tuple[str, str]]] = {}
    for name in SPLITS:
        seen[name] = set()
        for labels, part in split_parts(name, eval_data):
            speakers = _speakers(labels, part.keeps)
            assert speakers, (name, part.folder)
            seen[name] |= {(part.folder, s) for s in speakers}
    assert not seen["tune"] & seen["report"]
    assert not seen["tune"] & seen["report-rest"]
    assert len({s for _, s in seen["report"]}) >= 12  # 8 RAVDESS actors, 4 FSDD speakers


def test_report_rest_is_the_reporting_speakers_clips_report_leaves_out(eval_data: Path) -> None:
    """``report-rest`` (the second held-out draw): no clip of ``report``, every other clip of its
    speakers; 24 RAVDESS and 40 FSDD clips, 184 words, as ``report``."""
    for (labels, rest), (_, report) in zip(
        split_parts("report-rest", eval_data), split_parts("report", eval_data), strict=True
    ):
        with labels.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        picked = {r["path"] for r in spread(rows, report, report.files)}
        left = spread(rows, rest, rest.files)
        assert not picked & {r["path"] for r in left}
        assert picked | {r["path"] for r in left} == {r["path"] for r in rows if report.keeps(r)}
        assert len(left) == len(picked) == report.files
        words = sum(len(r["transcript"].split()) for r in left)
        assert words == sum(len(r["transcript"].split()) for r in rows if r["path"] in picked)


def test_unknown_split_is_a_clear_error(eval_data: Path) -> None:
    with pytest.raises(ConfigError, match="unknown split 'dev'"):
        split_parts("dev", eval_data)


def test_limit_spreads_over_speakers() -> None:
    rows = [{"path": f"{s}{i}", "transcript": "x", "speaker": s} for i in range(6) for s in "abc"]
    picked = spread(rows, None, 6)
    assert [r["speaker"] for r in picked] == ["a", "a", "b", "b", "c", "c"]
    assert [r["path"] for r in picked[:2]] == ["a0", "a3"]
    assert spread(rows, None, 0) == spread(rows, None, 100)


def _score(clips: list[tuple[int, int]]) -> Score:
    s = Score()
    for errors, words in clips:
        s.errors += errors
        s.ref_tokens += words
        s.clips.append(((errors,), words))
    return s


def _drawn(clips: list[tuple[tuple[int, ...], int]]) -> Score:
    s = Score(draws=len(clips[0][0]))
    for errors, words in clips:
        s.errors += sum(errors)
        s.ref_tokens += words
        s.clips.append((errors, words))
    return s


def test_diff_interval_is_paired_over_clips() -> None:
    same = [(i % 3, 10) for i in range(40)]
    assert diff_interval(_score(same), _score(same)) == (0.0, 0.0)
    worse = [(e + 1, n) for e, n in same]  # one more error on every clip: +10 points, no doubt
    lo, hi = diff_interval(_score(worse), _score(same))
    assert lo == pytest.approx(10.0) and hi == pytest.approx(10.0)
    one = [(e + (i == 0), n) for i, (e, n) in enumerate(same)]  # one word on one clip: not significant
    lo, hi = diff_interval(_score(one), _score(same))
    assert lo == 0.0 and 0.0 < hi <= 1.0


def test_diff_interval_resamples_the_draws_too() -> None:
    """Plain Vosk that makes 0 or 2 errors on a clip depending on the dither draw: with one draw
    per clip (the lucky draw 0) the pipeline's steady 1 error looks like +10 points beyond doubt;
    over both draws the mean difference is 0 and the interval spans it."""
    pipeline = _drawn([((1, 1), 10) for _ in range(40)])
    plain = _drawn([((0, 2), 10) for _ in range(40)])
    assert pipeline.wer == plain.wer == 10.0
    lo, hi = diff_interval(pipeline, plain)
    assert lo < 0.0 < hi
    lucky = _score([(0, 10)] * 40)
    assert diff_interval(_score([(1, 10)] * 40), lucky) == pytest.approx((10.0, 10.0))
    assert draw_wers(plain) == [0.0, 20.0]


def test_draws_of_a_clip_must_match() -> None:
    s = Score()
    s.add(["a", "b"], [["a", "b"], ["a"]])
    assert (s.draws, s.errors, s.wer) == (2, 1, 25.0)
    with pytest.raises(ValueError, match="3 draws of a clip, 2 of the others"):
        s.add(["a"], [["a"]] * 3)


@pytest.mark.parametrize("argv", [[], ["some/dir", "--split", "tune"]])
def test_eval_asr_needs_dirs_or_a_split(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "asr", *argv]) != 0
    assert "give DIRs or --split" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--limit", "--limit must be 0 (all) or more (got -3)"),
        ("--draws", "--draws must be at least 1 (got -3)"),
    ],
)
def test_eval_asr_refuses_a_negative_count(
    option: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative --limit used to score no clip at all and print an empty table as a result."""
    assert main(["eval", "asr", "--split", "tune", option, "-3"]) == 1
    assert capsys.readouterr().err.strip() == f"agent-monitor: error: eval asr: {message}"
