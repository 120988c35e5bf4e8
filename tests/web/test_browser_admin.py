"""Browser tests of administration and reports: Debian's Chromium driven by Playwright through the
admin page (users, teams, rule packs, audit log) and the reports page, on SQLite and on
PostgreSQL (when ``AGENT_MONITOR_TEST_POSTGRES_URL`` is set; required when ``CI=true``).

The stored calls are the UI tests' scripted calls (:func:`tests.web.ui_support.add_call`: real
recorded audio, scripted transcripts). Screenshots go to ``artifacts/screens/admin/`` and
``artifacts/screens/reports/`` (git-ignored), one set per database; the README's two pictures to
``artifacts/screens/docs/``."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.storage import WarningLevel, repo
from tests.web.backend_support import seeded_server
from tests.web.browser_support import signed_in_page
from tests.web.pack_support import banana_pack
from tests.web.ui_support import PASSWORD, add_call

SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
#: the small README pictures (copied to docs/screens/ by hand: a test run leaves tracked files alone)
DOCS = SCREENS / "docs"


def screen(page: Any, folder: str, name: str, backend: str) -> None:
    (SCREENS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / folder / f"{name}-{backend}.png"), full_page=True)


def _store(db: Any, data_dir: Path, clip: CallAudio) -> None:
    add_call(db, data_dir, "rep-t1-red", "A-1", clip, WarningLevel.RED)
    add_call(db, data_dir, "rep-t2-orange", "A-3", clip, WarningLevel.ORANGE)
    with db.session() as s:
        alert = repo.list_alerts(s, call_id="rep-t1-red")[0]
        repo.save_review(
            s, "rep-t1-red", "qa1", scorecard={"identification": 2}, verdicts={alert.id: "confirmed"}
        )


server = seeded_server("admin", _store, 4.0)


def test_admin_users_teams_packs_and_audit(server: tuple[str, str], browser: Any) -> None:
    url, backend = server
    watcher = signed_in_page(browser, url, "sup1", "/supervisor")  # signed out below by the admin
    page = signed_in_page(browser, url, "admin1", "/admin")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)

    # a supervisor without a team is refused with a clear message
    page.fill("#add-user input[name=username]", "sup3")
    page.fill("#add-user input[name=password]", "a long new password 5")
    page.select_option("#add-user select[name=role]", "supervisor")
    page.click("#add-user button[type=submit]")
    page.wait_for_selector("#user-msg.error:has-text('needs a team')")
    screen(page, "admin", "refused-supervisor-without-team", backend)

    # edit agent2: supervisor with an agent id is refused; without it, in team T2, accepted
    editor = "#user-editor"
    page.click("tr[data-user='agent2'] button.edit")
    page.select_option(f"{editor} select[name=role]", "supervisor")
    page.fill(f"{editor} input[name=team]", "T2")
    page.click("#save-user")
    page.wait_for_selector(f"{editor} .editor-msg.error:has-text('no agent id')")
    page.fill(f"{editor} input[name=agent_id]", "")
    page.click("#save-user")
    page.wait_for_selector(f"{editor} .editor-msg.ok")
    page.wait_for_selector("tr[data-user='agent2'] td[data-role='supervisor']")
    # an agent user's team is their agent's: editing it moves the agent
    assert page.locator("tr[data-user='agent1'] td").nth(3).inner_text() == "T1"
    page.click("tr[data-user='agent1'] button.edit")
    page.fill(f"{editor} input[name=team]", "T2")
    page.click("#save-user")
    page.wait_for_selector("tr[data-user='agent1'] td:nth-child(4):has-text('T2')")
    page.click("tr[data-user='agent1'] button.edit")
    page.fill(f"{editor} input[name=team]", "T1")
    page.click("#save-user")
    page.wait_for_selector("tr[data-user='agent1'] td:nth-child(4):has-text('T1')")
    # deactivate, then reactivate; reset a password; end sup1's sessions
    page.click("tr[data-user='agent2'] button.edit")
    page.click("#deactivate")
    page.wait_for_selector("tr[data-user='agent2'].inactive")
    # the open editor now offers to reactivate (it kept offering "Deactivate"), and back again
    page.wait_for_selector(f"{editor} #reactivate")
    assert page.locator(f"{editor} #deactivate").count() == 0
    page.click(f"{editor} #reactivate")
    page.wait_for_selector("tr[data-user='agent2']:not(.inactive)")
    page.wait_for_selector(f"{editor} #deactivate")
    assert page.locator(f"{editor} #reactivate").count() == 0
    page.click("tr[data-user='qa1'] button.edit")
    page.fill(f"{editor} input[name=new_password]", PASSWORD + " changed")
    page.click("#reset-password")
    page.wait_for_selector(f"{editor} .editor-msg.ok")
    page.click("tr[data-user='sup1'] button.edit")
    page.click("#end-sessions")
    page.wait_for_selector(f"{editor} .editor-msg.ok")
    screen(page, "admin", "users", backend)
    # sup1's open page is signed out: its live connection finds the session gone and goes to the
    # login page by itself, or the next load does. A reload can race the page's own navigation
    # (either may cancel the other, and the reload can return before the login page is
    # committed), so the login page is waited for after it too: a page still signed in never gets there
    try:
        watcher.wait_for_url(re.compile(r"/login"), timeout=5_000)
    except PlaywrightTimeout:
        watcher.goto(watcher.url)
        watcher.wait_for_url(re.compile(r"/login"), timeout=15_000)
    assert "/login" in watcher.url, watcher.url

    # teams: create with an agent and a supervisor, rename, move an agent
    page.fill("#create-team input[name=team_name]", "Night")
    page.select_option("#create-team select[name=agents]", ["A-3"])
    page.select_option("#create-team select[name=supervisor]", "sup2")
    page.click("#create-team-btn")
    page.wait_for_selector(".team[data-team='Night']")
    page.fill(".team[data-team='Night'] input[name=rename]", "Night shift")
    page.click(".team[data-team='Night'] button.rename")
    page.wait_for_selector(".team[data-team='Night shift']")
    page.select_option("#move-agent select[name=move_agent]", "A-2")
    page.select_option("#move-agent select[name=move_team]", "Night shift")
    page.click("#move-agent-btn")
    page.wait_for_selector(".team[data-team='Night shift']:has-text('A-2')")
    assert "sup2" in page.locator(".team[data-team='Night shift']").inner_text()
    page.locator("#teams-section").screenshot(path=str(SCREENS / "admin" / f"teams-{backend}.png"))

    # rule packs: relative paths, no server path; a broken pack names its file once
    page.wait_for_selector("#packs .pack:has-text('en/abuse.yaml')", timeout=20_000)
    assert str(Path(__file__).resolve().parents[2]) not in page.locator("#packs").inner_text()
    page.fill("#lint-text", "pack: x\n")
    page.click("#lint")
    page.wait_for_selector("#lint-result .pack.error")
    lint = page.locator("#lint-result").inner_text()
    assert lint.count("pack.yaml") == 1, lint
    page.fill("input[name=try_text]", "you are a stupid idiot, when can you pay the balance")
    page.click("#try")
    page.wait_for_selector("#try-result .hit", timeout=30_000)  # the installed packs, loaded on first use
    # a rule that waits for a fact of the call says so; an insult does not
    assert "represented" in page.locator("#try-result .hit[data-rule='EN-ATTY-2'] .after").first.inner_text()
    assert page.locator("#try-result .hit[data-rule='EN-INSULT-1'] .after").count() == 0
    page.select_option("select[name=try_source]", "box")  # the broken pack above: refused, saying why
    page.click("#try")
    page.wait_for_selector("#try-result .error:has-text('version')")
    page.locator("#packs-section").screenshot(path=str(SCREENS / "admin" / f"packs-{backend}.png"))

    # the audit log: every change above, and the chains verified
    page.click("#audit-verify")
    page.wait_for_selector("#chain-status[data-verified='1']")
    page.fill("input[name=action]", "agent_moved")
    page.click("#audit-filter")
    page.wait_for_selector("#audit tbody[data-loaded='1'] tr[data-action='agent_moved']")
    moved = page.locator("#audit tbody tr[data-action='agent_moved']").count()
    assert page.locator("#audit tbody tr").count() == moved == 3  # A-1 there and back, A-2
    page.fill("input[name=action]", "")
    page.click("#audit-filter")
    page.wait_for_selector("#audit tbody[data-loaded='1'] tr[data-action='login']")
    actions = (
        "user_updated",
        "sessions_ended",
        "team_created",
        "team_renamed",
        "agent_moved",
        "rule_pack_tried",
    )
    for action in actions:
        assert page.locator(f"#audit tr[data-action='{action}']").count() >= 1, action
    page.locator("#audit-section").screenshot(path=str(SCREENS / "admin" / f"audit-{backend}.png"))
    screen(page, "admin", "page", backend)
    if backend == "sqlite":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 700})
        page.locator("#users-section").screenshot(path=str(DOCS / "admin.png"))
    assert page.errors == [] and watcher.errors == [], (page.errors, watcher.errors)


def test_reports_page_charts_csv_and_team_scope(server: tuple[str, str], browser: Any) -> None:
    url, backend = server
    page = signed_in_page(browser, url, "admin1", "/reports")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert page.locator("#chart-levels rect").count() >= 2  # drawn in the page (SVG), no CDN
    assert page.locator("#chart-precision rect").count() == 1
    assert page.locator("#agents tr[data-key='A-1']").count() == 1
    suggestion = page.locator("#rules tr[data-rule='abuse.insult'] .suggestion").inner_text()
    assert suggestion.startswith("too few verdicts"), suggestion
    with page.expect_download() as download:
        page.click("a.csv[data-table='teams']")
    assert re.fullmatch(
        r"report-teams-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename
    )
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    # reports group by the agents' teams as they are now: A-3 moved to "Night shift" above
    assert {r["team"]: r["calls"] for r in rows} == {"T1": "1", "Night shift": "1"}
    screen(page, "reports", "admin", backend)
    if backend == "sqlite":
        page.set_viewport_size({"width": 1100, "height": 700})
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "reports.png"))

    # a supervisor reads their own team only (sup2 was assigned to "Night shift" above)
    sup = signed_in_page(browser, url, "sup2", "/reports")
    sup.wait_for_selector("body[data-ready='1']", timeout=15_000)
    keys = sup.locator("#agents tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert keys and all(k in ("A-3",) for k in keys), keys
    screen(sup, "reports", "supervisor", backend)
    assert page.errors == [] and sup.errors == [], (page.errors, sup.errors)


SHOP_PACK = banana_pack("shop", "SHOP-1")


def test_rule_pack_upload_disable_enable(server: tuple[str, str], browser: Any, tmp_path: Path) -> None:
    url, backend = server
    page = signed_in_page(browser, url, "admin1", "/admin")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.wait_for_selector("#packs .pack[data-file='en/abuse.yaml'][data-enabled='1']", timeout=20_000)
    # a pack that does not lint is refused with the lint error, nothing stored
    page.fill("#lint-text", "pack: x\n")
    page.click("#upload-pack")
    page.wait_for_selector("#pack-msg.error:has-text('version')")
    assert page.locator("#uploaded-packs .pack").count() == 0
    # a pack file chosen from disk goes into the box, is uploaded as version 1 and is on
    pack_file = tmp_path / "shop.yaml"
    pack_file.write_text(SHOP_PACK, encoding="utf-8")
    page.set_input_files("#pack-file", str(pack_file))
    page.wait_for_function("() => document.querySelector('#lint-text').value.startsWith('pack: shop')")
    page.click("#upload-pack")
    shop = "#uploaded-packs .pack[data-pack='shop']"
    page.wait_for_selector(f"{shop}[data-enabled='1'] tr[data-version='1']")
    # disable and enable it again; then an installed file off and on
    page.click(f"{shop} button.toggle")
    page.wait_for_selector(f"{shop}[data-enabled='0']")
    page.click(f"{shop} button.toggle")
    page.wait_for_selector(f"{shop}[data-enabled='1']")
    # version 2 from the box, then back to version 1
    page.fill("#lint-text", SHOP_PACK.replace("1.0.0", "1.1.0").replace("banana", "mango"))
    page.click("#upload-pack")
    page.wait_for_selector(f"{shop} tr[data-version='2']:has-text('admin1'):not(:has(button))")
    page.click(f"{shop} tr[data-version='1'] button.use-version")
    page.wait_for_selector(f"{shop}[data-enabled='1'] tr[data-version='2'] button.use-version")
    abuse = "#packs .pack[data-file='en/abuse.yaml']"
    page.click(f"{abuse} button.toggle")
    page.wait_for_selector(f"{abuse}[data-enabled='0']:has-text('admin1')")
    page.click(f"{abuse} button.toggle")
    page.wait_for_selector(f"{abuse}[data-enabled='1']")
    # who changed what, newest first
    page.wait_for_selector("#pack-changes tr:nth-child(7)")
    rows = [page.locator("#pack-changes tr").nth(i).inner_text() for i in range(7)]
    expected = [
        ("rule_pack_enabled", "en/abuse.yaml"),
        ("rule_pack_disabled", "en/abuse.yaml"),
        ("rule_pack_rolled_back", "shop"),
        ("rule_pack_uploaded", "shop"),
        ("rule_pack_enabled", "shop"),
        ("rule_pack_disabled", "shop"),
        ("rule_pack_uploaded", "shop"),
    ]
    for row, (action, pack) in zip(rows, expected, strict=True):
        assert "admin1" in row and action in row and pack in row, (row, action, pack)
    page.locator("#packs-section").screenshot(path=str(SCREENS / "admin" / f"pack-versions-{backend}.png"))
    assert page.errors == [], page.errors
