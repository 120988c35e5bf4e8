"""Loading a language's Vosk model for the live path: the static graph when built, plus the
lookahead model the keyword second pass needs.

A model loaded with a static ``HCLG.fst`` (:mod:`asr.static_graph`) decodes with about half the
CPU, but has no runtime grammars: ``KaldiRecognizer(model, rate, grammar)`` would ignore the
grammar. So when the keyword second pass (:mod:`asr.keyword_rescore`) is on, a grammar-only
lookahead model is loaded as well, once per process, for its grammar recognizers only: the
model's ``HCLr.fst`` with an empty ``Gr.fst`` (:mod:`asr.grammar_graph`), since a grammar
recognizer composes ``HCLr.fst`` with its own grammar and never reads the first pass's language
model. Measured with the small English model (RSS of one process, ``/proc/PID/smaps_rollup``):
static-graph model +270 MiB, full lookahead model +124 MiB, grammar-only model +85 MiB.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_monitor.errors import ModelLayoutError
from agent_monitor.settings import AsrSettings, DecoderSettings
from asr.blas import choose_kernels
from asr.decoder_conf import derived_model
from asr.static_graph import find_static_graph, ships_static_graph

log = logging.getLogger(__name__)


def load_vosk_model(
    path: Path,
    decoder: DecoderSettings | None = None,
    static_graph: Path | None = None,
    *,
    grammar_words: Path | None = None,
) -> Any:
    """Load a Vosk model directory (blocking, seconds); Vosk's own logging is silenced.
    ``decoder``: options that replace the model's own (:mod:`asr.decoder_conf`); ``static_graph``:
    a built static graph's directory, loaded instead of the model's lookahead pair;
    ``grammar_words``: a directory with the model's ``words.txt``: load a grammar-only model."""
    import vosk

    vosk.SetLogLevel(-1)
    try:
        with derived_model(path, decoder, static_graph, grammar_words=grammar_words) as load_from:
            return vosk.Model(str(load_from))
    except Exception as exc:  # vosk raises a bare Exception when the model cannot be created
        raise ModelLayoutError(f"{path}: Vosk could not load this model ({exc})") from exc


@dataclass(frozen=True)
class LoadedModel:
    """One language's loaded model(s)."""

    #: what every leg's recognizer decodes with
    decoding: Any
    #: what the keyword second pass builds its grammar recognizers on (a model with runtime
    #: grammars); ``None`` when the second pass is off and ``decoding`` has none
    grammar: Any | None
    #: the built static graph ``decoding`` uses, or ``None`` (the model's own graph)
    static_graph: Path | None


def load_language_model(path: Path, asr: AsrSettings, lang: str) -> LoadedModel:
    """Load the model at ``path`` as ``asr`` says (blocking: seconds; more with a static graph)."""
    choose_kernels(asr.blas_kernels)  # before Vosk's library is loaded: it reads this once
    decoder = asr.decoder.get(lang)
    graph = None
    if asr.static_graph and not ships_static_graph(path):
        graph, why = find_static_graph(path)
        if graph is None:
            log.warning(
                "%s: %s, so speech recognition uses the lookahead graph at about twice the CPU;"
                " build it once with `agent-monitor models build-graph %s`",
                path.name,
                why,
                path,
            )
    decoding = load_vosk_model(path, decoder, graph)
    if graph is None:
        return LoadedModel(decoding, decoding, None)
    grammar = load_vosk_model(path, decoder, grammar_words=graph) if asr.keyword_second_pass else None
    return LoadedModel(decoding, grammar, graph)
