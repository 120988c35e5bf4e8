"""Trying rule packs on text without installing them (the admin page's "try on text").

``PackTrial(settings).try_text(text, lang, pack_text)`` checks ``text`` (one agent utterance) with
the pack whose YAML is ``pack_text``, or with the packs the server loads (``settings.rules``, loaded
once on first use) when ``pack_text`` is ``None``. A broken pack raises
:class:`~agent_monitor.errors.RulePackError` naming ``pack.yaml``, never a server path."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import RuleHit
from agent_monitor.settings import Settings
from qa_rules.engine import RuleSet, load_rules, load_rules_from_settings

SHOWN_NAME = "pack.yaml"


class PackTrial:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._installed: RuleSet | None = None
        self._lock = threading.Lock()

    def installed(self) -> RuleSet:
        with self._lock:
            if self._installed is None:
                self._installed = load_rules_from_settings(self.settings)
            return self._installed

    def try_text(self, text: str, lang: str, pack_text: str | None = None) -> list[RuleHit]:
        """The hits of ``text`` as said by the agent, in call language ``lang``."""
        if pack_text is None:
            return self.installed().check(text, lang, Leg.AGENT)
        cfg = self.settings.rules
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / SHOWN_NAME
            path.write_text(pack_text, encoding="utf-8")
            try:
                ruleset = load_rules([path], model_dir=cfg.model_dir, must_say_window_s=cfg.must_say_window_s)
            except RulePackError as exc:
                problem = exc.problem.replace(str(path), SHOWN_NAME)
                raise RulePackError(SHOWN_NAME, problem, rule=exc.rule, field=exc.field) from None
        return ruleset.check(text, lang, Leg.AGENT)
