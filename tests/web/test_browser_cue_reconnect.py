"""The agent's cue in Debian Chromium (Playwright) when its connection drops and comes back, and
across a server restart; with two tabs; on SQLite and PostgreSQL.

A live call is replayed at real time through ``/ws/ingest`` and hung up once a test's checks are
done: an excerpt of the real phone call of the shared data with **synthetic** espeak-ng agent lines
spliced in (the recording notice at the start, a false arrest threat later), recognised by the real
model. The pages are 360 px wide (the panel
sits beside a softphone). Every page's JavaScript errors and console errors fail the test."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import DisclosureState, RequiredDisclosure
from agent_monitor.settings import Settings
from tests.web.browser_support import submit_sign_in, watch_problems
from tests.web.ui_support import live_call
from tests.web.wall_support import Floor, Server, add_user, backends, database, wall_settings

HEARTBEAT_S = 1.0  # a page counts as dead after 2.5 s without a frame
NOTICE = "this phone call may be recorded for quality"
VIOLATION = "you will be arrested by the police"
NARROW = {"width": 360, "height": 780}


@pytest.fixture(params=backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path, base_settings: Settings) -> Iterator[Settings]:
    with database(request.param, tmp_path / "data") as url:
        settings = wall_settings(base_settings, tmp_path / "data", url)
        web = settings.web.model_copy(update={"live_heartbeat_s": HEARTBEAT_S})
        yield settings.model_copy(update={"web": web})


@pytest.fixture()
def servers(settings: Settings) -> Iterator[list[Server]]:
    """The servers a test starts (a restart: a new one on the same port and data); all stopped."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture(scope="module")
def cue_call(eval_data: Path) -> CallAudio:
    real = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    call = real.excerpt(0.0, 14.0)
    call = call.splice(Leg.AGENT, synthetic_speech(NOTICE, 8000), 0.5, NOTICE)
    return call.splice(Leg.AGENT, synthetic_speech(VIOLATION, 8000), 6.0, VIOLATION)


def agent_page(browser: Any, url: str, context: Any = None) -> Any:
    context = context or browser.new_context(locale="en-US", viewport=NARROW)
    page = watch_problems(context.new_page())
    page.goto(url + "/agent")
    if "/login" in page.url:
        submit_sign_in(page, "alice", then=url + "/agent")
    page.wait_for_selector("body[data-ready='1'][data-live='1']", timeout=15_000)
    return page


def stream(server: Server, audio: CallAudio, call_id: str) -> AbstractContextManager[list[Any]]:
    """The call at real time until the ``with`` block ends (:func:`tests.web.ui_support.live_call`);
    the restart test's stream ends with the server stopped under it (an exception in the list)."""
    return live_call(server.url, server.app, audio, {"call_id": call_id, "agent_id": "A-9"})


THREAT = ".warning[data-rule='EN-FALSE-1']"


def test_a_cue_back_online_shows_what_it_missed_once_and_acks_reach_every_tab(
    settings: Settings, servers: list[Server], browser: Any, cue_call: CallAudio
) -> None:
    """Tab 3 is offline while the agent makes the false threat: back online, it shows the warning
    (with the cue), the recording notice said on the checklist and the call's red level. Tab 1's
    acknowledgement shows in tab 2 at once; one made while offline says it was not recorded and can
    be made again. A page opened afterwards shows the threat once, acknowledged (the warning given
    live once per utterance is stored as two hits, at the final transcript's times); so does tab 1
    after a reconnection of its own."""
    server = Server(settings).start()
    servers.append(server)
    add_user(server.services.db, "alice", "agent", agent_id="A-9", team="east")
    tab1 = agent_page(browser, server.url)
    tab2 = agent_page(browser, server.url, tab1.context)
    tab3 = agent_page(browser, server.url)
    with stream(server, cue_call, "cue-r1") as results:  # hung up once these checks are done
        tab3.wait_for_selector("#call-timer", timeout=15_000)
        tab3.context.set_offline(True)
        tab1.wait_for_selector(THREAT, timeout=60_000)
        tab2.wait_for_selector(THREAT, timeout=10_000)
        assert tab3.locator(THREAT).count() == 0
        cues = int(tab3.locator("body").get_attribute("data-cues") or "0")
        tab3.context.set_offline(False)
        tab3.wait_for_selector(THREAT, timeout=20_000)
        assert tab3.locator(THREAT).count() == 1
        assert int(tab3.locator("body").get_attribute("data-cues") or "0") > cues, "missed warning not cued"
        tab3.wait_for_selector("#checklist li[data-rule='EN-DISC-REC-1'][data-state='said']", timeout=5_000)
        assert tab3.locator("#current-call .badge").get_attribute("data-level") == "red"

        # an acknowledgement that cannot reach the server is not shown as made
        tab1.context.set_offline(True)
        tab1.locator(f"{THREAT} button.ack").click()
        tab1.wait_for_selector(f"{THREAT} .ack-msg:not([hidden])", timeout=5_000)
        assert "Not recorded" in tab1.locator(f"{THREAT} .ack-msg").inner_text()
        assert tab1.locator(f"{THREAT} button.ack").is_enabled()
        tab1.context.set_offline(False)
        tab1.wait_for_selector("body[data-live='1']", timeout=20_000)
        tab1.locator(f"{THREAT} button.ack").click()
        tab1.wait_for_selector(f"{THREAT}.acked", timeout=5_000)
        tab2.wait_for_selector(f"{THREAT}.acked", timeout=5_000)  # the other tab knows
        assert tab2.locator(f"{THREAT} button.ack").is_disabled()

        tab4 = agent_page(browser, server.url)
        tab4.wait_for_selector(THREAT, timeout=10_000)
        assert tab4.locator(THREAT).count() == 1, "one warning shown as two after a reload"
        assert tab4.locator(f"{THREAT}.acked").count() == 1, "the acknowledgement is lost on a reload"

        reloads = int(tab1.locator("body").get_attribute("data-reloads") or "0")
        tab1.context.set_offline(True)
        tab1.wait_for_selector("body[data-live='0']", timeout=10_000)
        tab1.context.set_offline(False)
        tab1.wait_for_function(
            f"() => Number(document.body.dataset.reloads || 0) > {reloads}", timeout=20_000
        )
        assert tab1.locator(THREAT).count() == 1, "a warning shown live is shown again after the reload"
        assert tab1.locator(f"{THREAT}.acked").count() == 1
    assert results and getattr(results[0], "completed", False), results
    for page in (tab1, tab2, tab3, tab4):
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        assert page.problems == [], page.problems


def test_a_cue_open_through_a_server_restart_shows_the_call_ended(
    settings: Settings, servers: list[Server], browser: Any, cue_call: CallAudio
) -> None:
    """The server stops mid-call and starts again (the call is marked aborted): the agent's page is
    live again and shows the call aborted, its timer stopped, no disclosure still "due"."""
    server = Server(settings).start()
    servers.append(server)
    add_user(server.services.db, "alice", "agent", agent_id="A-9", team="east")
    page = agent_page(browser, server.url)
    with stream(server, cue_call, "cue-r2"):
        page.wait_for_selector("#checklist li[data-state='due']", timeout=15_000)
        port = server.port
        server.stop()
    page.wait_for_selector("body[data-live='0']", timeout=10_000)
    server = Server(settings, port).start()
    servers.append(server)
    page.wait_for_selector("body[data-live='1']", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#current-call .status').textContent === 'aborted'", timeout=10_000
    )
    assert page.locator("#checklist").is_hidden()
    seconds = page.locator("#call-timer").get_attribute("data-seconds")
    time.sleep(2.5)
    assert page.locator("#call-timer").get_attribute("data-seconds") == seconds, "the timer still runs"
    problems = [p for p in page.problems if "ERR_CONNECTION_REFUSED" not in p]
    assert problems == [], problems


def test_a_cue_reloaded_after_a_reconnection_keeps_what_newer_events_said(
    settings: Settings, servers: list[Server], browser: Any
) -> None:
    """The panel's reload after a reconnection is read while the call is live but reaches the page
    after the call's end did (Playwright holds its answer): the call stays ended, its timer
    stopped, no disclosure shown as still due."""
    server = Server(settings).start()
    servers.append(server)
    add_user(server.services.db, "alice", "agent", agent_id="A-9", team="east")
    floor = Floor(server)
    call = floor.start_live("cue-r3", "A-9", team="east")
    # the checklist as the agent leg's disclosure checker hands it to the session
    notice = RequiredDisclosure("EN-DISC-REC-1", "Recording notice", NOTICE, 30.0, DisclosureState.DUE)
    session = server.services.manager.get(call.call_id)
    server.run(session.on_checklist(Leg.AGENT, (notice,), 1.0))
    page = agent_page(browser, server.url)
    page.wait_for_selector("#checklist li[data-state='due']", timeout=15_000)
    held: list[tuple[Any, Any]] = []  # (route, the panel as it was read then)
    page.route(re.compile(r".*/api/agent/current$"), lambda route: held.append((route, route.fetch())))
    page.context.set_offline(True)
    page.wait_for_selector("body[data-live='0']", timeout=10_000)
    page.context.set_offline(False)
    deadline = time.monotonic() + 20.0
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the panel was not loaded again"

    floor.end_live(call)
    page.wait_for_function(
        "() => document.querySelector('#current-call .status').textContent === 'ended'", timeout=10_000
    )
    reloads = int(page.locator("body").get_attribute("data-reloads") or "0")
    route, stale = held[0]
    route.fulfill(response=stale)
    page.wait_for_function(f"() => Number(document.body.dataset.reloads || 0) > {reloads}", timeout=10_000)
    assert page.locator("#current-call .status").inner_text() == "ended"
    assert page.locator("#checklist").is_hidden()
    seconds = page.locator("#call-timer").get_attribute("data-seconds")
    time.sleep(2.5)
    assert page.locator("#call-timer").get_attribute("data-seconds") == seconds, "the timer still runs"
    assert page.problems == [], page.problems
