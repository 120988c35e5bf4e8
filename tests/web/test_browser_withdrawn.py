"""A warning the final transcript takes back, on the agent's page (Debian Chromium, SQLite).

The abusive-tone classifier judges partial transcripts (``rules.classifier_partial_min_words``), so
an agent can be warned on words the utterance's final does not confirm. The server's events are
published on its live bus by the test (the stored call and its events as the pipeline makes them;
no audio: which partial a recogniser misreads cannot be arranged), and the page must show the
withdrawal: the card stays (the agent may have read it), struck through, marked, nothing to
acknowledge; a confirmed warning beside it is untouched. After a reload the withdrawn one is gone
(``/api/agent/current`` lists the hits that stand).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AgentWarning, RuleHitEvent
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.browser_support import shot, signed_in_page
from tests.web.wall_support import Floor, Server, add_user, wall_settings


@pytest.fixture()
def server(tmp_path: Path, base_settings: Settings) -> Iterator[Server]:
    s = Server(wall_settings(base_settings, tmp_path / "data", None), 0).start()
    yield s
    s.stop()


def hit(rule: str, utterance: int, end: float, evidence: str) -> RuleHit:
    return RuleHit(
        rule=rule,
        title=f"{rule} title",
        category="abusive_tone",
        severity=Severity.ORANGE,
        leg=Leg.AGENT,
        span=(0, len(evidence)),
        evidence=evidence,
        reason="the words so far read as abusive",
        citation="",
        compliant="I understand; let us find a plan that works for you.",
        utterance=utterance,
        start=end - 1.0,
        end=end,
    )


def warned(call_id: str, h: RuleHit) -> AgentWarning:
    return AgentWarning(
        call_id=call_id,
        t=h.end or 0.0,
        agent_id="W-1",
        rule=h.rule,
        title=h.title,
        severity=h.severity.value,
        evidence=h.evidence,
        reason=h.reason,
        compliant=h.compliant,
        hit_status=HitStatus.PROVISIONAL,
    )


def test_withdrawn_warning_is_struck_through_and_not_to_acknowledge(server: Server, browser: Any) -> None:
    add_user(server.services.db, "wanda", "agent", agent_id="W-1")
    page = signed_in_page(browser, server.url, "wanda", "/agent")
    page.wait_for_selector("body[data-live='1']", timeout=10_000)
    call = Floor(server).start("wd-1", "W-1")
    page.wait_for_selector("#call-timer", timeout=10_000)
    kept = hit("EN-ABUSE-MODEL-1", 3, 12.5, "you have got to pay up already")
    taken_back = hit("EN-ABUSE-MODEL-1", 5, 20.25, "you do not lie")
    with server.services.db.session() as s:  # the row the pipeline stores for the confirmed one
        repo.save_rule_hit(s, call.call_id, kept, status=HitStatus.CONFIRMED)
    server.publish(warned(call.call_id, kept), warned(call.call_id, taken_back))
    cards = page.locator(".warning[data-rule='EN-ABUSE-MODEL-1']")
    cards.nth(1).wait_for(timeout=10_000)
    server.publish(
        RuleHitEvent(call_id=call.call_id, t=20.25, status=HitStatus.WITHDRAWN, hit=taken_back),
        RuleHitEvent(call_id=call.call_id, t=12.5, status=HitStatus.CONFIRMED, hit=kept),
    )
    gone = page.locator(".warning[data-withdrawn='1']")
    gone.wait_for(timeout=10_000)
    assert gone.count() == 1
    assert "you do not lie" in gone.locator(".said").inner_text()
    assert "did not confirm" in gone.locator(".withdrawn-note").inner_text()
    assert gone.locator("button.ack").is_disabled()
    assert gone.locator("h2").evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    standing = page.locator(".warning:not([data-withdrawn])")
    assert standing.count() == 1 and "pay up already" in standing.locator(".said").inner_text()
    assert standing.locator("button.ack").is_enabled()
    shot(page, "agent-withdrawn-warning")
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.locator(".warning").first.wait_for(timeout=10_000)
    assert page.locator(".warning").count() == 1 and "pay up" in page.locator(".warning .said").inner_text()
    assert page.errors == [], page.errors
