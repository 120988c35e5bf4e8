"""Browser test of signal health: Debian's Chromium driven by Playwright while a call whose agent
leg carries nothing (a dead headset: digital silence) is replayed live through ``/ws/ingest`` (at
real time, hung up once the checks made during the call are done); the debtor leg is the real phone
call of the shared data.

The supervisor's tile and the agent's panel show "agent leg silent for 5 s" while the call runs;
the review page lists it after the call. Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.settings import Settings
from tests.web.browser_support import shot, signed_in_page
from tests.web.ui_support import live_call, ui_server

CALL = "health-call-1"
MESSAGE = "agent leg silent for 5 s"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, eval_data: Path
) -> Iterator[tuple[str, Any]]:
    health = base_settings.health.model_copy(update={"silent_s": 5.0})
    settings = base_settings.model_copy(update={"health": health})
    with ui_server(settings, tmp_path_factory.mktemp("browser-health")) as running:
        yield running


def test_silent_agent_leg_shows_on_the_tile_the_agent_panel_and_in_review(
    server: tuple[str, Any], browser: Any, eval_data: Path
) -> None:
    url, app = server
    real: CallAudio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    excerpt = real.excerpt(0.0, 12.0)
    call = CallAudio(excerpt.sample_rate, np.zeros_like(excerpt.agent), excerpt.debtor, "dead agent headset")

    supervisor = signed_in_page(browser, url, "sup1", "/supervisor")
    agent = signed_in_page(browser, url, "agent1", "/agent")
    for page in (supervisor, agent):
        page.wait_for_selector("body[data-live='1']", timeout=10_000)
    # the call at real time, hung up once the checks made during it are done
    with live_call(url, app, call, {"call_id": CALL, "agent_id": "A-1"}) as results:
        # on the wall, once per leg: the leg's chip names the issue, the sentence is its tooltip
        chip = f".tile[data-call='{CALL}'] .legh[data-leg='agent'][data-issues~='silent']"
        supervisor.wait_for_selector(chip, timeout=30_000)
        assert supervisor.locator(chip).inner_text() == "Agent: ⚠ silent leg"
        assert supervisor.locator(chip).get_attribute("title") == MESSAGE
        assert supervisor.locator(f".tile[data-call='{CALL}'] .hbadge").count() == 0
        assert supervisor.locator(f".tile[data-call='{CALL}']").inner_text().count("silent") == 1
        shot(supervisor, "supervisor-health-badge")
        own = ".health .hbadge[data-leg='agent'][data-issue='silent']"
        agent.wait_for_selector(own, timeout=30_000)
        assert MESSAGE in agent.locator(own).inner_text()
        shot(agent, "agent-health-badge")
    assert results and getattr(results[0], "completed", False), results

    # after the call: the review page lists the health event
    supervisor.goto(f"{url}/qa/calls/{CALL}")
    supervisor.wait_for_selector("body[data-ready='1']", timeout=15_000)
    row = supervisor.locator("#signal-health .health-row[data-issue='silent'][data-leg='agent']")
    assert row.count() >= 1 and MESSAGE in row.first.inner_text()
    shot(supervisor, "review-health")
    for page in (supervisor, agent):
        assert page.errors == [], page.errors
