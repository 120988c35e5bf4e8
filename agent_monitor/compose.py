"""The composition root: the one place that builds the stages and hands them to the services.

``serve``, ``demo``, ``analyze``, ``live``, ``eval live`` and the tests all get their stages here::

    from agent_monitor.compose import build_stages, open_stages, create_app

    stages = build_stages(settings)             # blocking: loads speech models and rule packs
    stages = await open_stages(settings)        # the same off the event loop, spares prewarmed
    manager = CallManager(settings, stages, db, bus)
    app = create_app(settings)                  # the web app; its lifespan calls open_stages
    stages.close()

The services (``pipeline``, ``ingest``, ``web``) see only the Protocols of
:mod:`agent_monitor.model.stages`; this module alone imports the stage packages:

- speech recognition: :class:`asr.languages.LanguageModels` (:class:`TranscriberFactory`, and the
  shared :class:`Runner` threads),
- rules: :class:`qa_rules.live.LiveRules` (:class:`CheckerFactory`) and
  :class:`qa_rules.live.PackChecker` (:class:`RulePacks`),
- debtor stress: :class:`emotion.live.StressTrackers` (:class:`StressFactory`).

**Adding a stage** is one new module and one line here. Say a sentiment scorer: a module
``sentiment/live.py`` with a class that satisfies a new Protocol ``SentimentFactory`` in
:mod:`agent_monitor.model.stages` (and a field ``sentiment: SentimentFactory`` on :class:`Stages`),
then one line in :func:`assemble`::

    sentiment=SentimentScorers(settings),

The leg worker then asks ``stages.sentiment`` for a per-leg scorer like it asks ``stages.stress``.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from agent_monitor.model.stages import Stages
from agent_monitor.settings import Settings
from asr.languages import LanguageModels, describe, find_models
from emotion.live import StressTrackers
from qa_rules.live import LiveRules, PackChecker
from web.app import build_app

log = logging.getLogger(__name__)


def assemble(settings: Settings, models: LanguageModels, rules: LiveRules) -> Stages:
    """The bundle of loaded stages (the speech models also lend their threads as the runner)."""
    return Stages(
        transcribers=models,
        checkers=rules,
        stress=StressTrackers(settings),
        packs=PackChecker(settings),
        runner=models,
    )


def build_stages(settings: Settings) -> Stages:
    """Load every stage named by ``settings`` (blocking: seconds). Close with :meth:`Stages.close`."""
    models = LanguageModels.from_settings(settings)
    try:
        rules = LiveRules.from_settings(settings)
    except BaseException:
        models.close()
        raise
    return assemble(settings, models, rules)


async def open_stages(settings: Settings) -> Stages:
    """:func:`build_stages` off the event loop, the models' state logged and spares prewarmed.
    A web node (``cluster.role = web``) takes no calls: it loads no speech model."""
    if settings.cluster.role == "web":
        settings = settings.model_copy(update={"asr": settings.asr.model_copy(update={"models": {}})})
    models = await asyncio.to_thread(LanguageModels.from_settings, settings)
    try:
        (log.warning if models.missing else log.info)("speech models: %s", models.describe())
        await models.prewarm()
        rules = await asyncio.to_thread(LiveRules.from_settings, settings)
    except BaseException:
        await asyncio.to_thread(models.close)
        raise
    return assemble(settings, models, rules)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web application with the stages of ``settings`` (default: from the environment);
    uvicorn can serve ``agent_monitor.compose:create_app`` with ``--factory``."""
    return build_app(settings or Settings(), open_stages)


def preflight(settings: Settings) -> str:
    """Before a server starts, without loading any speech model: one line naming the call languages
    it will transcribe and those it will only record (and why). Loads the rule packs once, so a
    broken pack fails here with its :class:`~agent_monitor.errors.RulePackError`."""
    found, missing = find_models(settings)
    LiveRules.from_settings(settings)
    return describe({lang: settings.asr.models[lang] for lang in found}, missing)
