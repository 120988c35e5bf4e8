"""A model directory for grammar recognizers only: the lookahead ``HCLr.fst`` without ``Gr.fst``.

The keyword second pass (:mod:`asr.keyword_rescore`) decodes with a runtime grammar: Vosk builds
each grammar's own small G and composes it with the model's ``HCLr.fst``; the model's
``Gr.fst`` (the first pass's language model, 24 MB on disk, about 39 MiB in memory for the small
English model) is never used by a grammar recognizer. Vosk cannot load ``HCLr.fst`` without a
``Gr.fst`` next to it (it reads both, and takes the word list from ``Gr.fst``), so the derived
directory of the grammar model (:func:`asr.decoder_conf.derived_model`) gets the one-state
empty G written here and the static graph's ``words.txt`` for the word list. A recognizer built
on that model *without* a grammar would decode nothing (an empty language model): the pool only
ever builds grammar recognizers on it.

The file is OpenFst's binary ``vector`` FST of ``standard`` (tropical) arcs: the header (magic
number, type, arc type, version 2, flags, properties, start state, counts) and one state that is
final with weight One and has no arcs.
"""

from __future__ import annotations

import struct
from pathlib import Path

FST_MAGIC = 2125659606
VECTOR_FST_VERSION = 2
GRAMMAR_G = "Gr.fst"


def _string(text: str) -> bytes:
    data = text.encode("ascii")
    return struct.pack("<i", len(data)) + data


def empty_grammar_fst() -> bytes:
    """The bytes of an OpenFst vector FST with one final state and no arcs."""
    header = struct.pack("<i", FST_MAGIC) + _string("vector") + _string("standard")
    header += struct.pack("<ii", VECTOR_FST_VERSION, 0)  # version, flags (no symbol tables)
    header += struct.pack("<Qqqq", 0, 0, 1, 0)  # properties (none claimed), start, states, arcs
    state = struct.pack("<fq", 0.0, 0)  # final weight One (0.0 in the tropical semiring), no arcs
    return header + state


def write_empty_grammar_fst(graph_dir: Path) -> Path:
    """Write the empty G as ``graph_dir/Gr.fst``; returns its path."""
    path = graph_dir / GRAMMAR_G
    path.write_bytes(empty_grammar_fst())
    return path
