"""The QA queue and the reports page as a reviewer uses them, in Debian's Chromium (Playwright), on
SQLite and PostgreSQL: the date filter takes the days the page shows the dates in (the browser's
time zone), a search the server refuses leaves no rows of an earlier search on show, "—" in
"Assigned to" puts a call back in the queue (asking first for a call a lead gave to someone else),
Next with nothing left says so on the page (no dialog), a hand-edited address still shows the
queue, a page past the last one says so; a failed report is not left looking like the new one and
its error colour goes with it; at 200% zoom (a 700 px wide window) neither page scrolls sideways;
two reviewers pressing Next are handed different calls.

The calls are stored through the repository (:func:`tests.web.ui_support.add_call`: the real
phone call of the shared data recorded per leg, **scripted** transcripts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import CallStatus, WarningLevel, repo
from tests.web.backend_support import seeded_server
from tests.web.browser_support import signed_in_page
from tests.web.ui_support import add_call, login

#: 03:00 UTC on 10 March 2026 is 20:00 on 9 March in Los Angeles (PDT, UTC-7)
EVENING = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
LOS_ANGELES = "America/Los_Angeles"


def _store(db: Any, data_dir: Any, clip: CallAudio) -> None:
    for call_id, agent, level in (("qq-a1", "A-1", WarningLevel.RED), ("qq-a2", "A-2", WarningLevel.ORANGE)):
        add_call(db, data_dir, call_id, agent, clip, level)
    with db.session() as s:
        repo.start_call(s, "qq-evening", "A-3", source_protocol="ws-ingest", started_at=EVENING)
        words = tuple(Word(w, 1.0 + 0.4 * i, 1.35 + 0.4 * i, 0.9) for i, w in enumerate(["pay", "now"]))
        repo.save_utterance(
            s, "qq-evening", Transcript(Leg.AGENT, 0, 1.0, 1.75, "pay now", True, words, "en")
        )
        reasons = [{"kind": "rule", "rule": "abuse.threat", "text": "threat", "t": 1.75}]
        repo.raise_alert(s, "qq-evening", WarningLevel.YELLOW, reasons, raised_at_s=1.75, raised_at=EVENING)
        repo.end_call(s, "qq-evening", ended_at=EVENING + timedelta(seconds=60), status=CallStatus.ENDED)
        repo.enqueue_for_qa(s, "qq-evening", WarningLevel.YELLOW, "evening call", at=EVENING)


server = seeded_server("qa-queue", _store, 20.0)


def _page(browser: Any, url: str, path: str, user: str = "qa1", **context: Any) -> Any:
    """A new context (``context``: viewport, time zone...) signed in as ``user`` at ``path``; its
    script errors and dialogs (accepted) are collected in ``page.errors`` and ``page.dialogs``."""
    page = signed_in_page(browser, url, user, path, dialogs="accept", **context)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    return page


def _rows(page: Any) -> list[str]:
    page.wait_for_selector("body[data-ready='1']")
    return page.locator("#qa-queue tbody tr[data-call]").evaluate_all("rows => rows.map(r => r.dataset.call)")


def _filter(page: Any, **fields: str) -> list[str]:
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    page.evaluate("() => { document.body.dataset.ready = '0'; }")
    page.click("#qa-filters button[type=submit]")
    return _rows(page)


def test_the_date_filter_takes_the_days_the_dates_are_shown_in(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _page(browser, url, "/qa", timezone_id=LOS_ANGELES)
    shown = qa.locator("tr[data-call='qq-evening'] td").nth(6).inner_text()
    assert shown.startswith("Mar 9, 2026, 20:00"), shown
    assert _filter(qa, since="2026-03-09", until="2026-03-09") == ["qq-evening"]
    assert _filter(qa, since="2026-03-10", until="2026-03-10") == []
    assert qa.errors == [] and qa.dialogs == [], (qa.errors, qa.dialogs)
    with httpx.Client(base_url=url) as client:
        login(client, "qa1")
        day = {"since": "2026-03-10", "until": "2026-03-10"}
        utc = client.get("/api/qa/queue", params=day).json()  # no zone: UTC days, as before
        assert [it["call"]["call_id"] for it in utc["items"]] == ["qq-evening"]
        bad = client.get("/api/qa/queue", params={**day, "tz": "Mars/Olympus"})
        assert bad.status_code == 422 and "unknown time zone" in bad.text, bad.text
        far = client.get("/api/qa/queue", params={"since": "0001-01-01", "tz": "Asia/Shanghai"})
        assert far.status_code == 200 and far.json()["total"] == 3, far.text  # no bound, no overflow


def test_a_refused_search_leaves_no_rows_of_the_last_one(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _page(browser, url, "/qa")
    assert sorted(_rows(qa)) == ["qq-a1", "qq-a2", "qq-evening"]
    # a masked role cannot look for digits: the server refuses (422)
    assert _filter(qa, q="422") == []
    assert "cannot look for numbers" in qa.locator("#queue-msg").inner_text()
    assert sorted(_filter(qa, q="")) == ["qq-a1", "qq-a2", "qq-evening"]
    assert qa.locator("#queue-msg").is_hidden()
    assert qa.errors == [] and qa.dialogs == [], (qa.errors, qa.dialogs)


def test_choosing_no_reviewer_puts_the_call_back_in_the_queue(server: tuple[str, str], browser: Any) -> None:
    """ "—" releases the call (it could not: the page said a call cannot be unassigned); a call a
    lead gave to someone else asks first, and the request names who held it."""
    url, _ = server
    qa = _page(browser, url, "/qa")
    assign = "tr[data-call='qq-a2'] select.assign"
    qa.select_option(assign, "admin1")
    qa.wait_for_function(
        "() => document.querySelector(\"tr[data-call='qq-a2'] td.state\").textContent === 'in review'"
    )
    # given by qa1 to someone else: held for admin1, and the row says by whom
    held = "tr[data-call='qq-a2'] .assigned-by"
    assert qa.locator(held).inner_text() == "(assigned by qa1)"
    assert qa.locator("tr[data-call='qq-a1'] .assigned-by").count() == 0
    with qa.expect_request(lambda r: r.method == "POST" and r.url.endswith("/release")) as sent:
        qa.select_option(assign, "")  # asks (accepted), then sends
    assert sent.value.post_data_json == {"take_over": "admin1"}
    qa.wait_for_selector("#queue-msg:text-is('Back in the queue: qq-a2.')")
    assert qa.locator("tr[data-call='qq-a2'] td.state").inner_text() == "pending"
    assert qa.locator(assign).input_value() == "" and qa.locator(held).count() == 0
    assert qa.dialogs == ["qa1 assigned this call to admin1. Put it back in the queue?"], qa.dialogs
    assert qa.errors == [], qa.errors


def test_next_with_nothing_left_says_so_on_the_page(server: tuple[str, str], browser: Any) -> None:
    """No dialog (a modal ``alert()`` stops every other tab's script of the page until dismissed)."""
    url, _ = server
    qa = _page(browser, url, "/qa")
    assert _filter(qa, q="zzqxnothing") == []
    qa.click("#next-in-queue")
    qa.wait_for_selector("#queue-msg:not([hidden])")
    assert qa.locator("#queue-msg").inner_text() == "Nothing left to review with these filters."
    assert qa.locator("#queue-msg").get_attribute("class") == "muted"  # not said as an error
    assert qa.url.endswith("/qa") or "/qa?" in qa.url, qa.url
    assert qa.errors == [] and qa.dialogs == [], (qa.errors, qa.dialogs)


def test_a_hand_edited_address_and_a_page_past_the_end(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _page(browser, url, "/qa?limit=abc&sort=bogus&order=up&offset=-3")
    assert len(_rows(qa)) == 3
    assert qa.locator("#page-info").inner_text() == "1–3 of 3"
    qa.goto(url + "/qa?limit=2&offset=100")
    assert _rows(qa) == []
    assert qa.locator("#page-info").inner_text() == "0–0 of 3"
    assert qa.locator("#prev-page").is_enabled()
    assert qa.errors == [], qa.errors


def test_reports_do_not_keep_an_old_period_or_its_error(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    page = _page(browser, url, "/reports", "admin1")
    assert page.locator("#teams").count() == 1
    page.fill("input[name=since]", "2030-01-01")
    page.evaluate("() => { document.body.dataset.ready = '0'; }")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    assert "end is before its start" in page.locator("#report-msg.error").inner_text()
    assert page.locator("#report").inner_text() == ""  # not the report of the period before
    page.fill("input[name=since]", "")  # no start of ours: the server's default period
    page.evaluate("() => { document.body.dataset.ready = '0'; }")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#report-msg").get_attribute("class") == "muted"
    assert page.locator("#report-msg").inner_text().startswith("Calls: ")
    assert page.locator("#teams").count() == 1
    assert page.errors == [], page.errors


@pytest.mark.parametrize("path", ["/qa", "/reports"])
def test_no_sideways_scrolling_at_200_percent_zoom(server: tuple[str, str], browser: Any, path: str) -> None:
    url, _ = server
    # 200% zoom of a 1400 px window: 700 CSS pixels at two device pixels each
    page = _page(browser, url, path, "admin1", viewport={"width": 700, "height": 450}, device_scale_factor=2)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    assert page.errors == [], page.errors


def test_two_reviewers_pressing_next_are_handed_different_calls(
    server: tuple[str, str], browser: Any
) -> None:
    """Next claims the call it opens (it only looked one up: qa1 and admin1 were both handed
    qq-a1); the review page's Next claims the next one. (After the tests above: all three
    pending.)"""
    url, _ = server
    qa, admin = _page(browser, url, "/qa"), _page(browser, url, "/qa", "admin1")
    qa.click("#next-in-queue")
    qa.wait_for_url(url + "/qa/calls/qq-a1")
    admin.click("#next-in-queue")
    admin.wait_for_url(url + "/qa/calls/qq-a2")  # their own, not the call qa1 has open
    qa.wait_for_selector("#next-call")
    qa.click("#next-call")
    qa.wait_for_url(url + "/qa/calls/qq-evening")
    items = "(d) => d.items.map((i) => [i.call.call_id, i.assigned_to])"
    assigned = qa.evaluate(f"() => AM.api('GET', '/api/qa/queue?sort=level').then({items})")
    assert assigned == [["qq-a1", "qa1"], ["qq-a2", "admin1"], ["qq-evening", "qa1"]]
    assert qa.errors == admin.errors == [] and qa.dialogs == admin.dialogs == [], (qa.errors, admin.errors)
