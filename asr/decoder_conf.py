"""Decoder and feature options per server without editing the installed model: a derived model
directory.

Vosk takes the Kaldi decoder's options (``--beam``, ``--max-active``, ``--lattice-beam``, ...)
only from the model's ``conf/model.conf`` and the feature extractor's (``--dither``) only from
``conf/mfcc.conf``; its API has no setter. :func:`derived_model` builds a temporary directory whose
entries are symbolic links to the model's own files, except the conf files with an overridden
option: a copy of the model's own with those options replaced. Vosk reads every file while the
model is created, so the directory is removed right after loading; the installed model is never
touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_monitor.errors import ModelLayoutError
from agent_monitor.settings import DecoderSettings

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
def derived_model(path: Path, decoder: DecoderSettings | None) -> Iterator[Path]:
    """The directory to load: ``path`` itself without overrides, else a derived copy (see above)."""
    files = conf_files(decoder) if decoder is not None else {}
    if not files:
        yield path
        return
    texts = {conf: rewrite_conf(_read_conf(path / conf), options) for conf, options in files.items()}
    with tempfile.TemporaryDirectory(prefix="vosk-derived-") as tmp:
        root = Path(tmp)
        for entry in path.resolve().iterdir():
            if entry.name != "conf":
                (root / entry.name).symlink_to(entry)
        (root / "conf").mkdir()
        for entry in (path / "conf").resolve().iterdir():
            if Path("conf") / entry.name not in texts:
                (root / "conf" / entry.name).symlink_to(entry)
        for conf, text in texts.items():
            (root / conf).write_text(text, encoding="utf-8")
        yield root
