"""The agent's cue in Debian Chromium (Playwright), on SQLite and PostgreSQL: a live call replayed
at real time through ``/ws/ingest`` and hung up once the checks made during the call are done (an
excerpt of the real phone call of the shared data with **synthetic** espeak-ng agent lines spliced
in: the recording notice at the start, a false arrest threat later), the must-say window shortened
to 8 s so the other disclosures fall due during the call. The call's debtor time zone is one where
it is the middle of the night now, so the calling-hours rule fires.

Checked on a 360 px wide page (beside a softphone): time in call, the live checklist (said / due /
missed, with the wording), the warning's texts (nothing quoted for a miss or for calling hours,
"Why" is not the title), sound + title flash + desktop notification after the one-time button, no
horizontal scrolling, and the same texts in the QA record. Screenshots: ``artifacts/screens/cue/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.browser_support import signed_in_page
from tests.web.ui_support import live_call, login

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens" / "cue"
NOTICE = "this phone call may be recorded for quality"
VIOLATION = "you will be arrested by the police"
CALL = "cue-98628310"  # an id with a run of digits: never masked as a phone number
WINDOW_S = 8.0
NARROW = {"width": 360, "height": 780}


def screen(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def night_zone(now: datetime) -> str:
    """A fixed-offset zone where it is 02:00-04:59 now (outside every calling window)."""
    for offset in range(-12, 15):
        if 2 <= (now + timedelta(hours=offset)).hour < 5:
            # POSIX sign: Etc/GMT-9 is nine hours ahead of UTC
            return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}" if offset else "Etc/UTC"
    raise AssertionError("no night zone")  # pragma: no cover - 27 offsets cover every hour


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, base_settings: Settings
) -> Iterator[tuple[str, Any, str]]:
    rules = base_settings.rules.model_copy(update={"must_say_window_s": WINDOW_S})
    settings = base_settings.model_copy(update={"rules": rules})
    with ui_server_on(request.param, settings, tmp_path_factory.mktemp("cue")) as (url, app):
        yield url, app, request.param


@pytest.fixture(scope="module")
def cue_call(eval_data: Path) -> CallAudio:
    real = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    call = real.excerpt(0.0, 14.0)
    call = call.splice(Leg.AGENT, synthetic_speech(NOTICE, 8000), 0.5, NOTICE)
    return call.splice(Leg.AGENT, synthetic_speech(VIOLATION, 8000), 6.0, VIOLATION)


def test_agent_cue_at_360px_checklist_warning_texts_and_alerts(
    server: tuple[str, Any, str], browser: Any, cue_call: CallAudio
) -> None:
    url, app, backend = server
    agent = signed_in_page(browser, url, "agent1", "/agent")
    agent.set_viewport_size(NARROW)
    agent.context.grant_permissions(["notifications"], origin=url)
    agent.reload()
    agent.wait_for_selector("body[data-live='1']", timeout=10_000)
    # one click turns the alerts on: sound (autoplay needs a gesture) and desktop notifications
    button = agent.locator("#enable-alerts")
    assert button.is_visible()
    button.click()
    assert button.is_hidden() and agent.locator("body").get_attribute("data-notify") == "granted"

    start = {"call_id": CALL, "agent_id": "A-1", "debtor_tz": night_zone(datetime.now(UTC))}
    with live_call(url, app, cue_call, start) as results:  # hung up once these checks are done
        agent.wait_for_selector("#call-timer", timeout=15_000)
        agent.wait_for_selector("#checklist li[data-state]", timeout=15_000)
        items = agent.locator("#checklist li")
        assert items.count() == 3
        assert agent.locator("#checklist li[data-state='due'] .wording").count() >= 2  # the words to use
        screen(agent, f"agent-cue-start-{backend}")
        agent.wait_for_selector("#checklist li[data-rule='EN-DISC-REC-1'][data-state='said']", timeout=60_000)
        # each line is the rule's short label and its state, never a title that reads as done
        rec = agent.locator("#checklist li[data-rule='EN-DISC-REC-1']")
        assert rec.locator(".what").inner_text() == "Recording notice"
        assert rec.locator(".state").inner_text() == "said"
        # the calling-hours finding reaches the agent live too: nothing quoted, no call id
        hours = agent.locator(".warning[data-rule='US-TIME-1']")
        hours.wait_for(timeout=10_000)
        assert hours.locator(".said").count() == 0 and CALL not in hours.inner_text()
        # a page opened mid-call (here in Chinese) gets the checklist from /api/agent/current
        zh = signed_in_page(browser, url, "agent1", "/agent", locale="zh-CN")
        zh.set_viewport_size(NARROW)
        zh.wait_for_selector("#checklist li[data-rule='EN-DISC-REC-1'][data-state='said']", timeout=10_000)
        assert zh.locator("#checklist h2").inner_text() == "必须告知的事项"
        assert "通话时长" in zh.locator("#current-call").inner_text()
        assert zh.locator("#checklist li[data-state='said'] .state").inner_text() == "已说"
        screen(zh, f"agent-cue-zh-{backend}")
        zh.context.close()
        # the false threat: a warning with what was said, and the cue (sound, title, notification)
        threat = agent.locator(".warning[data-rule='EN-FALSE-1']")
        threat.wait_for(timeout=60_000)
        assert "arrest" in threat.locator(".said").inner_text()
        agent.wait_for_function("() => Number(document.body.dataset.notified || 0) >= 1", timeout=5_000)
        assert agent.title().startswith("⚠")
        # a key press on the page (the agent is looking) ends the title flash
        after_key = "() => { document.dispatchEvent(new KeyboardEvent('keydown')); return document.title; }"
        assert agent.evaluate(after_key) == "Agent Monitor"
        assert int(agent.locator("body").get_attribute("data-cues") or "0") >= 1
        screen(agent, f"agent-cue-360-{backend}")
        # after the window: the missed disclosures, as misses, quoting nothing
        agent.wait_for_selector(
            "#checklist li[data-rule='EN-DISC-MM-1'][data-state='missed']", timeout=60_000
        )
        missed = agent.locator(".warning[data-rule='EN-DISC-MM-1']")
        missed.wait_for(timeout=10_000)
        title = missed.locator("h2").inner_text()
        assert title == f"Mini-Miranda not given in the first {WINDOW_S:g} s"
        assert missed.locator(".said").count() == 0
        why = missed.locator(".why").inner_text()
        assert title not in why and "debt collector" in why and "1692e(11)" in why
        # the timer counts whole seconds on this browser's clock from when call_started reached it,
        # so it may trail the call clock (which passed the window) by up to a second
        assert int(agent.locator("#call-timer").get_attribute("data-seconds") or "0") >= int(WINDOW_S) - 1
        mm = agent.locator("#checklist li[data-rule='EN-DISC-MM-1']")
        assert mm.locator(".what").inner_text() == "Mini-Miranda"
        assert mm.locator(".state").inner_text() == "missed"
        screen(agent, f"agent-cue-missed-{backend}")
    assert results and getattr(results[0], "completed", False), results
    # no horizontal scrolling at 360 px
    assert agent.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"]

    # after a reload (from the stored hits): the calling-hours finding quotes nothing, names no id
    agent.reload()
    agent.wait_for_selector("body[data-ready='1']", timeout=10_000)
    hours = agent.locator(".warning[data-rule='US-TIME-1']")
    hours.wait_for(timeout=10_000)
    assert hours.locator(".said").count() == 0
    assert "calls are allowed only" in hours.locator(".why").inner_text()
    text = agent.locator("main").inner_text()
    assert CALL in text and "[PHONE" not in text
    screen(agent, f"agent-cue-after-reload-{backend}")
    assert agent.errors == [], agent.errors

    # the same texts reach QA (and supervisors: the alert reasons are built from the hit titles)
    with httpx.Client(base_url=url) as client:
        login(client, "qa1")
        record = client.get(f"/api/calls/{CALL}").json()
    hits = {h["rule"]: h for h in record["hits"]}
    assert hits["EN-DISC-MM-1"]["evidence"] == "" and hits["EN-DISC-MM-1"]["title"] == title
    assert hits["US-TIME-1"]["evidence"] == "" and CALL not in hits["US-TIME-1"]["reason"]
    assert hits["EN-FALSE-1"]["title"] not in hits["EN-FALSE-1"]["reason"]
    reasons = [r["text"] for a in record["alerts"] for r in a["reasons"]]
    assert not any("given early" in r for r in reasons), reasons


def test_alerts_button_asks_for_the_notification_permission_once(
    server: tuple[str, Any, str], browser: Any
) -> None:
    """Without a decision yet the panel offers "Turn on alerts"; the click asks the browser (here
    Playwright answers with a grant), then the button goes and the panel says alerts are on."""
    url, _, backend = server
    agent = signed_in_page(browser, url, "agent1", "/agent")
    agent.set_viewport_size(NARROW)
    agent.wait_for_selector("body[data-ready='1']", timeout=10_000)
    body = agent.locator("body")
    assert body.get_attribute("data-notify") == "default"
    button = agent.locator("#enable-alerts")
    assert button.inner_text() == "Turn on alerts"
    assert "desktop notification" in agent.locator("#alerts-note").inner_text()
    screen(agent, f"agent-cue-alerts-off-{backend}")
    agent.context.grant_permissions(["notifications"], origin=url)
    button.click()
    agent.wait_for_selector("body[data-notify='granted']", timeout=5_000)
    assert button.is_hidden() and agent.locator("#alerts-note").inner_text() == "Desktop alerts are on."
    assert agent.errors == [], agent.errors
