"""What a Vosk model directory must contain, following what ``vosk::Model`` loads.

* ``am/final.mdl`` (nnet3 acoustic model), ``conf/mfcc.conf`` and ``conf/model.conf``.
* a decoding graph: ``graph/HCLG.fst``, or the lookahead pair ``graph/HCLr.fst`` + ``graph/Gr.fst``
  (the latter also needs ``graph/disambig_tid.int``).
* word times need ``graph/phones/word_boundary.int`` (or ``graph/phones/align_lexicon.int``).
* i-vector files (``ivector/final.dubm``, ``final.ie``, ``final.mat``, ``global_cmvn.stats``,
  ``online_cmvn.conf``, ``splice.conf``) when the acoustic model has an ``ivector`` input node,
  ``conf/model.conf`` mentions i-vectors, or an ``ivector/`` directory is present.
* optional parts are checked for completeness when present: ``rescore/`` (G.fst + G.carpa),
  ``rnnlm/`` (final.raw, feat_embedding.final.mat, special_symbol_opts.conf, word_feats.txt).

Every required file must be a non-empty regular file. Problems are returned as short phrases
("am/final.mdl missing", "conf/model.conf is empty") so callers can name them all at once.
"""

from __future__ import annotations

from pathlib import Path

BASE_FILES = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf")
IVECTOR_FILES = (
    "ivector/final.dubm",
    "ivector/final.ie",
    "ivector/final.mat",
    "ivector/global_cmvn.stats",
    "ivector/online_cmvn.conf",
    "ivector/splice.conf",
)
RESCORE_FILES = ("rescore/G.fst", "rescore/G.carpa")
RNNLM_FILES = (
    "rnnlm/final.raw",
    "rnnlm/feat_embedding.final.mat",
    "rnnlm/special_symbol_opts.conf",
    "rnnlm/word_feats.txt",
)
#: scanning final.mdl for its nnet3 config stops here (the config precedes the weights)
_MDL_SCAN_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def check_layout(root: Path, extra_required: tuple[str, ...] = ()) -> list[str]:
    """Problems with the model directory ``root``; an empty list means it is complete."""
    problems: list[str] = []

    def need(rel: str) -> None:
        problem = _file_problem(root / rel, rel)
        if problem:
            problems.append(problem)

    for rel in BASE_FILES:
        need(rel)
    if (root / "graph/HCLG.fst").exists():
        need("graph/HCLG.fst")
    elif (root / "graph/HCLr.fst").exists() or (root / "graph/Gr.fst").exists():
        for rel in ("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int"):
            need(rel)
    else:
        problems.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst) missing")
    if not (root / "graph/phones/align_lexicon.int").exists():
        need("graph/phones/word_boundary.int")
    if needs_ivector(root):
        for rel in IVECTOR_FILES:
            need(rel)
    for group in (RESCORE_FILES, RNNLM_FILES):
        if (root / group[0].split("/")[0]).is_dir():
            for rel in group:
                need(rel)
    for rel in extra_required:
        if rel not in BASE_FILES:
            need(rel)
    return _unique(problems)


def needs_ivector(root: Path) -> bool:
    """Whether the model uses i-vectors (see module docstring)."""
    if (root / "ivector").is_dir():
        return True
    conf = root / "conf/model.conf"
    if conf.is_file():
        try:
            if "ivector" in conf.read_text(encoding="utf-8", errors="replace").lower():
                return True
        except OSError:
            return True
    return _mdl_has_ivector_input(root / "am/final.mdl")


def _mdl_has_ivector_input(mdl: Path) -> bool:
    """True when the nnet3 config inside ``final.mdl`` declares ``input-node name=ivector``."""
    if not mdl.is_file():
        return False
    needle, stop = b"input-node name=ivector", b"<NumComponents>"
    tail = b""
    with mdl.open("rb") as f:
        read = 0
        while read < _MDL_SCAN_LIMIT:
            chunk = f.read(_CHUNK)
            if not chunk:
                return False
            read += len(chunk)
            window = tail + chunk
            if needle in window:
                return True
            if stop in window:
                return False
            tail = window[-64:]
    return False


def _file_problem(path: Path, rel: str) -> str | None:
    if not path.exists():
        return f"{rel} missing"
    if not path.is_file():
        return f"{rel} is not a regular file"
    if path.stat().st_size == 0:
        return f"{rel} is empty (0 bytes)"
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
