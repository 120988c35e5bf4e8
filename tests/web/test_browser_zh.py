"""The Chinese interface, page by page and role by role, in Debian's Chromium (Playwright).

Data: a finished zh call stored through the real repository API, whose agent line is **scripted**
Chinese text (not recognised: no Chinese model exists on the development machines) checked by
the real zh rule pack and fused by the real fusion policy, so its rule titles, reasons and
compliant replies are the pack's own; its audio is an excerpt of the real phone call of the
shared data. Then a live zh call (the same real audio, ``lang: zh``) is streamed into the server,
which has no zh model: it is recorded, not transcribed.

Screenshots go to ``artifacts/screenshots/zh-*.png`` (git-ignored).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.pipeline.fusion import Fusion
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.recordings import RecordingWriter, recording_path
from agent_monitor.storage.repo.transcripts import save_utterance
from qa_rules import load_rules_from_settings
from tests.web.browser_support import shot as take_shot
from tests.web.browser_support import submit_sign_in, watched_page
from tests.web.ui_support import replay, ui_server

SCRIPTED_AGENT_LINE = "你这个骗子，再不还钱就让你好看"  # scripted text, not recognizer output
STORED = "zh-stored-1"
LIVE = "zh-live-1"


def add_zh_call(settings: Settings, db: Any, data_dir: Path, audio: CallAudio) -> list[str]:
    """The stored zh call of agent A-1 (see the module documentation); returns its rule titles."""
    ruleset = load_rules_from_settings(settings)
    hits = ruleset.check(SCRIPTED_AGENT_LINE, "zh", Leg.AGENT, utterance=0)
    assert hits, "the zh pack should flag the scripted line"
    fusion = Fusion(settings.live.fusion)
    stressed = StressSample(5.0, 82.0, StressLevel.HIGH, BaselineStatus.RELATIVE, None, 1.0, Leg.DEBTOR)
    decisions = [
        d
        for d in (fusion.on_stress(stressed), *(fusion.on_hit(HitStatus.CONFIRMED, h, 6.0) for h in hits))
        if d
    ]
    started = datetime.now(UTC) - timedelta(hours=2)
    words = tuple(Word(c, 4.0 + 0.2 * i, 4.18 + 0.2 * i, 0.9) for i, c in enumerate(SCRIPTED_AGENT_LINE))
    with db.session() as s:
        repo.start_call(s, STORED, "A-1", source_protocol="ws-ingest", started_at=started, lang="zh")
        save_utterance(
            s, STORED, Transcript(Leg.AGENT, 0, 4.0, words[-1].end, SCRIPTED_AGENT_LINE, True, words, "zh")
        )
        for hit in hits:
            repo.save_rule_hit(s, STORED, hit, status=HitStatus.CONFIRMED)
        for d in decisions:
            level = d.level
            reasons = [r.to_dict() for r in d.reasons]
            repo.raise_alert(s, STORED, level, reasons, raised_at_s=d.t, handoff=d.level is WarningLevel.RED)
        repo.add_stress_samples(s, STORED, [stressed])
        for leg in Leg:
            path = recording_path(data_dir, STORED, leg)
            repo.register_recording(s, STORED, leg, str(path), audio.sample_rate, started_at=started)
            writer = RecordingWriter(path, audio.sample_rate)
            writer.write((audio.agent if leg is Leg.AGENT else audio.debtor).astype("<i2").tobytes())
            info = writer.close()
            repo.close_recording(
                s,
                STORED,
                leg,
                bytes_written=info.bytes_written,
                samples_written=info.samples_written,
                sha256=info.sha256,
            )
        repo.end_call(s, STORED, ended_at=started + timedelta(seconds=20), status=CallStatus.ENDED)
        reason = "; ".join(r.text for r in decisions[-1].reasons[:3])  # as the live session words it
        repo.enqueue_for_qa(s, STORED, fusion.level, reason)
    return [h.title for h in hits]


@pytest.fixture(scope="module")
def audio(eval_data: Path) -> CallAudio:
    return load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0.0, 20.0)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, audio: CallAudio
) -> Iterator[tuple[str, Any, list[str]]]:
    with ui_server(base_settings, tmp_path_factory.mktemp("browser-zh")) as (url, app):
        settings = app.state.services.settings
        titles = add_zh_call(settings, app.state.services.db, settings.data_dir, audio)
        yield url, app, titles


def zh_page(browser: Any, url: str, user: str, path: str) -> Any:
    """Signed in as ``user`` in a browser that prefers Chinese (zh-CN), at ``path``."""
    page = watched_page(browser, locale="zh-CN")
    page.goto(url + path)
    assert page.locator("h1").inner_text() == "登录"
    submit_sign_in(page, user, then=url + path)
    return page


def shot(page: Any, name: str) -> None:
    take_shot(page, f"zh-{name}")


CHINESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}")


def test_chinese_pages_for_every_role(
    server: tuple[str, Any, list[str]], browser: Any, audio: CallAudio
) -> None:
    url, app, titles = server
    # agent: the latest call's warnings, titles and compliant replies from the zh pack
    agent = zh_page(browser, url, "agent1", "/agent")
    agent.wait_for_selector(".warning", timeout=15_000)
    assert agent.locator("#whoami").inner_text() == "agent1 (坐席)"
    assert agent.locator("[data-i18n='my_call']").inner_text() == "我当前的通话"
    shown = agent.locator(".warning h2").all_inner_texts()
    assert set(shown) <= set(titles) and shown
    assert "“" in agent.locator(".warning .instead").first.inner_text()  # the pack's Chinese reply
    shot(agent, "agent-panel")

    # QA: the queue with Chinese dates, then the review page
    qa = zh_page(browser, url, "qa1", "/qa")
    row = qa.locator(f"tr[data-call='{STORED}']")
    row.wait_for(timeout=15_000)
    assert CHINESE_DATE.search(row.inner_text()), row.inner_text()
    reason = row.locator("td.reason").inner_text()
    assert "（坐席）" in reason and " leg)" not in reason, reason  # the stored English wording, localised
    assert qa.locator("th").first.inner_text() == "通话"
    assert qa.locator("#whoami").inner_text() == "qa1 (质检员)"
    shot(qa, "qa-queue")
    row.locator("a.open").click()
    qa.wait_for_selector("body[data-ready='1']", timeout=15_000)
    header = qa.locator("p.muted").first.inner_text()
    assert CHINESE_DATE.search(header) and "已结束" in header, header
    reasons = qa.locator("#alerts .alert").all_inner_texts()
    assert any("债务人压力高（82/100）" in r for r in reasons), reasons  # the stress reason, in Chinese
    assert not any(" leg)" in r or "debtor stress" in r for r in reasons), reasons
    assert "用语文明，无威胁" in qa.locator("#scorecard").inner_text()
    shot(qa, "qa-review")

    # supervisor: a live zh call on a server without the zh model (recorded, not transcribed)
    supervisor = zh_page(browser, url, "sup1", "/supervisor")
    supervisor.wait_for_selector("body[data-live='1']", timeout=10_000)
    results: list[Any] = []
    streamer = threading.Thread(
        target=lambda: results.append(
            asyncio.run(
                replay(
                    url, app, audio.excerpt(0.0, 8.0), {"call_id": LIVE, "agent_id": "A-1", "lang": "zh"}, 1.0
                )
            )
        )
    )
    streamer.start()
    try:
        supervisor.wait_for_selector(f".tile[data-call='{LIVE}']", timeout=15_000)
        assert supervisor.locator("h1").first.inner_text() == "进行中的通话"
        assert supervisor.locator("#whoami").inner_text() == "sup1 (主管)"
        shot(supervisor, "supervisor-wall")
    finally:
        streamer.join(60)
    assert results and results[0].completed
    supervisor.wait_for_selector(f".tile[data-call='{LIVE}'].ended", timeout=30_000)

    # admin: users with Chinese role names
    admin = zh_page(browser, url, "admin1", "/admin")
    admin.wait_for_selector("#users tr[data-user='agent1']", timeout=10_000)
    assert admin.locator("#users tr[data-user='sup1'] td[data-role]").inner_text() == "主管"
    shot(admin, "admin")

    # error pages in Chinese: a page outside the role, a call that does not exist
    agent.goto(url + "/admin")
    assert agent.locator("h1").inner_text() == "无权访问"
    shot(agent, "error-403")
    qa.goto(url + "/qa/calls/no-such-call")
    assert qa.locator("h1").inner_text() == "页面不存在"
    for page in (agent, qa, supervisor, admin):
        assert page.errors == [], page.errors


def test_language_choice_is_kept_on_the_server_across_logout(
    server: tuple[str, Any, list[str]], browser: Any
) -> None:
    """An English-preferring browser switches to Chinese; after logout the sign-in page stays Chinese."""
    url, _, _ = server
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(url + "/qa")
    assert page.locator("h1").inner_text() == "Sign in"
    submit_sign_in(page, "qa1", then=url + "/qa")
    assert page.locator("#lang-toggle").inner_text() == "中文"
    page.click("#lang-toggle")
    page.wait_for_selector("html[lang='zh']")
    assert page.locator("h1").first.inner_text() == "质检队列"
    assert any(c["name"] == "am_lang" and c["value"] == "zh" for c in context.cookies())
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login.*"))
    assert page.locator("h1").inner_text() == "登录"  # the choice outlived the session
    shot(page, "login-after-logout")
    page.goto(url + "/login?lang=en")
    assert page.locator("h1").inner_text() == "Sign in"
    page.goto(url + "/login")
    assert page.locator("h1").inner_text() == "Sign in"  # ?lang= is remembered too
    context.close()


def test_error_pages_are_html_in_the_users_language_and_api_errors_stay_json(
    server: tuple[str, Any, list[str]],
) -> None:
    url, _, _ = server
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    page = httpx.get(url + "/no-such-page", headers=zh)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text and 'href="/login"' in page.text  # signed out: back to sign-in
    english = httpx.get(url + "/no-such-page", headers={"Accept-Language": "en-US"})
    assert english.status_code == 404 and "Not found" in english.text
    chosen = httpx.get(url + "/no-such-page", headers={**zh, "Cookie": "am_lang=en"})
    assert "Not found" in chosen.text  # the stored choice beats the browser's preference
    api = httpx.get(url + "/api/no-such-thing", headers=zh)
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    redirect = httpx.get(url + "/qa", headers=zh, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/login?next=%2Fqa"
