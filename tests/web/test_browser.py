"""Browser tests: Debian's Chromium driven by Playwright through the three pages while a call is
replayed live (an excerpt of the real phone call of the shared data with a scripted agent insult
rendered by espeak-ng, **synthetic** speech, streamed through ``/ws/ingest`` at real time and hung
up once the checks made during the call are done).

Screenshots are saved to ``artifacts/screenshots/`` (git-ignored; CI keeps them as artefacts)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from tests.web.browser_support import shot, signed_in_page
from tests.web.ui_support import live_call, ui_server

VIOLATION = "you are a stupid idiot. we will break your legs"
CALL = "browser-call-1"


def _rgb(hex_colour: str) -> str:
    """``#rrggbb`` as the browser reports a computed colour: ``rgb(r, g, b)``."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, eval_data: Path
) -> Iterator[tuple[str, Any]]:
    with ui_server(base_settings, tmp_path_factory.mktemp("browser")) as running:
        yield running


def test_replayed_call_through_supervisor_agent_and_qa_pages(
    server: tuple[str, Any], browser: Any, eval_data: Path
) -> None:
    url, app = server
    real: CallAudio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    call = real.excerpt(0.0, 18.0).splice(Leg.AGENT, synthetic_speech(VIOLATION, 8000), 5.0, VIOLATION)

    supervisor = signed_in_page(browser, url, "sup1", "/supervisor")
    agent = signed_in_page(browser, url, "agent1", "/agent", locale="zh-CN")
    for page in (supervisor, agent):
        page.wait_for_selector("body[data-live='1']", timeout=10_000)

    # the call at real time, hung up once the checks made during it are done
    with live_call(url, app, call, {"call_id": CALL, "agent_id": "A-1"}) as results:
        # supervisor: the call's tile, both legs' live transcript, the alert in the feed
        tile = f".tile[data-call='{CALL}']"
        supervisor.wait_for_selector(tile, timeout=15_000)
        supervisor.wait_for_selector(f"{tile} .line.final", timeout=20_000)
        # listen-in: the call's audio relayed to the browser and scheduled for playback
        supervisor.locator(f"{tile} button.listen").click()
        supervisor.wait_for_function(
            "() => Number(document.body.dataset.listenFrames || 0) >= 4", timeout=15_000
        )
        supervisor.locator(f"{tile} button.listen").click()
        supervisor.wait_for_selector(".alert[data-alert]", timeout=30_000)
        # a red call is handed to the supervisor: a pop-up (and a beep)
        supervisor.wait_for_selector(".popup[id^='handoff-']", timeout=30_000)
        assert supervisor.locator(f"{tile}").get_attribute("class") != "tile level-none"
        # the level colours come from the vocabulary the page carries (web/ui/vocab.py)
        badge = supervisor.locator(".alert[data-alert] .badge").first
        colours = supervisor.evaluate("() => AM.vocab.level_colours")
        shown = badge.evaluate("n => getComputedStyle(n).backgroundColor")
        assert shown == _rgb(colours[badge.get_attribute("data-level")]), (shown, colours)
        shot(supervisor, "supervisor-wall")
        # the supervisor acknowledges the alert while the call runs (an ended call's buttons are off)
        supervisor.locator(".alert[data-alert] button.acknowledge").first.click()
        supervisor.wait_for_selector(".alert[data-state='acknowledged']", timeout=10_000)
        # the newest alert (top of the feed) is the red one: its hand-off pop-up goes once it is in hand
        supervisor.wait_for_selector(".popup", state="detached", timeout=10_000)
        # agent (Chinese interface): the warning with what was said, why, and what to say instead
        agent.wait_for_selector(".warning", timeout=30_000)
        card = agent.locator(".warning").first
        said = card.locator(".said").inner_text()
        assert any(w in said for w in ("idiot", "stupid", "break")), said
        assert card.locator(".instead").count() == 1
        assert agent.locator("[data-i18n='my_call']").inner_text() == "我当前的通话"
        shot(agent, "agent-panel")
        card.locator("button.ack").click()
        agent.wait_for_selector(".warning.acked")
    assert results and getattr(results[0], "completed", False), results
    supervisor.wait_for_selector(f"{tile}.ended", timeout=30_000)
    shot(supervisor, "supervisor-after-call")

    # QA: the flagged call in the queue, then its review page with the transcript in sync
    qa = signed_in_page(browser, url, "qa1", "/qa")
    row = qa.locator(f"tr[data-call='{CALL}']")
    row.wait_for(timeout=15_000)
    shot(qa, "qa-queue")
    row.locator("a.open").click()
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert qa.locator("audio").count() == 2 and qa.locator("#timeline .marker").count() >= 1
    # a word of the violation, as the recogniser heard it (live, its segmentation depends on timing)
    word = qa.locator("#transcript .word").filter(has_text=re.compile("idiot|stupid|break|legs")).first
    start = float(word.get_attribute("data-start") or "nan")
    word.click()
    qa.wait_for_function("() => document.querySelector('.word.now') !== null", timeout=10_000)
    position = qa.evaluate("() => document.querySelector('audio[data-leg=agent]').currentTime")
    assert start - 0.01 <= position < start + 3.0, (start, position)
    qa.locator("#alerts input[value=confirmed]").first.check()
    for item in qa.locator("#scorecard select.score").all():  # every item starts "not scored"
        item.select_option("2")
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('Saved')", timeout=10_000)
    shot(qa, "qa-review")
    with qa.expect_download() as download:
        qa.click("#export")
    assert download.value.suggested_filename == f"evidence-{CALL}.zip"

    admin = signed_in_page(browser, url, "admin1", "/admin")
    admin.wait_for_selector("#users tr[data-user='agent1']", timeout=10_000)
    admin.wait_for_selector("#packs .pack", timeout=20_000)
    shot(admin, "admin")
    for page in (supervisor, agent, qa, admin):
        assert page.errors == [], page.errors
