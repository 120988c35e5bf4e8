"""The QA queue, the reports, admin and QA review pages on a slow network, and a user who clicks
twice, in Debian's Chromium (Playwright), on SQLite and PostgreSQL: an answer to a request asked
before another one of its kind reaches the page last (Playwright holds it) and must not replace
what the newer one drew (the rows of another search, a page of the queue, the report of another
period, the hits of another text, the audit entries of another filter); a second click on Next
before the next page came is the same page, not the one after, and a second choice in a row's
"Assigned to" waits for the first one's outcome (it was lost); a second click on a button that
creates something (Add user, Upload as a new version) while the first one is on its way sends
nothing (it added the pack twice; the user's second request said "already exists" of the first
click's own work); the review page's Next waits for the save on its way (it asked "leave the
page?" of changes being saved, and left a refused save unseen); the rule pack being written in the
admin page's box survives the session ending (Check went to the sign-in page and lost it).

The calls are stored through the repository (:func:`tests.web.ui_support.add_call`: the real
phone call of the shared data recorded per leg, scripted transcripts)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.storage import WarningLevel
from tests.web.backend_support import seeded_server
from tests.web.browser_support import submit_sign_in
from tests.web.pack_support import banana_pack
from tests.web.slow_support import Hold, problems, slow_page, wait_handled
from tests.web.ui_support import add_call

QUEUE = r".*/api/qa/queue\?.*"
CALLS = (
    ("sl-a1", "A-1", WarningLevel.RED),
    ("sl-a2", "A-2", WarningLevel.ORANGE),
    ("sl-a3", "A-3", WarningLevel.YELLOW),
)
PACK = banana_pack("slowshop", "SLOW-1")


def _store(db: Any, data_dir: Path, clip: CallAudio) -> None:
    for call_id, agent, level in CALLS:
        add_call(db, data_dir, call_id, agent, clip, level)


server = seeded_server("slow", _store, 4.0)


def _rows(page: Any) -> list[str]:
    return page.locator("#qa-queue tbody tr[data-call]").evaluate_all("rows => rows.map(r => r.dataset.call)")


def _submit(page: Any, form: str) -> None:
    page.click(f"{form} button[type=submit]")


def test_a_search_answered_after_the_next_one_does_not_replace_its_rows(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    page = slow_page(browser, url, "qa1", "/qa")
    assert sorted(_rows(page)) == ["sl-a1", "sl-a2", "sl-a3"]
    hold = Hold(page, QUEUE, lambda r: "agent=A-1" in r.url)
    page.fill("#f-agent", "A-1")
    _submit(page, "#qa-filters")
    hold.wait()
    page.fill("#f-agent", "A-2")
    _submit(page, "#qa-filters")
    page.wait_for_selector("body[data-ready='1'] #qa-queue tr[data-call='sl-a2']")
    hold.release()  # the answer for A-1 comes last
    wait_handled(page, "agent=A-1")
    assert _rows(page) == ["sl-a2"], "the rows of the search before came back under the filter A-2"
    assert page.locator("#page-info").inner_text() == "1–1 of 1"
    assert page.locator("body").get_attribute("data-ready") == "1"
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_a_second_click_on_next_before_the_page_came_is_the_same_page(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    page = slow_page(browser, url, "qa1", "/qa?limit=1")
    first = _rows(page)
    assert page.locator("#page-info").inner_text() == "1–1 of 3"
    hold = Hold(page, QUEUE, lambda r: "offset=1" in r.url)
    page.click("#next-page")
    hold.wait()
    page.click("#next-page")  # the page still shows page 1: its Next again
    page.wait_for_function("() => document.querySelector('#page-info').textContent !== '1–1 of 3'")
    hold.release()
    wait_handled(page, "/api/qa/queue?", count=3)  # the first page's, the held one and the second click's
    assert page.locator("#page-info").inner_text() == "2–2 of 3", "a double click on Next skipped a page"
    second = _rows(page)
    assert len(second) == 1 and second != first
    assert "offset=1" in page.url, page.url
    page.click("#prev-page")
    page.wait_for_function("() => document.querySelector('#page-info').textContent === '1–1 of 3'")
    assert _rows(page) == first
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_a_report_of_the_period_asked_before_does_not_replace_the_one_asked_last(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    page = slow_page(browser, url, "admin1", "/reports")
    assert page.locator("#report-msg").inner_text() == "Calls: 3"
    since, until = page.input_value("input[name=since]"), page.input_value("input[name=until]")
    hold = Hold(page, r".*/api/reports\?.*", lambda r: "since=2020-01-01" in r.url)
    page.fill("input[name=since]", "2020-01-01")
    page.fill("input[name=until]", "2020-01-31")
    _submit(page, "#report-form")
    hold.wait()
    page.fill("input[name=since]", since)
    page.fill("input[name=until]", until)
    _submit(page, "#report-form")
    page.wait_for_selector("body[data-ready='1'] #report #teams")
    hold.release()  # the report of January 2020 (no calls) comes last
    wait_handled(page, "since=2020-01-01")
    assert page.locator("#report-msg").inner_text() == "Calls: 3", "the report of the period before came back"
    assert page.locator("#report #teams").count() == 1
    csv = page.locator("a.csv[data-table='teams']").get_attribute("href")
    assert f"since={since}" in csv and f"until={until}" in csv, csv
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_a_double_click_adds_one_user(server: tuple[str, str], browser: Any) -> None:
    """The second click of a double click comes while the first one's request is on its way
    (Playwright holds it): nothing more is sent, and the page says what the first click did."""
    url, _ = server
    page = slow_page(browser, url, "admin1", "/admin")
    users = Hold(page, r".*/api/admin/users$", lambda r: r.method == "POST", send=False)
    page.fill("#add-user input[name=username]", "slowpoke")
    page.fill("#add-user input[name=password]", "a long new password 7")
    page.select_option("#add-user select[name=role]", "qa")
    _submit(page, "#add-user")
    users.wait()
    page.click("#add-user button[type=submit]", force=True)  # a disabled button: no second request
    users.release()
    page.wait_for_selector("#users tr[data-user='slowpoke']")
    posts = [body for body in users.sent if body and "slowpoke" in body]
    wait_handled(page, '"username":"slowpoke"', count=len(posts))
    assert page.locator("#user-msg").inner_text() == "✓ slowpoke"  # not "already exists"
    assert len(posts) == 1, f"{len(posts)} requests to add one user"
    assert page.locator("#user-msg").get_attribute("class") == "ok"
    # on again once the list and the audit log are drawn again (the row comes before the audit log)
    page.wait_for_selector("#add-user button[type=submit]:enabled", timeout=15_000)
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_a_double_click_uploads_one_pack_version(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    page = slow_page(browser, url, "admin1", "/admin")
    packs = Hold(page, r".*/api/admin/rules/packs$", lambda r: r.method == "POST", send=False)
    page.fill("#lint-text", PACK)
    page.click("#upload-pack")
    packs.wait()
    page.click("#upload-pack", force=True)
    packs.release()
    shop = "#uploaded-packs .pack[data-pack='slowshop']"
    page.wait_for_selector(f"{shop} tr[data-version='1']")
    uploads = [body for body in packs.sent if body and "slowshop" in body]
    wait_handled(page, "pack: slowshop", count=len(uploads))
    assert len(uploads) == 1, "the pack was uploaded twice"
    assert page.locator(f"{shop} tr[data-version]").count() == 1
    assert page.locator("#pack-msg").get_attribute("class") == "ok"
    page.wait_for_selector("#upload-pack:enabled", timeout=15_000)  # on again once the packs are drawn
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_the_hits_of_the_text_tried_before_do_not_come_back(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    page = slow_page(browser, url, "admin1", "/admin")
    tried = Hold(page, r".*/api/admin/rules/try$", lambda r: "idiot" in (r.post_data or ""))
    page.fill("input[name=try_text]", "you are a stupid idiot")
    page.click("#try")
    tried.wait()
    page.fill("input[name=try_text]", "have a nice day")
    page.click("#try")
    page.wait_for_selector("#try-result .no-hits", timeout=30_000)
    tried.release()
    wait_handled(page, "stupid idiot")
    assert page.locator("#try-result .hit").count() == 0, "the hits of the text tried before came back"
    assert page.locator("#try-result .no-hits").count() == 1
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_the_audit_entries_of_the_filter_asked_before_do_not_come_back(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    page = slow_page(browser, url, "admin1", "/admin")
    audit = Hold(page, r".*/api/admin/audit\?.*", lambda r: "actor=admin1" in r.url)
    page.fill("input[name=actor]", "admin1")
    page.click("#audit-filter")
    audit.wait()
    page.fill("input[name=actor]", "nobody-at-all")
    page.click("#audit-filter")
    page.wait_for_selector("#audit tbody[data-loaded='1']", state="attached")
    assert page.locator("#audit tbody tr").count() == 0
    audit.release()
    wait_handled(page, "actor=admin1")
    assert page.locator("#audit tbody tr").count() == 0, "the entries of the filter before came back"
    assert page.locator("#chain-status[data-verified='1']").count() == 1
    assert page.problems == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_next_after_save_waits_for_the_save_and_asks_nothing(server: tuple[str, str], browser: Any) -> None:
    """Save then Next on the review page while the save is on its way (Playwright holds its answer):
    Next waits for it, and leaves without asking "leave the page?" of changes being saved."""
    url, _ = server
    page = slow_page(browser, url, "qa1", "/qa/calls/sl-a3")
    saves = Hold(page, r".*/api/qa/calls/sl-a3/review$")
    page.select_option("#scorecard select[name=identification]", "1")
    page.click("#save")
    saves.wait()
    page.click("#next-call")
    deadline = time.monotonic() + 15.0  # until Next is waiting for the save, or the page was left
    waiting = "#next-call:disabled"
    while not page.dialogs and page.locator(waiting).count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.dialogs == [], f"asked while the save was on its way: {page.dialogs}"
    saves.release()
    page.wait_for_url(url + "/qa/calls/sl-a1")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert page.dialogs == [] and page.problems == [], (page.dialogs, page.problems)


def test_next_after_a_refused_save_stays_and_says_why(server: tuple[str, str], browser: Any) -> None:
    """Save and finish with items not scored (refused), then Next before the answer: the page
    stays on the call, saying why (it went to the next call, the refusal unseen)."""
    url, _ = server
    page = slow_page(browser, url, "qa1", "/qa/calls/sl-a2")
    saves = Hold(page, r".*/api/qa/calls/sl-a2/review$")
    page.fill("#notes", "not finished yet")
    page.click("#save-done")
    saves.wait()
    page.click("#next-call")
    deadline = time.monotonic() + 15.0
    while (
        not page.dialogs and page.locator("#next-call:disabled").count() == 0 and time.monotonic() < deadline
    ):
        page.wait_for_timeout(50)
    assert page.dialogs == [], f"asked while the save was on its way: {page.dialogs}"
    saves.release()
    page.wait_for_selector("#save-status.error:has-text('score every item')")
    page.wait_for_selector("#next-call:enabled")
    assert page.url == url + "/qa/calls/sl-a2"
    assert page.locator("#notes").input_value() == "not finished yet"
    assert page.dialogs == [] and problems(page, 422) == [], (page.dialogs, page.problems)


def test_the_pack_being_written_survives_the_session_ending(server: tuple[str, str], browser: Any) -> None:
    """The session ends while the admin writes a pack in the box: Check goes to the sign-in page
    and back to the admin page, the pack still in the box (it was empty)."""
    url, _ = server
    page = slow_page(browser, url, "admin1", "/admin")
    text = PACK.replace("slowshop", "boxshop")
    page.fill("#lint-text", text)
    page.context.clear_cookies()  # the session is gone
    page.click("#lint")
    page.wait_for_url(re.compile(r".*/login\?next=%2Fadmin$"))
    submit_sign_in(page, "admin1", then=url + "/admin")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert page.locator("#lint-text").input_value() == text, "the pack in the box was lost"
    page.click("#lint")
    page.wait_for_selector("#lint-result .pack:has-text('boxshop')")
    assert problems(page, 401) == [] and page.dialogs == [], (page.problems, page.dialogs)


def test_a_second_choice_of_reviewer_waits_for_the_first(server: tuple[str, str], browser: Any) -> None:
    """A row's "Assigned to": a second choice before the first one's answer came was sent on the
    row as it was and refused (the first choice, a hand assignment to admin1, needs take_over),
    then the first one's answer drew the row with admin1 and no word of it; now the row takes no
    second choice until the list shows the first one's outcome, and then changing one's mind works."""
    url, _ = server
    page = slow_page(browser, url, "qa1", "/qa")
    assign = "tr[data-call='sl-a3'] select.assign"
    hold = Hold(page, r".*/api/qa/calls/sl-a3/assign$")
    page.select_option(assign, "admin1")
    hold.wait()
    assert page.locator(f"{assign}:disabled").count() == 1, "a second choice could be sent on the old row"
    hold.release()
    page.wait_for_selector("tr[data-call='sl-a3'] .assigned-by")  # admin1 (assigned by qa1)
    page.wait_for_selector(f"body[data-ready='1'] {assign}:enabled")
    page.select_option(assign, "qa1")  # changed my mind: me after all (it asks first: accepted)
    page.wait_for_selector("tr[data-call='sl-a3'] .assigned-by", state="detached")
    assert page.locator(assign).input_value() == "qa1"
    assert page.locator("#queue-msg").is_hidden(), page.locator("#queue-msg").inner_text()
    asked = "qa1 assigned this call to admin1. Take it over from them for yourself?"
    assert page.dialogs == [asked] and page.problems == [], (page.dialogs, page.problems)
