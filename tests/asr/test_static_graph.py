"""The live path decodes with the static graph ``setup.sh`` built (real Vosk, real model, real
speech); the keyword second pass keeps a model with runtime grammars. Fails without the built
graph: run ``agent-monitor models build-graph``."""

from __future__ import annotations

import difflib
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.settings import DecoderSettings, Settings
from asr.decoder_conf import derived_model
from asr.languages import LanguageModels
from asr.model_loading import load_language_model, load_vosk_model
from asr.model_path import resolve_model_path
from asr.static_graph import HCLG, WORDS, find_static_graph, static_graph_dir
from asr.streaming import RecognizerPool
from tests.asr.offline.test_static_graph_build import linked_model

RATE = 16000


@pytest.fixture(scope="module")
def built_graph(base_settings: Settings) -> Path:
    graph, why = find_static_graph(resolve_model_path(base_settings))
    assert graph is not None, f"{why}: run `agent-monitor models build-graph` (scripts/setup.sh does)"
    return graph


@pytest.fixture(scope="module")
def speech(librispeech_flac: Path) -> bytes:
    audio = decode_file(librispeech_flac, target_rate=RATE)
    assert audio.sample_rate == RATE
    return float_to_pcm16(audio.samples[0])


def decode(model: Any, pcm: bytes, grammar: str | None = None) -> tuple[list[str], float]:
    """Words of ``pcm`` on a new recognizer, and the CPU seconds this thread spent on them."""
    from vosk import KaldiRecognizer

    started = time.thread_time()
    rec = KaldiRecognizer(model, RATE, grammar) if grammar else KaldiRecognizer(model, RATE)
    for i in range(0, len(pcm), 6400):
        rec.AcceptWaveform(pcm[i : i + 6400])
    text = json.loads(rec.FinalResult())["text"]
    return text.split(), time.thread_time() - started


def test_the_derived_directory_offers_vosk_only_the_static_graph(
    base_settings: Settings, built_graph: Path
) -> None:
    path = resolve_model_path(base_settings)
    with derived_model(path, None, built_graph) as root:
        graph = root / "graph"
        assert (graph / HCLG).resolve() == (built_graph / HCLG).resolve()
        assert (graph / WORDS).resolve() == (built_graph / WORDS).resolve()
        assert not (graph / "HCLr.fst").exists() and not (graph / "Gr.fst").exists()
        assert (graph / "phones" / "word_boundary.int").is_file()  # word times still work
        assert (root / "am" / "final.mdl").resolve() == (path / "am" / "final.mdl").resolve()
    assert not root.exists()
    with derived_model(path, DecoderSettings(beam=8.0), built_graph) as root:  # decoder options on top
        assert "--beam=8.0" in (root / "conf" / "model.conf").read_text()
        assert (root / "graph" / HCLG).is_file() and not (root / "graph" / "Gr.fst").exists()


def test_with_the_second_pass_the_pool_decodes_with_the_static_graph_and_keeps_a_grammar_model(
    keyword_pool: RecognizerPool, built_graph: Path, speech: bytes
) -> None:
    assert keyword_pool.static_graph == built_graph
    assert keyword_pool.grammar_model is not None and keyword_pool.grammar_model is not keyword_pool.model
    # Vosk ignores a grammar on a static graph (no runtime graphs): the words are free text ...
    free, _ = decode(keyword_pool.model, speech, json.dumps(["zebra", "[unk]"]))
    # ... while the lookahead model the second pass uses keeps to it
    kept, _ = decode(keyword_pool.grammar_model, speech, json.dumps(["zebra", "[unk]"]))
    assert len(free) > 10 and "zebra" not in free
    assert set(kept) <= {"zebra", "[unk]"}


def test_same_words_as_the_lookahead_graph_at_much_less_cpu(
    pool: RecognizerPool, speech: bytes, base_settings: Settings
) -> None:
    # the model's own lookahead graph as installed (the pool's grammar model has no first-pass LM)
    lookahead = load_vosk_model(resolve_model_path(base_settings))
    static_cpu, lookahead_cpu = [], []
    for _ in range(2):  # alternating; each decode on a new recognizer
        static_words, cpu = decode(pool.model, speech)
        static_cpu.append(cpu)
        lookahead_words, cpu = decode(lookahead, speech)
        lookahead_cpu.append(cpu)
        # Kaldi's dither draws new noise per recognizer: a word or two may differ between runs
        assert difflib.SequenceMatcher(None, static_words, lookahead_words).ratio() >= 0.9
    assert min(static_cpu) < 0.75 * min(lookahead_cpu), (static_cpu, lookahead_cpu)


def test_language_models_of_worker_processes_load_the_static_graph(
    base_settings: Settings, built_graph: Path
) -> None:
    models = LanguageModels.from_settings(base_settings)
    try:
        pool = models.pool("en")
        assert pool is not None and pool.static_graph == built_graph
        assert pool.grammar_model is None  # the keyword second pass is off by default
    finally:
        models.close()


def test_without_a_built_graph_one_warning_and_the_lookahead_graph(
    base_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = linked_model(resolve_model_path(base_settings), tmp_path)
    with caplog.at_level(logging.WARNING, logger="asr.model_loading"):
        loaded = load_language_model(model, base_settings.asr, "en")
    assert loaded.static_graph is None and loaded.grammar is loaded.decoding
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "twice the CPU" in warnings[0] and "models build-graph" in warnings[0]
    assert str(static_graph_dir(model)) in warnings[0]


def test_static_graph_off_and_no_second_pass(base_settings: Settings, built_graph: Path) -> None:
    path = resolve_model_path(base_settings)
    off = base_settings.asr.model_copy(update={"static_graph": False})
    assert load_language_model(path, off, "en").static_graph is None
    assert not base_settings.asr.keyword_second_pass  # the default: no grammar model is loaded
    loaded = load_language_model(path, base_settings.asr, "en")
    assert loaded.static_graph == built_graph and loaded.grammar is None
    assert load_vosk_model(path, None, built_graph) is not None
