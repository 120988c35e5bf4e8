"""A cue from the debtor leg on the agent's page (Debian Chromium, SQLite): the person said "wrong
number", and the agent is shown what they said (quoted as theirs, not the agent's) and the wording
to use before naming the debt. The server's events are published on its live bus by the test (the
stored hit and its event as the pipeline makes them; the real-audio path is
``tests/agent_monitor/pipeline/test_wrong_party.py``). After a reload the cue comes back from
``/api/agent/current``, still the debtor's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.browser_support import shot, signed_in_page
from tests.web.wall_support import Floor, Server, add_user, wall_settings

SAY = "\"I'm sorry for the trouble; I'll make sure this number is removed.\" Say nothing about the debt."


@pytest.fixture()
def server(tmp_path: Path, base_settings: Settings) -> Iterator[Server]:
    s = Server(wall_settings(base_settings, tmp_path / "data", None), 0).start()
    yield s
    s.stop()


def test_the_debtor_saying_wrong_number_cues_the_agent_with_their_words(server: Server, browser: Any) -> None:
    add_user(server.services.db, "dora", "agent", agent_id="D-1")
    page = signed_in_page(browser, server.url, "dora", "/agent")
    page.wait_for_selector("body[data-live='1']", timeout=10_000)
    call = Floor(server).start("cue-wp-1", "D-1")
    page.wait_for_selector("#call-timer", timeout=10_000)
    hit = RuleHit(
        rule="EN-WRONG-PARTY-1",
        title="The person who answered says they are not the debtor",
        category="wrong_party",
        severity=Severity.INFO,
        leg=Leg.DEBTOR,
        span=(0, 12),
        evidence="wrong number",
        reason="Nothing about the debt may be said to them.",
        citation="FDCPA 805(b)",
        compliant=SAY,
        utterance=0,
        start=3.0,
        end=3.8,
    )
    with server.services.db.session() as s:  # the row the pipeline stores
        repo.save_rule_hit(s, call.call_id, hit, status=HitStatus.CONFIRMED)
    cue = AgentWarning(
        call_id=call.call_id, t=3.8, agent_id="D-1", rule=hit.rule, title=hit.title,
        severity=hit.severity.value, evidence=hit.evidence, reason=hit.reason, compliant=hit.compliant,
        hit_status=HitStatus.CONFIRMED, citation=hit.citation, leg=Leg.DEBTOR,
    )  # fmt: skip
    server.publish(cue)
    card = page.locator(".warning[data-rule='EN-WRONG-PARTY-1']")
    card.wait_for(timeout=10_000)
    assert card.locator(".said-row").inner_text().startswith("They said: ")
    assert "wrong number" in card.locator(".said").inner_text()
    assert "number is removed" in card.locator(".instead").inner_text()
    assert "info" in (card.get_attribute("class") or "")
    shot(page, "agent-debtor-cue")
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    card.wait_for(timeout=10_000)
    assert card.locator(".said-row").inner_text().startswith("They said: ")
    assert page.errors == [], page.errors
