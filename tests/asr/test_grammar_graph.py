"""The grammar-only model of the keyword second pass: HCLr.fst with an empty Gr.fst (real Vosk)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.settings import DecoderSettings, Settings
from asr.decoder_conf import derived_model
from asr.grammar_graph import FST_MAGIC, GRAMMAR_G, empty_grammar_fst
from asr.keyword_rescore import KeywordRescorer, variants
from asr.model_loading import load_vosk_model
from asr.model_path import resolve_model_path
from asr.static_graph import WORDS, find_static_graph

RATE = 16000
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def paths(base_settings: Settings) -> tuple[Path, Path]:
    path = resolve_model_path(base_settings)
    graph, why = find_static_graph(path)
    assert graph is not None, f"{why}: run `agent-monitor models build-graph` (scripts/setup.sh does)"
    return path, graph


@pytest.fixture(scope="module")
def speech(librispeech_flac: Path) -> bytes:
    return float_to_pcm16(decode_file(librispeech_flac, target_rate=RATE).samples[0])


#: run in a fresh process: what loading the model adds to its RSS (MiB). In the test's own
#: process the allocator reuses memory freed by earlier tests, so a delta there is not the model's.
LOAD_RSS = """
import sys
from pathlib import Path
def rss():
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            return int(line.split()[1]) / 1024
from agent_monitor.settings import DecoderSettings
from asr.model_loading import load_vosk_model
words = Path(sys.argv[2]) if len(sys.argv) > 2 else None
before = rss()
model = load_vosk_model(Path(sys.argv[1]), DecoderSettings(dither=0.0), grammar_words=words)
print(rss() - before)
"""


def load_rss_mib(path: Path, grammar_words: Path | None = None) -> float:
    args = [str(path), *([str(grammar_words)] if grammar_words else [])]
    out = subprocess.run(
        [sys.executable, "-c", LOAD_RSS, *args], capture_output=True, text=True, check=True, cwd=REPO
    )
    return float(out.stdout.strip().splitlines()[-1])


def words_of(model: Any, pcm: bytes, grammar: list[str] | None = None) -> list[dict[str, Any]]:
    from vosk import KaldiRecognizer

    rec = KaldiRecognizer(model, RATE, json.dumps(grammar)) if grammar else KaldiRecognizer(model, RATE)
    rec.SetWords(True)
    rec.AcceptWaveform(pcm)
    return list(json.loads(rec.FinalResult()).get("result", []))


def test_the_empty_grammar_fst_is_one_final_state_without_arcs() -> None:
    data = empty_grammar_fst()
    assert struct.unpack_from("<i", data)[0] == FST_MAGIC
    assert b"vector" in data and b"standard" in data
    assert data.endswith(struct.pack("<qqq", 0, 1, 0) + struct.pack("<fq", 0.0, 0))


def test_the_derived_directory_keeps_hclr_and_swaps_gr_and_words(paths: tuple[Path, Path]) -> None:
    path, graph = paths
    with derived_model(path, None, grammar_words=graph) as root:
        assert (root / "graph" / "HCLr.fst").resolve() == (path / "graph" / "HCLr.fst").resolve()
        assert (root / "graph" / GRAMMAR_G).read_bytes() == empty_grammar_fst()
        assert (root / "graph" / WORDS).resolve() == (graph / WORDS).resolve()
        assert not (root / "graph" / "HCLG.fst").exists()
    assert not root.exists()
    with pytest.raises(ValueError), derived_model(path, None, graph, grammar_words=graph):
        pass


def test_grammar_only_model_decodes_grammars_as_the_full_model_in_less_memory(
    paths: tuple[Path, Path], speech: bytes
) -> None:
    path, graph = paths
    repeatable = DecoderSettings(dither=0.0)  # no random dither: two recognizers, the same words
    grammar_only_mib, full_mib = load_rss_mib(path, graph), load_rss_mib(path)
    assert grammar_only_mib < full_mib - 25, (grammar_only_mib, full_mib)
    grammar_only = load_vosk_model(path, repeatable, grammar_words=graph)
    full = load_vosk_model(path, repeatable)
    first = [w["word"] for w in words_of(full, speech)]
    assert len(first) > 10
    assert words_of(grammar_only, speech) == []  # no grammar: the empty language model, no words
    grammar = [*variants(first[:6], ["idiot"]), "[unk]"]
    with_g = words_of(grammar_only, speech[: RATE * 2 * 3], grammar)
    assert with_g == words_of(full, speech[: RATE * 2 * 3], grammar) and with_g  # words, times, conf
    # the word list comes from words.txt: the rescorer finds the same key terms in both
    terms = ["idiot", "stupid", "zzqxv"]
    assert KeywordRescorer(grammar_only, RATE, terms).terms == KeywordRescorer(full, RATE, terms).terms
    assert KeywordRescorer(grammar_only, RATE, terms).terms == ("idiot", "stupid")
