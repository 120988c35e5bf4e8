"""The QA review page by keyboard only (Debian Chromium, SQLite and PostgreSQL): transcript words,
timeline alert markers and rule hits are reached with Tab and operated with Enter or Space (they seek
both legs' audio like a click). The call is stored with the real recorded audio of the shared data
and a scripted transcript (:func:`tests.web.ui_support.add_call`). Screenshot:
``artifacts/screens/cue/qa-keyboard-*.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.storage import WarningLevel
from tests.web.backend_support import seeded_server
from tests.web.browser_support import signed_in_page
from tests.web.test_browser_cue import screen
from tests.web.ui_support import add_call

CALL = "kbd-call-1"
#: how many Tab presses may be needed to pass everything on the page once
MAX_TABS = 120
AGENT_AUDIO = "document.querySelector('audio[data-leg=agent]')"


def _store(db: Any, data_dir: Path, clip: CallAudio) -> None:
    add_call(db, data_dir, CALL, "A-1", clip, WarningLevel.RED)


server = seeded_server("kbd", _store, 12.0)


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const n = document.activeElement; const c = n.getAttribute('class') || '';
           return { cls: c, start: n.dataset.start ?? null, alert: n.dataset.alert ?? null,
                    role: n.getAttribute('role'), label: n.getAttribute('aria-label') }; }"""
    )


def _tab_to(page: Any, wanted: str) -> dict[str, Any]:
    """Press Tab until an element of class ``wanted`` has the focus; its description."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        info = _focused(page)
        if wanted in info["cls"].split():
            return info
    raise AssertionError(f"no .{wanted} reached with {MAX_TABS} Tab presses")


def _position(page: Any) -> float:
    return float(page.evaluate("() => document.querySelector('audio[data-leg=agent]').currentTime"))


def test_words_markers_and_hits_by_keyboard(server: tuple[str, str], browser: Any) -> None:
    url, backend = server
    qa = signed_in_page(browser, url, "qa1", f"/qa/calls/{CALL}")
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    qa.wait_for_function(f"() => {AGENT_AUDIO}.readyState >= 1", timeout=15_000)

    marker = _tab_to(qa, "marker")  # the timeline comes before the transcript
    assert marker["role"] == "button" and "0:09" in (marker["label"] or "")
    qa.keyboard.press(" ")
    qa.wait_for_function(f"() => Math.abs({AGENT_AUDIO}.currentTime - 6.5) < 0.3")

    word = _tab_to(qa, "word")
    assert word["role"] == "button" and word["start"] is not None
    qa.keyboard.press("Tab")
    word = _focused(qa)  # the second word, so the seek is not to 0
    qa.keyboard.press("Enter")
    qa.wait_for_function(
        "(s) => Math.abs(document.querySelector('audio[data-leg=agent]').currentTime - s) < 0.3",
        arg=float(word["start"]),
    )
    assert qa.locator(".word.now").count() == 1

    hit = _tab_to(qa, "hit")
    qa.keyboard.press("Enter")
    expected = max(0.0, float(hit["start"]) - 1.0)
    qa.wait_for_function(
        "(s) => Math.abs(document.querySelector('audio[data-leg=agent]').currentTime - s) < 0.3", arg=expected
    )
    assert abs(_position(qa) - expected) < 0.3
    # the focus is visible (an outline) where the keyboard is
    outline = qa.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    screen(qa, f"qa-keyboard-{backend}")
    assert qa.errors == [], qa.errors
