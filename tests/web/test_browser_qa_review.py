"""The QA review page as a reviewer uses it, in Debian's Chromium (Playwright), on SQLite and
PostgreSQL: nothing typed is lost (a reload, the back button, "next call", a sign-in after the
session ended: the changes not saved yet are kept in the tab and put back, and leaving asks first);
both legs play the same moment whichever player is used, and the playhead, the highlighted word and
the stress marker follow; a call without a recording still seeks; Space and Enter on a focused
button press it (not play/pause), the help dialog takes the focus, letters work with Caps Lock;
notes and comments over the server's limits are refused in words; a failed "take for review" is a
message, not a script error; saving a finished review as a draft asks first (it reopens the review);
an HTML error page from a proxy in front of the server is said as such, not as a JSON parse error;
a waveform the server answers 503 for a moment is asked again, not called unplayable.

The calls are stored through the repository (:func:`tests.web.ui_support.add_call`: the real
phone call of the shared data recorded per leg, **scripted** transcripts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import CallStatus, WarningLevel, repo
from agent_monitor.storage.recordings import recording_path
from tests.web.backend_support import seeded_server
from tests.web.browser_support import signed_in_page, submit_sign_in
from tests.web.ui_support import add_call, login

AGENT = "document.querySelector('audio[data-leg=agent]')"
DEBTOR = "document.querySelector('audio[data-leg=debtor]')"
#: where the page puts the playhead: clock text, the stress plot's marker (x of 1000), the highlighted word
PLAYHEAD = """() => { const w = document.querySelector('.word.now');
  return { clock: document.querySelector('#clock').textContent,
           stress: Number(document.querySelector('#stress-plot line').getAttribute('x1')),
           word: w ? Number(w.dataset.start) : null }; }"""


def _words(text: str, start: float) -> tuple[Word, ...]:
    return tuple(Word(w, start + 0.4 * i, start + 0.4 * i + 0.35, 0.9) for i, w in enumerate(text.split()))


def _store(db: Any, data_dir: Any, clip: CallAudio) -> None:
    for call_id in ("rv-call", "rv-draft", "rv-keys", "rv-missing", "rv-finished"):
        add_call(db, data_dir, call_id, "A-1", clip, WarningLevel.RED)
    for leg in Leg:
        recording_path(data_dir, "rv-missing", leg).unlink()
    started = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as s:
        # a call without any recording; its alert comes after the last word (at 11 s)
        repo.start_call(
            s,
            "rv-noaudio",
            "A-2",
            source_protocol="ws-ingest",
            started_at=started,
            debt_id="L-77",
            consented=True,
        )
        lines = [
            (Leg.AGENT, 0.5, "hello there"),
            (Leg.DEBTOR, 3.0, "who is this"),
            (Leg.AGENT, 8.0, "pay now"),
        ]
        for n, (leg, at, text) in enumerate(lines):
            words = _words(text, at)
            repo.save_utterance(
                s, "rv-noaudio", Transcript(leg, n, at, words[-1].end, text, True, words, "en")
            )
        reasons = [{"kind": "rule", "rule": "abuse.insult", "text": "insult", "t": 11.0}]
        repo.raise_alert(s, "rv-noaudio", WarningLevel.RED, reasons, raised_at_s=11.0)
        samples = [
            StressSample(float(t), 40.0, StressLevel.NONE, BaselineStatus.RELATIVE, None, 1.0, Leg.DEBTOR)
            for t in range(1, 10)
        ]
        repo.add_stress_samples(s, "rv-noaudio", samples)
        repo.end_call(s, "rv-noaudio", ended_at=started + timedelta(seconds=12), status=CallStatus.ENDED)
        repo.enqueue_for_qa(s, "rv-noaudio", WarningLevel.RED, "no audio")
        # an ended call that is not in the QA queue (an admin may open it; it cannot be taken)
        repo.start_call(s, "rv-unqueued", "A-1", source_protocol="ws-ingest", started_at=started)
        words = _words("hello there", 0.5)
        repo.save_utterance(
            s, "rv-unqueued", Transcript(Leg.AGENT, 0, 0.5, words[-1].end, "hello there", True, words, "en")
        )
        repo.end_call(s, "rv-unqueued", ended_at=started + timedelta(seconds=5), status=CallStatus.ENDED)


server = seeded_server("qa-review", _store, 30.0)


def _review(browser: Any, url: str, call_id: str, user: str = "qa1") -> Any:
    page = signed_in_page(browser, url, user, f"/qa/calls/{call_id}")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    return page


def _reload(page: Any) -> list[str]:
    """Reload the page, accepting "leave the page?"; the kinds of dialog the browser showed."""
    shown: list[str] = []

    def answer(dialog: Any) -> None:
        shown.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.remove_listener("dialog", answer)
    return shown


def _form(page: Any) -> dict[str, Any]:
    return {
        "notes": page.locator("#notes").input_value(),
        "identification": page.locator("#scorecard select[name=identification]").input_value(),
        "comment": page.locator("#scorecard input[name=comment-respect]").input_value(),
        "false_alarm": page.locator("#alerts input[value=false_alarm]").first.is_checked(),
    }


def test_changes_not_saved_survive_a_reload_and_a_new_sign_in(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-draft")
    notes = "agent raised voice at 0:08, then apologised"
    typed = {"notes": notes, "identification": "2", "comment": "insult at 0:08", "false_alarm": True}
    qa.fill("#notes", notes)
    qa.select_option("#scorecard select[name=identification]", "2")
    qa.fill("#scorecard input[name=comment-respect]", typed["comment"])
    qa.locator("#alerts input[value=false_alarm]").first.check()
    # a reload asks first, and puts back everything typed
    shown = _reload(qa)
    assert _form(qa) == typed
    assert shown == ["beforeunload"]
    assert "before the reload are back" in qa.locator("#save-status").inner_text()
    # the session ends; Save goes to the sign-in page and back: still all there
    qa.context.clear_cookies()
    qa.fill("#notes", notes + " (more)")
    qa.click("#save")
    qa.wait_for_url(re.compile(r".*/login\?next=.*"))
    submit_sign_in(qa, "qa1", then=re.compile(r".*/qa/calls/rv-draft$"))
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert _form(qa) == {**typed, "notes": notes + " (more)"}
    # saved: nothing left to put back, and leaving asks nothing
    qa.click("#save")
    qa.wait_for_selector("#save-status:has-text('Saved at')")
    assert _reload(qa) == []
    assert _form(qa) == {**typed, "notes": notes + " (more)"}
    assert qa.locator("#save-status").inner_text() == ""
    assert qa.errors == [], qa.errors


def test_both_legs_play_the_same_moment_whichever_player_is_used(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-call")
    qa.wait_for_function(f"() => {AGENT}.readyState >= 1 && {DEBTOR}.readyState >= 1", timeout=15_000)
    # the reviewer drags the debtor leg's own player to 0:08: the agent leg, the clock, the stress
    # marker and the highlighted word go there too
    qa.evaluate(f"() => {{ {DEBTOR}.currentTime = 8.1; }}")
    qa.wait_for_function(f"() => Math.abs({AGENT}.currentTime - 8.1) < 0.3", timeout=5_000)
    head = qa.evaluate(PLAYHEAD)
    assert head["clock"].startswith("0:08"), head
    assert abs(head["stress"] / 1000 * 30 - 8.1) < 0.3, head  # the axes span the 30 s recording
    assert head["word"] is not None and abs(head["word"] - 8.1) < 0.4, head
    # play in one leg's player plays both; pause in the other pauses both
    qa.evaluate(f"() => {DEBTOR}.play()")
    qa.wait_for_function(f"() => !{AGENT}.paused", timeout=5_000)
    assert qa.locator("#play-both").inner_text() == "Pause"
    qa.evaluate(f"() => {AGENT}.pause()")
    qa.wait_for_function(f"() => {DEBTOR}.paused", timeout=5_000)
    assert qa.locator("#play-both").inner_text() == "Play both legs"
    apart = qa.evaluate(f"() => Math.abs({AGENT}.currentTime - {DEBTOR}.currentTime)")
    assert apart < 0.3, apart
    # clicking an alert: playhead, stress marker and word agree with what is heard
    qa.locator("#alerts a.seek").first.click()
    qa.evaluate(f"() => {{ {AGENT}.pause(); }}")
    qa.wait_for_function(f"() => {DEBTOR}.paused", timeout=5_000)
    now = qa.evaluate(f"() => {AGENT}.currentTime")
    head = qa.evaluate(PLAYHEAD)
    assert abs(head["stress"] / 1000 * 30 - now) < 0.3, (head, now)
    assert abs(qa.evaluate(f"() => {DEBTOR}.currentTime") - now) < 0.3
    assert qa.errors == [], qa.errors


def test_a_call_without_recording_still_seeks(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-noaudio")
    about = qa.locator("#call-about").inner_text()  # what the frequency rule judged the call by
    assert "Debt L-77" in about and "made with the debtor's consent" in about, about
    assert "consent" not in _review(browser, url, "rv-unqueued", "admin1").locator("#call-about").inner_text()
    qa.locator(".word", has_text="pay").click()
    head = qa.evaluate(PLAYHEAD)
    assert head["clock"] == "0:08 / 0:11" and head["word"] == 8.0, head
    assert qa.locator("#no-recording").is_visible()
    qa.evaluate("() => document.activeElement.blur()")
    qa.keyboard.press("j")
    assert qa.evaluate(PLAYHEAD)["clock"] == "0:03 / 0:11"
    # the alert after the last word is on the axis, not past its end
    left = qa.locator(".wave-marker.alert").evaluate("b => parseFloat(b.style.left)")
    assert 0 < left <= 100, left
    assert qa.errors == [], qa.errors


def test_space_and_enter_press_the_focused_button_and_letters_ignore_caps_lock(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-keys")
    qa.wait_for_function(f"() => {AGENT}.readyState >= 1", timeout=15_000)
    # Space on the help button opens the help (and does not start playback); the focus is in it
    qa.focus("#help-btn")
    qa.keyboard.press(" ")
    qa.wait_for_selector("#shortcuts:not([hidden])")
    assert qa.evaluate(f"() => {AGENT}.paused")
    assert qa.evaluate("() => document.activeElement.id") == "close-help"
    qa.keyboard.press("Tab")
    assert qa.evaluate("() => document.activeElement.id") == "close-help"  # not behind the dialog
    qa.keyboard.press("Escape")
    qa.wait_for_selector("#shortcuts", state="hidden")
    assert qa.evaluate("() => document.activeElement.id") == "help-btn"
    # Space on a waveform marker seeks there (1 s before the alert at 9.5 s), like a click
    qa.focus(".wave-marker.alert")
    qa.keyboard.press(" ")
    qa.wait_for_function(f"() => Math.abs({AGENT}.currentTime - 8.5) < 0.4", timeout=5_000)
    qa.evaluate(f"() => {AGENT}.pause()")
    # a radio button has the focus (no text is typed there): A selects the alert, Shift+C and
    # C with Caps Lock (key "C", no Shift) confirm it
    qa.focus("#alerts input[type=radio]")
    qa.keyboard.press("a")
    qa.wait_for_selector("#alerts .alert.selected")
    qa.evaluate("() => document.activeElement.blur()")
    qa.keyboard.press("F")
    assert qa.locator("#alerts .alert.selected input[value=false_alarm]").is_checked()
    qa.keyboard.press("Shift+C")
    assert qa.locator("#alerts .alert.selected input[value=confirmed]").is_checked()
    # Space on the Save button saves
    qa.focus("#save")
    qa.keyboard.press(" ")
    qa.wait_for_selector("#save-status:has-text('Saved at')")
    assert qa.errors == [], qa.errors


def test_over_long_notes_and_comments_are_refused_in_words(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-call")
    posts: list[str] = []
    qa.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    qa.fill("#notes", "x" * 20_001)
    qa.click("#save")
    qa.wait_for_selector("#save-status.error")
    assert (
        qa.locator("#save-status").inner_text() == "Error: Notes too long: 20001 characters, at most 20000."
    )
    assert qa.locator("#notes-count").inner_text() == "20001 / 20000"
    qa.fill("#notes", "ok")
    qa.fill("#scorecard input[name=comment-respect]", "y" * 2_001)
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('Comment (Respectful')")
    assert "2001 characters, at most 2000" in qa.locator("#save-status").inner_text()
    assert posts == []  # refused before sending: the text is all still in the page
    assert qa.locator("#scorecard input[name=comment-respect]").input_value() == "y" * 2_001
    assert qa.errors == [], qa.errors


def test_a_failed_take_is_a_message_not_a_script_error(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    admin = _review(browser, url, "rv-unqueued", "admin1")
    admin.click("#take")
    admin.wait_for_selector("#save-status.error:has-text('not in the QA queue')")
    admin.wait_for_timeout(300)
    assert admin.errors == [], admin.errors


def test_peaks_of_a_missing_recording_do_not_show_the_server_path(server: tuple[str, str]) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:
        login(client, "qa1")
        r = client.get("/api/calls/rv-missing/recordings/agent/peaks?buckets=100")
    assert r.status_code == 404, r.text
    detail = r.json()["detail"]
    assert detail == "the agent recording of call 'rv-missing' is missing on the server", detail
    assert "/" not in detail


def test_a_missing_recording_is_said_once_per_leg_in_the_page_language(
    server: tuple[str, str], browser: Any
) -> None:
    url, _ = server
    qa = signed_in_page(browser, url, "qa1", "/qa/calls/rv-missing", locale="zh-CN")
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    qa.wait_for_function("() => document.querySelectorAll('.recording-error').length === 2", timeout=15_000)
    qa.wait_for_timeout(300)  # the waveform's peaks (404) come in too: no further message
    texts = sorted(qa.locator("main .error").all_inner_texts())  # in the order the legs failed
    assert texts == sorted(
        ["坐席录音无法播放（缺失或无法读取）。", "债务人录音无法播放（缺失或无法读取）。"]
    ), texts
    qa.locator(".word").nth(3).click()  # the transcript still seeks
    assert qa.locator(".word.now").count() == 1
    assert qa.errors == [], qa.errors


def test_a_waveform_answered_503_is_asked_again_not_called_unplayable(
    server: tuple[str, str], browser: Any
) -> None:
    """A server busy for a moment (503 with Retry-After, as for a locked database) on each leg's
    first peaks request: the page says it tries again and draws both legs, never "cannot be
    played" (it said so of recordings that were fine)."""
    url, _ = server
    qa = _review(browser, url, "rv-call")
    busy: list[str] = []

    def first_busy(route: Any) -> None:
        leg = route.request.url.split("/recordings/")[1].split("/")[0]
        if leg in busy:
            route.continue_()
            return
        busy.append(leg)
        route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/json"},
            body='{"detail": "the database is not available right now"}',
        )

    qa.route(re.compile(r"/recordings/(agent|debtor)/peaks"), first_busy)
    qa.reload()
    qa.wait_for_selector(".wave-note:has-text('trying again')", timeout=15_000)
    qa.wait_for_selector("#waveform[data-drawn='2']", timeout=15_000)
    assert sorted(busy) == ["agent", "debtor"]
    assert qa.locator(".recording-error").count() == 0 and qa.locator(".wave-note").count() == 0
    assert qa.errors == [], qa.errors


def _finished_at(url: str, call_id: str) -> str | None:
    with httpx.Client(base_url=url) as client:
        login(client, "qa1")
        reviews = client.get(f"/api/calls/{call_id}").json()["reviews"]
    return next(r["finished_at"] for r in reviews if r["reviewer"] == "qa1")


def test_saving_a_finished_review_as_a_draft_asks_first(server: tuple[str, str], browser: Any) -> None:
    url, _ = server
    qa = _review(browser, url, "rv-finished")
    for select in qa.locator("#scorecard select.score").all():
        select.select_option(index=select.locator("option").count() - 1)  # the highest score
    qa.click("#save-done")
    qa.wait_for_selector("#save-status:has-text('Saved at')")
    finished = _finished_at(url, "rv-finished")
    assert finished is not None
    assert _reload(qa) == []
    assert "Review finished" in qa.locator("#save-status").inner_text()
    posts: list[str] = []
    qa.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    dialogs: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    dismiss = answer(False)
    qa.on("dialog", dismiss)
    qa.keyboard.press("s")  # cancelled: nothing sent, the review stays finished
    qa.wait_for_selector("#save-status:has-text('stays finished')")
    qa.remove_listener("dialog", dismiss)
    assert len(dialogs) == 1 and "reopens it" in dialogs[0], dialogs
    assert posts == []
    assert _finished_at(url, "rv-finished") == finished
    accept = answer(True)
    qa.on("dialog", accept)
    qa.click("#save")  # confirmed: saved as a draft, reopened
    qa.wait_for_selector("#save-status:has-text('Saved at')")
    qa.remove_listener("dialog", accept)
    assert len(dialogs) == 2 and len(posts) == 1, (dialogs, posts)
    assert _finished_at(url, "rv-finished") is None
    with qa.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/review")):
        qa.click("#save")  # a draft again: saved without asking
    assert len(dialogs) == 2 and len(posts) == 2, (dialogs, posts)
    assert qa.errors == [], qa.errors


def test_an_html_error_page_from_a_proxy_is_said_as_such(server: tuple[str, str], browser: Any) -> None:
    """The proxy is a fake (Playwright answers the save in its place): no reverse proxy runs here."""
    url, _ = server
    qa = _review(browser, url, "rv-call")
    page = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    qa.route(
        "**/api/qa/calls/rv-call/review",
        lambda route: route.fulfill(status=502, body=page, content_type="text/html"),
    )
    qa.click("#save")
    qa.wait_for_selector("#save-status.error:has-text('502')")
    said = qa.locator("#save-status").inner_text()
    assert "proxy" in said and "JSON" not in said and "Unexpected token" not in said, said
    assert qa.errors == [], qa.errors
