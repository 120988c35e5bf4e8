"""The composition root builds the real stages from the settings (installed English model, shipped
rule packs, trained stress model) and refuses a broken rule pack before a server starts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from agent_monitor.compose import build_stages, open_stages, preflight
from agent_monitor.errors import RulePackError
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings


def test_build_stages_wires_every_stage(settings: Settings) -> None:
    stages = build_stages(settings)
    try:
        assert stages.transcribers.can_transcribe("en")
        assert stages.runner is stages.transcribers  # the speech models lend their threads
        assert stages.stress.scored(Leg.DEBTOR) and not stages.stress.scored(Leg.AGENT)
        assert "bastard" in stages.checkers.key_terms("en", Leg.AGENT)
        assert stages.checkers.key_terms("en", Leg.DEBTOR) == ()
        packs = stages.packs.installed()
        assert packs and all(p.ok and p.rules for p in packs)
        bad = stages.packs.lint("pack: x\n")
        # the error says what is wrong; ``file`` names the pack, never a temporary path
        assert not bad.ok and bad.file == "pack.yaml" and bad.error and tempfile.gettempdir() not in bad.error
    finally:
        stages.close()


@pytest.mark.asyncio
async def test_open_stages_prewarms_spare_recognizers(settings: Settings) -> None:
    small = settings.model_copy(update={"asr": settings.asr.model_copy(update={"spare_recognizers": 2})})
    stages = await open_stages(small)
    try:
        transcriber = await stages.transcribers.transcriber(
            "en", Leg.AGENT, t0=0.0, first_utterance=3, keywords=()
        )
        assert await transcriber.feed(bytes(3200)) == []  # 0.1 s of silence: nothing to say
        assert await transcriber.close() == []
        await transcriber.release()
    finally:
        stages.close()


def test_preflight_names_languages_and_refuses_a_broken_pack(settings: Settings, tmp_path: Path) -> None:
    assert preflight(settings).startswith("transcribes en (")
    broken = tmp_path / "broken.yaml"
    broken.write_text("pack: broken\nversion: 1\nrules: [{id: X}]\n", encoding="utf-8")
    with pytest.raises(RulePackError, match=r"broken\.yaml"):
        preflight(
            settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": [broken]})})
        )
