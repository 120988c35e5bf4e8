"""``GET /api/agent/current`` lists what the agent was warned about: hits of the agent's own leg,
findings about the call itself (no leg) and cues of the debtor's words that come with wording for
the agent ("wrong number"), never the debtor's other words nor hits the final transcript withdrew.
The call is stored with real recorded audio (:func:`tests.web.ui_support.add_call`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.settings import Settings
from agent_monitor.storage import WarningLevel, repo
from tests.web.ui_support import add_call, login, ui_server

CALL = "cur-call-1"


def _hit(rule: str, leg: Leg | None, evidence: str, compliant: str | None = "say") -> RuleHit:
    span = (0, len(evidence)) if evidence else None
    return RuleHit(
        rule, rule + " title", "insult", Severity.ORANGE, leg, span, evidence, "why", "cite", compliant
    )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("current")
    with ui_server(base_settings, root) as (url, app):
        db: Any = app.state.services.db
        add_call(db, root / "data", CALL, "A-1", real_call.excerpt(0.0, 6.0), WarningLevel.RED)
        with db.session() as s:
            repo.save_rule_hit(
                s, CALL, _hit("T-DEBTOR-1", Leg.DEBTOR, "you idiot", None), status=HitStatus.CONFIRMED
            )
            cue = replace(_hit("T-CUE-1", Leg.DEBTOR, "wrong number", "say nothing"), severity=Severity.INFO)
            repo.save_rule_hit(s, CALL, cue, status=HitStatus.CONFIRMED)
            repo.save_rule_hit(s, CALL, _hit("T-GONE-1", Leg.AGENT, "stupid"), status=HitStatus.WITHDRAWN)
            repo.save_rule_hit(s, CALL, _hit("T-CALL-1", None, ""), status=HitStatus.CONFIRMED)
        yield url


def test_agent_sees_own_and_call_findings_only(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        login(client, "agent1")
        current = client.get("/api/agent/current").json()
    assert current["call"]["call_id"] == CALL and current["checklist"] == []  # ended: no checklist
    rules = {w["rule"] for w in current["warnings"]}
    assert rules == {"abuse.insult", "T-CALL-1", "T-CUE-1"}
    [cue] = [w for w in current["warnings"] if w["rule"] == "T-CUE-1"]
    assert (cue["leg"], cue["evidence"], cue["compliant"]) == ("debtor", "wrong number", "say nothing")
