"""What the settings sections share: where the repository is, and the languages a call can be in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The tracked manifest of known speech models (name, source, size, sha256).
MODEL_MANIFEST = REPO_ROOT / "models" / "manifest.toml"

#: the languages a call can be in (a call's ``lang``; rule packs and the UI follow it)
CALL_LANGUAGES: tuple[str, ...] = ("en", "zh")
CallLanguage = Literal["en", "zh"]


class Section(BaseModel):
    """Base of every settings section: a number must be finite (``inf`` from the environment was
    taken, then a traceback where it became a count, e.g. ``live.leg_queue_s``), and a key the
    section does not have is refused, naming it (a misspelt ``live.outbox.spil_after_s`` was
    ignored without a word, from a file or the environment)."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")
