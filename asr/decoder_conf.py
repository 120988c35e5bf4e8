"""Decoder and feature options per server without editing the installed model: a derived model
directory.

Vosk takes the Kaldi decoder's options (``--beam``, ``--max-active``, ``--lattice-beam``, ...)
only from the model's ``conf/model.conf`` and the feature extractor's (``--dither``) only from
``conf/mfcc.conf``; its API has no setter. :func:`derived_model` builds a temporary directory whose
entries are symbolic links to the model's own files, except the conf files with an overridden
option: a copy of the model's own with those options replaced. Vosk reads every file while the
model is created, so the directory is removed right after loading; the installed model is never
touched. The same directory swaps in a built static graph (:mod:`asr.static_graph`), or makes a
grammar-only model (:mod:`asr.grammar_graph`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_monitor.errors import ModelLayoutError
from agent_monitor.settings import DecoderSettings
from asr.grammar_graph import GRAMMAR_G, write_empty_grammar_fst
from asr.static_graph import HCLG, LOOKAHEAD_FILES, WORDS

MODEL_CONF = Path("conf") / "model.conf"
MFCC_CONF = Path("conf") / "mfcc.conf"
#: the :class:`DecoderSettings` fields that are MFCC options; every other one is a decoder option
MFCC_FIELDS = frozenset({"dither"})


def conf_files(decoder: DecoderSettings) -> dict[Path, dict[str, str]]:
    """The Kaldi option names and values ``decoder`` overrides, per conf file of the model
    (``{MODEL_CONF: {"--beam": "8.0"}, MFCC_CONF: {"--dither": "0.0"}}``; a file without an
    overridden option is left out)."""
    files: dict[Path, dict[str, str]] = {}
    for name, value in decoder.model_dump().items():
        if value is not None:
            conf = MFCC_CONF if name in MFCC_FIELDS else MODEL_CONF
            files.setdefault(conf, {})[f"--{name.replace('_', '-')}"] = str(value)
    return files


def conf_options(decoder: DecoderSettings) -> dict[str, str]:
    """The decoder options (``conf/model.conf``) ``decoder`` overrides (``{"--beam": "8.0"}``)."""
    return conf_files(decoder).get(MODEL_CONF, {})


def rewrite_conf(text: str, options: dict[str, str]) -> str:
    """``model.conf`` text with each option of ``options`` set (replaced where present, else added)."""
    lines = []
    for line in text.splitlines():
        name = line.strip().split("=", 1)[0]
        if name not in options:
            lines.append(line)
    lines += [f"{name}={value}" for name, value in options.items()]
    return "\n".join(lines) + "\n"


def _read_conf(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLayoutError(f"{path}: cannot read the options to override ({exc})") from exc


@contextmanager
def derived_model(
    path: Path,
    decoder: DecoderSettings | None,
    static_graph: Path | None = None,
    *,
    grammar_words: Path | None = None,
) -> Iterator[Path]:
    """The directory to load: ``path`` itself without overrides, else a derived copy (see above).
    ``static_graph``: a directory with ``HCLG.fst`` + ``words.txt`` (:mod:`asr.static_graph`) that
    replace the model's lookahead pair: the derived ``graph/`` links those two and the model's
    other graph files, never ``HCLr.fst``/``Gr.fst``, so Vosk can only load the static graph.
    ``grammar_words``: instead, a directory with ``words.txt`` for a grammar-only model: the
    derived ``graph/`` keeps ``HCLr.fst`` and gets an empty ``Gr.fst`` (:mod:`asr.grammar_graph`)."""
    if static_graph is not None and grammar_words is not None:
        raise ValueError("a static graph or a grammar-only model, not both")
    files = conf_files(decoder) if decoder is not None else {}
    if not files and static_graph is None and grammar_words is None:
        yield path
        return
    texts = {conf: rewrite_conf(_read_conf(path / conf), options) for conf, options in files.items()}
    with tempfile.TemporaryDirectory(prefix="vosk-derived-") as tmp:
        root = Path(tmp)
        replaced = {"conf"} if texts else set()
        replaced |= {"graph"} if static_graph is not None or grammar_words is not None else set()
        _link_entries(path.resolve(), root, skip=replaced)
        if texts:
            _link_entries((path / "conf").resolve(), root / "conf", skip={p.name for p in texts})
            for conf, text in texts.items():
                (root / conf).write_text(text, encoding="utf-8")
        if static_graph is not None:
            _link_entries((path / "graph").resolve(), root / "graph", skip={*LOOKAHEAD_FILES, HCLG, WORDS})
            for name in (HCLG, WORDS):
                (root / "graph" / name).symlink_to((static_graph / name).resolve())
        if grammar_words is not None:
            _link_entries((path / "graph").resolve(), root / "graph", skip={GRAMMAR_G, HCLG, WORDS})
            (root / "graph" / WORDS).symlink_to((grammar_words / WORDS).resolve())
            write_empty_grammar_fst(root / "graph")
        yield root


def _link_entries(source: Path, target: Path, skip: set[str]) -> None:
    """``target`` (made if missing) gets a symbolic link to each entry of ``source`` not in ``skip``."""
    target.mkdir(exist_ok=True)
    for entry in source.iterdir():
        if entry.name not in skip:
            (target / entry.name).symlink_to(entry)
