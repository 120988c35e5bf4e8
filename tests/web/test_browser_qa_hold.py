"""A call a lead assigned by hand, in the QA pages, in Debian's Chromium (Playwright), on SQLite and
PostgreSQL: the queue and the review page say who assigned it ("qa2 (assigned by admin1)"); taking
it over for oneself ("Take" on the review page, oneself in the queue's "Assigned to") asks first,
and cancelled sends nothing (the call stays with the reviewer it was assigned to); a call nobody
holds, or one a reviewer took for themself (a claim, which lapses), is taken in one click; a call
given to someone else while the page asked is not taken over (the server's 409), and the page says
so and shows who has it now.

The calls are stored through the repository (:func:`tests.web.ui_support.add_call`: the real
phone call of the shared data recorded per leg, **scripted** transcripts)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.roles import Role
from agent_monitor.storage import WarningLevel, repo
from tests.web.backend_support import seeded_server
from tests.web.browser_support import signed_in_page
from tests.web.ui_support import PASSWORD, add_call, login

#: calls a lead (admin1) assigned to qa2, one qa2 took for themself, and two nobody holds
HELD = ("hd-queue", "hd-review")
#: calls admin1 assigned to qa2, which qa2 gives to admin1 while qa1's page asks to take them over
MOVED = ("hd-moved-queue", "hd-moved-review")
CLAIMED, FREE = "hd-claimed", ("hd-free", "hd-free-2")


def _store(db: Any, data_dir: Any, clip: CallAudio) -> None:
    with db.session() as s:
        repo.create_user(s, "qa2", hash_password(PASSWORD), Role.QA)
    for call_id in (*HELD, *MOVED, CLAIMED, *FREE):
        add_call(db, data_dir, call_id, "A-1", clip, WarningLevel.RED)
    with db.session() as s:
        for call_id in (*HELD, *MOVED):
            repo.assign_qa(s, call_id, "qa2", by="admin1")  # a hand assignment: never lapses
        repo.assign_qa(s, CLAIMED, "qa2", by="qa2")  # "Take" by qa2: a claim


server = seeded_server("qa-hold", _store, 10.0)


def _entry(url: str, call_id: str) -> tuple[str | None, str | None]:
    """Who has the call and who assigned it to them, as the queue API says."""
    with httpx.Client(base_url=url) as client:
        login(client, "admin1")
        items = client.get("/api/qa/queue", params={"call": call_id}).json()["items"]
    (item,) = [i for i in items if i["call"]["call_id"] == call_id]
    return item["assigned_to"], item["assigned_by"]


def _pass_to_admin1(url: str, call_id: str) -> None:
    """qa2 gives the call they hold to admin1 through the API (naming themself, as the pages do):
    held for admin1 now."""
    with httpx.Client(base_url=url) as client:
        csrf = login(client, "qa2")
        body = {"reviewer": "admin1", "take_over": "qa2"}
        r = client.post(f"/api/qa/calls/{call_id}/assign", json=body, headers=csrf)
        assert r.status_code == 200, r.text


def _page(browser: Any, url: str, path: str) -> Any:
    """qa1 at ``path``; the POSTs it sends are collected in ``page.posts``, and each dialog is
    answered with the next of ``page.answers`` (True: accept; a function: called, then accept) and
    its message kept in ``page.dialogs``."""
    page = signed_in_page(browser, url, "qa1", path)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.posts, page.dialogs, page.answers = [], [], []
    page.on("request", lambda r: page.posts.append(r.url) if r.method == "POST" else None)

    def answer(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        answer = page.answers.pop(0)
        if callable(answer):  # something happens elsewhere while the dialog is open
            answer()
        dialog.accept() if answer else dialog.dismiss()

    page.on("dialog", answer)
    return page


def test_the_queue_says_who_assigned_a_call_and_taking_it_over_asks(
    server: tuple[str, str], browser: Any
) -> None:
    url, _backend = server
    qa = _page(browser, url, "/qa")
    cell = "tr[data-call='hd-queue'] td:has(select.assign)"
    assert qa.locator(cell).inner_text().endswith("(assigned by admin1)")
    assert qa.locator("tr[data-call='hd-queue'] select.assign").input_value() == "qa2"
    assert qa.locator(f"tr[data-call='{CLAIMED}'] .assigned-by").count() == 0  # a claim: nobody assigned it
    assign = "tr[data-call='hd-queue'] select.assign"
    qa.answers.append(False)
    qa.select_option(assign, "qa1")  # cancelled: nothing sent, the call stays qa2's
    qa.wait_for_selector("#queue-msg:has-text('stays with qa2')")
    assert len(qa.dialogs) == 1 and "admin1 assigned this call to qa2" in qa.dialogs[0], qa.dialogs
    assert qa.locator(assign).input_value() == "qa2"
    assert qa.posts == [] and _entry(url, "hd-queue") == ("qa2", "admin1")
    qa.answers.append(True)
    with qa.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/assign")):
        qa.select_option(assign, "qa1")  # confirmed: taken over, a claim of qa1's now
    qa.wait_for_function("() => !document.querySelector(\"tr[data-call='hd-queue'] .assigned-by\")")
    assert len(qa.dialogs) == 2 and _entry(url, "hd-queue") == ("qa1", None)
    with qa.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/assign")):
        qa.select_option(f"tr[data-call='{FREE[0]}'] select.assign", "qa1")  # nobody holds it: one click
    assert len(qa.dialogs) == 2 and _entry(url, FREE[0]) == ("qa1", None)
    assert qa.errors == [], qa.errors


def test_take_on_the_review_page_asks_before_taking_a_call_a_lead_assigned(
    server: tuple[str, str], browser: Any
) -> None:
    url, _backend = server
    qa = _page(browser, url, "/qa/calls/hd-review")
    assert qa.locator("#held-by").inner_text() == " · in review: qa2 (assigned by admin1)"
    qa.answers.append(False)
    qa.click("#take")  # cancelled: nothing sent, the call stays qa2's
    qa.wait_for_selector("#save-status:has-text('stays with qa2')")
    assert len(qa.dialogs) == 1 and "admin1 assigned this call to qa2" in qa.dialogs[0], qa.dialogs
    assert qa.posts == [] and _entry(url, "hd-review") == ("qa2", "admin1")
    qa.answers.append(True)
    qa.click("#take")  # confirmed: qa1's now, a claim like Next's
    qa.wait_for_selector("#save-status:text-is('in review')")
    assert len(qa.dialogs) == 2 and len(qa.posts) == 1, (qa.dialogs, qa.posts)
    assert _entry(url, "hd-review") == ("qa1", None)
    assert qa.locator("#held-by").inner_text() == " · in review: qa1"
    assert qa.errors == [], qa.errors


@pytest.mark.parametrize(
    ("call_id", "held"),
    [pytest.param(CLAIMED, " · in review: qa2", id="claimed"), pytest.param(FREE[1], "", id="unheld")],
)
def test_take_of_a_claimed_or_unheld_call_does_not_ask(
    server: tuple[str, str], browser: Any, call_id: str, held: str
) -> None:
    """A claim of another reviewer's (which lapses) is taken over in one click, as before."""
    url, _backend = server
    qa = _page(browser, url, f"/qa/calls/{call_id}")
    assert qa.locator("#held-by").inner_text() == held
    qa.click("#take")
    qa.wait_for_selector("#save-status:text-is('in review')")
    assert qa.dialogs == [] and len(qa.posts) == 1, (qa.dialogs, qa.posts)
    assert _entry(url, call_id) == ("qa1", None)
    assert qa.errors == [], qa.errors


def _assign_response(page: Any) -> Any:
    return page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/assign"))


def test_a_call_given_to_someone_else_while_asking_is_not_taken_over(
    server: tuple[str, str], browser: Any
) -> None:
    """qa1 confirms taking over a call qa2 holds, but while the dialog is open qa2 gives it to
    admin1: qa1's request names qa2, who no longer holds it, so the server refuses it (409; it went
    through and overwrote admin1's assignment); the queue and the review page say so and show who
    has it now."""
    url, _backend = server
    qa = _page(browser, url, "/qa")
    assign = f"tr[data-call='{MOVED[0]}'] select.assign"
    qa.answers.append(lambda: _pass_to_admin1(url, MOVED[0]))
    with _assign_response(qa) as sent:
        qa.select_option(assign, "qa1")
    assert sent.value.status == 409 and len(qa.dialogs) == 1
    qa.wait_for_selector("#queue-msg:has-text('given to someone else meanwhile')")
    qa.wait_for_function(f"() => document.querySelector(\"{assign}\").value === 'admin1'")
    assert qa.locator(f"tr[data-call='{MOVED[0]}'] .assigned-by").inner_text() == "(assigned by qa2)"
    assert _entry(url, MOVED[0]) == ("admin1", "qa2")
    review = _page(browser, url, f"/qa/calls/{MOVED[1]}")
    review.answers.append(lambda: _pass_to_admin1(url, MOVED[1]))
    with _assign_response(review) as sent:
        review.click("#take")
    assert sent.value.status == 409 and len(review.dialogs) == 1
    review.wait_for_selector("#save-status:has-text('given to someone else meanwhile')")
    held = "in review: admin1 (assigned by qa2)"
    review.wait_for_function(f"() => document.querySelector('#held-by').innerText.endsWith('{held}')")
    assert _entry(url, MOVED[1]) == ("admin1", "qa2")
    assert qa.errors == review.errors == [], (qa.errors, review.errors)
