"""Decoder options per server without editing the installed model: a derived model directory.

Vosk takes the Kaldi decoder's options (``--beam``, ``--max-active``, ``--lattice-beam``, ...)
only from the model's ``conf/model.conf``; its API has no setter. :func:`derived_model` builds a
temporary directory whose entries are symbolic links to the model's own files, except
``conf/model.conf``: a copy of the model's own with the overridden options replaced. Vosk reads
every file while the model is created, so the directory is removed right after loading; the
installed model is never touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_monitor.errors import ModelLayoutError
from agent_monitor.settings import DecoderSettings

MODEL_CONF = Path("conf") / "model.conf"


def conf_options(decoder: DecoderSettings) -> dict[str, str]:
    """The Kaldi option names and values ``decoder`` overrides (``{"--beam": "8.0"}``)."""
    return {
        f"--{name.replace('_', '-')}": str(value)
        for name, value in decoder.model_dump().items()
        if value is not None
    }


def rewrite_conf(text: str, options: dict[str, str]) -> str:
    """``model.conf`` text with each option of ``options`` set (replaced where present, else added)."""
    lines = []
    for line in text.splitlines():
        name = line.strip().split("=", 1)[0]
        if name not in options:
            lines.append(line)
    lines += [f"{name}={value}" for name, value in options.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def derived_model(path: Path, decoder: DecoderSettings | None) -> Iterator[Path]:
    """The directory to load: ``path`` itself without overrides, else a derived copy (see above)."""
    options = conf_options(decoder) if decoder is not None else {}
    if not options:
        yield path
        return
    try:
        conf = (path / MODEL_CONF).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLayoutError(f"{path / MODEL_CONF}: cannot read the decoder options ({exc})") from exc
    with tempfile.TemporaryDirectory(prefix="vosk-derived-") as tmp:
        root = Path(tmp)
        for entry in path.resolve().iterdir():
            if entry.name != "conf":
                (root / entry.name).symlink_to(entry)
        (root / "conf").mkdir()
        for entry in (path / "conf").resolve().iterdir():
            if entry.name != MODEL_CONF.name:
                (root / "conf" / entry.name).symlink_to(entry)
        (root / MODEL_CONF).write_text(rewrite_conf(conf, options), encoding="utf-8")
        yield root
