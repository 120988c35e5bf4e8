"""One speech model per call language, chosen per call: :class:`LanguageModels`.

``settings.asr.models`` names the model of each language (``{"en": ..., "zh": ...}``). At start
the server loads every one that is installed, once, into a :class:`~asr.streaming.RecognizerPool`
(with its own spare recognizers) and all calls in that language share it. All pools run on one
thread pool, so ``asr.threads`` bounds the blocking Vosk calls of the whole process whatever the
number of languages.

A language whose model is not installed (or is damaged) is *missing*: :meth:`LanguageModels.pool`
returns ``None`` for it and :meth:`LanguageModels.missing` says why, so a call in that language is
recorded but not transcribed, and people are told (never a transcript by another language's model).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from agent_monitor.errors import ModelError, ModelLayoutError, ModelNotInstalledError
from agent_monitor.lanes import LaneExecutor, LaneStats
from agent_monitor.model.audio import Leg
from agent_monitor.model.stages import MissingModel, model_name
from agent_monitor.settings import Settings
from asr.model_loading import load_language_model
from asr.model_path import resolve_model_path
from asr.streaming import LegTranscriber, RecognizerPool

T = TypeVar("T")
log = logging.getLogger(__name__)


def find_models(settings: Settings) -> tuple[dict[str, str], dict[str, MissingModel]]:
    """Without loading anything: which configured languages have an installed, complete model
    (language -> model directory), and which do not (with the reason)."""
    found: dict[str, str] = {}
    missing: dict[str, MissingModel] = {}
    for lang, name in settings.asr.models.items():
        try:
            found[lang] = str(resolve_model_path(settings, name))
        except ModelError as exc:
            missing[lang] = missing_model(lang, name, exc)
    return found, missing


def missing_model(lang: str, model: str, exc: ModelError) -> MissingModel:
    """``lang`` cannot be transcribed because of ``exc``: the whole reason for the server's log and
    start-up line, and one without paths for the public languages answer."""
    name = model_name(model)
    if isinstance(exc, ModelNotInstalledError):
        public = f"model {name} is not installed on this server"
    elif isinstance(exc, ModelLayoutError):
        public = f"model {name} is incomplete or damaged on this server"
    else:
        public = f"model {name} could not be loaded on this server"
    return MissingModel(lang, model, str(exc), public)


def describe(models: Mapping[str, str], missing: Mapping[str, MissingModel]) -> str:
    """One line: the languages transcribed (with their model) and those recorded only (and why)."""
    can = ", ".join(f"{lang} ({name})" for lang, name in sorted(models.items())) or "nothing"
    line = f"transcribes {can}"
    if missing:
        cannot = "; ".join(f"{lang}: {m.message} ({m.reason})" for lang, m in sorted(missing.items()))
        line += f"; calls in other languages are recorded only: {cannot}"
    return line


class LanguageModels:
    """The recognizer pool of each installed call language, on one shared thread pool.

    It is the process's :class:`~agent_monitor.model.stages.TranscriberFactory` (one
    :class:`~asr.streaming.LegTranscriber` per leg) and its :class:`~agent_monitor.model.stages.Runner`
    (the shared threads also run the rules and the stress tracker)."""

    def __init__(
        self,
        pools: Mapping[str, RecognizerPool],
        missing: Mapping[str, MissingModel],
        executor: LaneExecutor,
        models: Mapping[str, str] | None = None,
        *,
        settings: Settings,
    ) -> None:
        """``settings``: what each leg's transcriber is built with."""
        self.settings = settings
        self._pools = dict(pools)
        self._missing = dict(missing)
        self._executor = executor
        #: language -> configured model name (or directory)
        self.models = dict(models or {})

    @classmethod
    def from_settings(cls, settings: Settings) -> LanguageModels:
        """Load each language's model named in ``settings.asr.models`` (blocking: seconds each)."""
        asr = settings.asr
        workers = asr.threads or os.cpu_count() or 1
        executor = LaneExecutor(workers, "vosk")
        paths, missing = find_models(settings)
        pools: dict[str, RecognizerPool] = {}
        try:
            for lang, path in paths.items():
                try:
                    loaded = load_language_model(Path(path), asr, lang)
                except ModelError as exc:
                    missing[lang] = missing_model(lang, asr.models[lang], exc)
                    continue
                pools[lang] = RecognizerPool(
                    loaded.decoding,
                    lang=lang,
                    workers=workers,
                    sample_rate=asr.sample_rate,
                    max_spares=asr.spare_recognizers,
                    warmup_s=asr.warmup_s,
                    executor=executor,
                    grammar_model=loaded.grammar,
                    static_graph=loaded.static_graph,
                )
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return cls(pools, missing, executor, models=asr.models, settings=settings)

    @property
    def languages(self) -> list[str]:
        """The languages this process transcribes."""
        return sorted(self._pools)

    @property
    def missing(self) -> dict[str, MissingModel]:
        """The configured languages it cannot transcribe, and why."""
        return dict(self._missing)

    def pool(self, lang: str) -> RecognizerPool | None:
        """The shared pool of ``lang``'s model, or ``None`` when it is not installed."""
        return self._pools.get(lang)

    def can_transcribe(self, lang: str) -> bool:
        return lang in self._pools

    async def transcriber(
        self, lang: str, leg: Leg, *, t0: float, first_utterance: int, keywords: Sequence[str]
    ) -> LegTranscriber:
        """VAD + Vosk for one leg of a call in ``lang``, on a spare recognizer of its pool."""
        pool = self._pools.get(lang)
        if pool is None:
            raise ModelError(f"{self.missing_model(lang).message} ({self.missing_model(lang).reason})")
        spare = await pool.take_recognizer()
        transcriber = LegTranscriber(pool, self.settings, leg, t0=t0, spare=spare, keywords=keywords)
        transcriber.recognizer.utterance = first_utterance
        return transcriber

    def missing_model(self, lang: str) -> MissingModel:
        """Why ``lang`` is not transcribed (also for a language with no model configured at all)."""
        return self._missing.get(lang) or MissingModel(lang, "", f"no model configured for {lang}")

    def describe(self) -> str:
        """One line for the server's start-up: what it transcribes and what it cannot."""
        return describe({lang: self.models.get(lang, "?") for lang in self._pools}, self._missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transcribed": {lang: model_name(self.models.get(lang, "")) for lang in self.languages},
            "not_transcribed": {lang: m.to_public_dict() for lang, m in sorted(self._missing.items())},
        }

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (rules) on the shared threads, in the urgent lane."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run_deferred(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (stress) on the shared threads when no urgent job waits."""
        return await asyncio.wrap_future(self._executor.submit_deferred(fn, *args))

    def lane_stats(self) -> tuple[LaneStats, ...]:
        return self._executor.stats()

    async def prewarm(self) -> None:
        """Build each pool's spare recognizers."""
        for pool in self._pools.values():
            await pool.prewarm()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
