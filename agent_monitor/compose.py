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
  shared :class:`Runner` threads), or with ``server.workers`` > 0 (servers only: :func:`open_stages`)
  :class:`agent_monitor.workers.pool.WorkerPool`, the same in worker processes,
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
import socket

from fastapi import FastAPI

from agent_monitor.model.stages import Runner, Stages, TranscriberFactory
from agent_monitor.settings import Settings
from agent_monitor.workers.pool import WorkerPool, worker_processes
from asr.languages import LanguageModels, describe, find_models
from emotion.live import StressTrackers
from qa_rules.live import LiveRules, PackChecker
from web.app import build_app

log = logging.getLogger(__name__)


def assemble(settings: Settings, models: LanguageModels | WorkerPool, rules: LiveRules) -> Stages:
    """The bundle of loaded stages (the speech models, in this process or in the worker
    processes, also lend their threads as the runner)."""
    speech: TranscriberFactory = models
    runner: Runner = models
    return Stages(
        transcribers=speech,
        checkers=rules,
        stress=StressTrackers(settings),
        packs=PackChecker(settings),
        runner=runner,
    )


def transcribed(models: LanguageModels | WorkerPool) -> frozenset[str]:
    """The call languages ``models`` transcribe (only their rule examples are checked at start)."""
    return frozenset(models.to_dict()["transcribed"])


def build_stages(settings: Settings) -> Stages:
    """Load every stage named by ``settings`` (blocking: seconds). Close with :meth:`Stages.close`."""
    models = LanguageModels.from_settings(settings)
    try:
        rules = LiveRules.from_settings(settings, transcribed(models))
    except BaseException:
        models.close()
        raise
    return assemble(settings, models, rules)


def load_speech(settings: Settings) -> LanguageModels | WorkerPool:
    """The speech models in this process (``server.workers`` 0), or the worker processes that load
    them (blocking: seconds)."""
    workers = worker_processes(settings)
    if workers == 0:
        return LanguageModels.from_settings(settings)
    return WorkerPool.start(settings, workers)


async def open_stages(settings: Settings) -> Stages:
    """The server's stages off the event loop: speech in this process or in ``server.workers``
    worker processes (:mod:`agent_monitor.workers`), their state logged and spares prewarmed.
    A web node (``cluster.role = web``) takes no calls: it loads no speech model."""
    if settings.cluster.role == "web":
        asr = settings.asr.model_copy(update={"models": {}})
        server = settings.server.model_copy(update={"workers": 0})
        settings = settings.model_copy(update={"asr": asr, "server": server})
    models = await asyncio.to_thread(load_speech, settings)
    try:
        missing = models.to_dict()["not_transcribed"]
        (log.warning if missing else log.info)("speech models: %s", models.describe())
        await models.prewarm()
        rules = await asyncio.to_thread(LiveRules.from_settings, settings, transcribed(models))
    except BaseException:
        await asyncio.to_thread(models.close)
        raise
    return assemble(settings, models, rules)


def create_app(
    settings: Settings | None = None, audiosocket_sockets: list[socket.socket] | None = None
) -> FastAPI:
    """The web application with the stages of ``settings`` (default: from the environment), its
    AudioSocket listener on ``audiosocket_sockets`` where they are bound already (``serve``);
    uvicorn can serve ``agent_monitor.compose:create_app`` with ``--factory``."""
    return build_app(settings or Settings(), open_stages, audiosocket_sockets)


def preflight(settings: Settings) -> str:
    """Before a server starts, without loading any speech model: one line naming the call languages
    it will transcribe and those it will only record (and why). Loads the rule packs once, so a
    broken pack fails here with its :class:`~agent_monitor.errors.RulePackError`."""
    found, missing = find_models(settings)
    LiveRules.from_settings(settings, found)
    return describe({lang: settings.asr.models[lang] for lang in found}, missing)
