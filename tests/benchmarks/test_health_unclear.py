"""``benchmarks/health_unclear.py``: each condition and folder of a word log played as one leg per
dither draw through the real ``unclear`` rule."""

from __future__ import annotations

from agent_monitor.settings import HealthSettings
from asr.offline.words_log import Decode
from benchmarks.health_unclear import play, table


def decode(condition: str, clip: str, seed: int, confs: list[float]) -> Decode:
    words = [(f"w{i}", c) for i, c in enumerate(confs)]
    return Decode("ravdess", condition, clip, seed, ["w0", "w1", "w2", "w3", "w4"], [], words)


def test_clips_of_a_line_make_one_leg_per_draw() -> None:
    settings = HealthSettings(unclear_words=10, unclear_conf=0.78)
    log = [
        # draw 1 of clips a, b, c (each clip has its own seed, as eval asr draws them)
        decode("gsm", "a", 11, [0.5] * 5),
        decode("gsm", "b", 12, [0.5] * 5),  # 10 words, mean 0.5: starts, these 5 count
        decode("gsm", "c", 13, [0.99] * 5),  # mean 0.745: still active
        # draw 2 of clip a: a leg of its own, 5 words, undecided
        decode("gsm", "a", 21, [0.5] * 5),
        decode("clean", "a", 31, [0.95] * 10),
    ]
    rows = play(log, settings)
    gsm, clean = rows[("gsm", "ravdess")], rows[("clean", "ravdess")]
    assert (gsm.words, gsm.active_words, gsm.starts, gsm.ref) == (20, 10, 1, 20)
    assert (clean.words, clean.active_words, clean.starts) == (10, 0, 0)
    assert gsm.errors == 0 and clean.errors == 5  # 5 reference words, 10 recognised: 5 insertions
    text = table(rows, settings)
    assert "below 0.78" in text and "the last 10 words" in text
    # logs without finals: one final per clip with no speech seconds, so the wordless half never decides
    gsm_lines = [line.split()[-4:] for line in text.splitlines() if line.startswith("gsm")]
    assert gsm_lines == [["0%", "50%", "0%", "1"]]  # wordless 0%, 50% of the words unclear, 1 start


def test_logged_finals_play_with_their_speech_and_wordless_ones_count() -> None:
    """Logs since session 23 carry each final's VAD speech and word count: a leg whose speech
    mostly gives no word starts ``unclear`` though its few words are sure ones."""
    settings = HealthSettings(unclear_words=50, unclear_speech_s=6.0, unclear_wordless_share=0.45)

    def clip(name: str, utterances: list[tuple[float, int]]) -> Decode:
        words = [(f"w{i}", 0.95) for i in range(sum(n for _, n in utterances))]
        return Decode("ravdess", "amr", name, 1, ["w0", "w1"], [], words, utterances)

    log = [clip("a", [(2.0, 2), (1.0, 0)]), clip("b", [(3.0, 0)]), clip("c", [(2.0, 2)])]
    rows = play(log, settings)
    amr = rows[("amr", "ravdess")]
    # after b: 6 s of speech, 4 s wordless (0.67): starts; c keeps 0.5 over the last 6 s: stays
    assert (amr.speech_s, amr.wordless_s, amr.starts, amr.words) == (8.0, 4.0, 1, 4)
    assert (amr.active_s, amr.active_words) == (5.0, 2)
    line = next(t for t in table(rows, settings).splitlines() if t.startswith("amr"))
    assert line.split()[-4:] == ["50%", "50%", "62%", "1"]  # 5 of the 8 s heard while active
