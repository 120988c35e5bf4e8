"""Browser test of QA at volume in Debian's Chromium (Playwright), on SQLite and PostgreSQL: the
queue's search (partial, case-insensitive filters and full-text transcript words), sortable
columns, pages, assignment and "mine"; the review page's waveform with a time axis, clickable
markers, playback speed, both legs' signal health, each rule hit once, the scorecard that refuses
to finish with items not scored, the keyboard shortcuts with their help, and "next in queue".

The calls are stored through the repository (:func:`tests.web.ui_support.add_call`: the real
phone call of the shared data recorded per leg, **scripted** transcripts). Screenshots go to
``artifacts/screens/qa/`` (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.ingest.call_audio import load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.settings import Settings
from agent_monitor.storage import WarningLevel, repo
from tests.agent_monitor.storage.conftest import BACKENDS
from tests.web.backend_support import backend_database
from tests.web.browser_support import signed_in_page
from tests.web.ui_support import add_call, add_users, serve, ui_app

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens" / "qa"
CALLS = (
    ("call-a1", "A-1", WarningLevel.RED),
    ("call-a2", "A-2", WarningLevel.ORANGE),
    ("call-a3", "A-3", WarningLevel.YELLOW),
)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _store_calls(db: Any, data_dir: Path, eval_data: Path) -> None:
    audio = load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0, 30)
    for call_id, agent, level in CALLS:
        add_call(db, data_dir, call_id, agent, audio, level)
    with db.session() as s:
        words = tuple(
            Word(w, 20.0 + 0.4 * i, 20.35 + 0.4 * i, 0.9)
            for i, w in enumerate(["i", "filed", "for", "bankruptcy"])
        )
        repo.save_utterance(
            s,
            "call-a3",
            Transcript(Leg.DEBTOR, 9, 20.0, words[-1].end, "i filed for bankruptcy", True, words, "en"),
        )
        # the partial's hit on the same utterance as the final's: the review page lists the finding once
        dup = RuleHit(
            "abuse.insult",
            "Insulting the debtor",
            "abuse",
            Severity.RED,
            Leg.AGENT,
            (0, 6),
            "stupid",
            "Abusive language toward the debtor",
            "FDCPA 15 U.S.C. 1692d(2)",
            utterance=2,
            start=8.0,
            end=8.4,
        )
        repo.save_rule_hit(s, "call-a1", dup, status=HitStatus.PROVISIONAL)
        quiet = LegHealth(
            Leg.DEBTOR,
            HealthIssue.LOW_LEVEL,
            True,
            "debtor leg very quiet (-52 dBFS)",
            {"speech_dbfs": -52.0},
        )
        repo.save_signal_health(s, "call-a1", 2.0, quiet)


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    base_settings: Settings,
    eval_data: Path,
) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("qa-browser")
    with backend_database(request.param, "the QA browser tests") as database_url:
        settings = base_settings.model_copy(
            update={
                "data_dir": root / "data",
                "database_url": database_url,
                "server": base_settings.server.model_copy(update={"audiosocket_port": None}),
            }
        )
        app = ui_app(settings)
        with serve(app) as url:
            add_users(app.state.services.db)
            _store_calls(app.state.services.db, settings.data_dir, eval_data)
            yield url, request.param


def _rows(page: Any) -> list[str]:
    page.wait_for_selector("body[data-ready='1']")
    return page.locator("#qa-queue tbody tr[data-call]").evaluate_all("rows => rows.map(r => r.dataset.call)")


def _filter(page: Any, **fields: str) -> list[str]:
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    page.evaluate("() => { document.body.dataset.ready = '0'; }")
    page.click("#qa-filters button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    return _rows(page)


def test_queue_search_sort_pages_and_assignment(server: tuple[str, str], browser: Any) -> None:
    url, backend = server
    qa = signed_in_page(browser, url, "qa1", "/qa")
    assert sorted(_rows(qa)) == ["call-a1", "call-a2", "call-a3"]
    assert _filter(qa, rule="INSULT", agent="a-2") == ["call-a2"]  # any part, any case
    assert sorted(_filter(qa, agent="", rule="", call="CALL-A")) == ["call-a1", "call-a2", "call-a3"]
    assert _filter(qa, call="", q="Bankrupt") == ["call-a3"]  # words said, through the full-text index
    shot(qa, f"queue-search-{backend}")
    assert sorted(_filter(qa, q="")) == ["call-a1", "call-a2", "call-a3"]
    # sortable columns: level descending, then ascending
    qa.click("th[data-sort=level] button")
    qa.wait_for_selector("th.sorted[data-sort=level][aria-sort=descending]")
    assert _rows(qa)[0] == "call-a1"
    qa.click("th[data-sort=level] button")
    qa.wait_for_selector("th.sorted[data-sort=level][aria-sort=ascending]")
    assert _rows(qa)[0] == "call-a3"
    # pages of two
    qa.goto(url + "/qa?limit=2&sort=level&order=desc")
    assert _rows(qa) == ["call-a1", "call-a2"]
    assert qa.locator("#page-info").inner_text() == "1–2 of 3"
    qa.click("#next-page")
    qa.wait_for_function("() => document.querySelector('#page-info').textContent === '3–3 of 3'")
    assert _rows(qa) == ["call-a3"]
    # assign call-a2 to qa1, then "mine"
    qa.goto(url + "/qa")
    _rows(qa)
    qa.select_option("tr[data-call='call-a2'] select.assign", "qa1")
    qa.wait_for_function(
        "() => document.querySelector(\"tr[data-call='call-a2'] td.state\").textContent === 'in review'"
    )
    qa.check("#f-mine")
    assert _filter(qa) == ["call-a2"]
    shot(qa, f"queue-mine-{backend}")
    assert qa.errors == [], qa.errors


def test_review_page_waveform_scorecard_shortcuts_and_next(server: tuple[str, str], browser: Any) -> None:
    url, backend = server
    qa = signed_in_page(browser, url, "qa1", "/qa/calls/call-a1")
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    # waveform of both legs from the server's peaks, a time axis labelled mm:ss
    qa.wait_for_selector("#waveform[data-drawn='2']", timeout=15_000)
    ticks = qa.locator(".time-axis").first.locator(".tick").all_inner_texts()
    assert len(ticks) >= 3 and all(re.fullmatch(r"\d+:\d\d", x) for x in ticks), ticks
    assert ticks[:2] == ["0:00", "0:05"], ticks
    # each rule hit once; the alert marker seeks (1 s before it)
    assert qa.locator("#rule-hits .hit").count() == 1
    qa.locator(".wave-marker.alert").first.click()
    position = qa.evaluate("() => document.querySelector('audio[data-leg=agent]').currentTime")
    assert 8.0 <= position < 10.5, position
    qa.locator("#rule-hits a.seek").first.click()
    position = qa.evaluate("() => document.querySelector('audio[data-leg=debtor]').currentTime")
    assert 6.9 <= position < 9.0, position
    qa.select_option("#speed", "1.5")
    assert qa.evaluate("() => [...document.querySelectorAll('audio')].map(a => a.playbackRate)") == [1.5, 1.5]
    # both legs' signal health
    assert "very quiet" in qa.locator(".leg-health[data-leg=debtor]").inner_text()
    assert "no problems" in qa.locator(".leg-health[data-leg=agent]").inner_text()
    # the scorecard starts "not scored" and cannot be finished so
    assert set(qa.locator("#scorecard select.score").evaluate_all("s => s.map(x => x.value)")) == {""}
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('before finishing')")
    shot(qa, f"review-unscored-refused-{backend}")
    for item in ("identification", "accuracy", "resolution"):
        qa.select_option(f"#scorecard select[name={item}]", "2")
    qa.select_option("#scorecard select[name=disclosure]", "na")
    qa.select_option("#scorecard select[name=respect]", "0")
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('needs a comment: respect')")
    qa.fill("#scorecard input[name=comment-respect]", "insult at 0:08")
    # keyboard: the next alert, its verdict, then save (s) and the help overlay (?)
    keys = qa.keyboard
    qa.evaluate("() => document.activeElement && document.activeElement.blur()")  # not typing in a field
    keys.press("a")
    qa.wait_for_selector("#alerts .alert.selected")
    keys.press("c")
    assert qa.locator("#alerts .alert.selected input[value=confirmed]").is_checked()
    keys.press("?")
    qa.wait_for_selector("#shortcuts:not([hidden])")
    assert "Next alert" in qa.locator("#shortcuts").inner_text()
    shot(qa, f"review-shortcuts-{backend}")
    keys.press("Escape")
    qa.wait_for_selector("#shortcuts", state="hidden")
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('Saved')")
    assert qa.locator("#score").inner_text() == "Score: 60%"  # weighted 1+1+0+1 of 1+1+2+1; N/A left out
    shot(qa, f"review-{backend}")
    # next in queue: the highest-level open call (call-a1 is done now)
    qa.click("#next-call")
    qa.wait_for_url(re.compile(r".*/qa/calls/call-a2$"))
    assert qa.errors == [], qa.errors
