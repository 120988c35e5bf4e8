"""Rule packs administered through the real application (real SQLite database, real Vosk model,
real rule packs): upload (linted first, stored as a new version), enable / disable / roll back,
and the rule set that calls started afterwards are checked with. Calls are started in the real
call manager; their agent leg's checker is fed a final transcript (the text-level check)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import HitStatus
from agent_monitor.model.session import CallInfo
from agent_monitor.model.transcript import Transcript
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import Principal, add_users, app_settings, running, sign_in

REPO = Path(__file__).resolve().parents[2]


def pack(version: str, phrase: str, rule: str = "SHOP-1") -> str:
    return f"""pack: shop
version: {version}
rules:
  - id: {rule}
    title: Says {phrase}
    category: profanity
    severity: yellow
    languages: [en]
    leg: agent
    patterns:
      - "{phrase}"
    citation: test
    compliant: say something else
    examples:
      positive: ["a {phrase} for you"]
      negative: ["an apple for you"]
"""


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[tuple[TestClient, Principal]]:
    data = tmp_path_factory.mktemp("packs") / "data"
    with running(app_settings(base_settings, data)) as client:
        add_users(client)
        yield client, sign_in(client, "admin1")


def _call(client: TestClient, who: Principal, method: str, url: str, body: Any = None) -> Any:
    r = client.request(method, url, headers=who.headers(), json=body)
    client.cookies.clear()
    return r


_calls = itertools.count()
_utterances = itertools.count(100)


def start_call(client: TestClient) -> Any:
    """A call started now in the real call manager (the rule set in use at its start)."""
    manager = client.app.state.services.manager  # type: ignore[attr-defined]
    info = CallInfo(call_id=f"pk-call-{next(_calls)}", agent_id="A-ONE")
    return client.portal.call(manager.start_call, info)  # type: ignore[union-attr]


def rules_hit(session: Any, text: str) -> set[str]:
    """The rules confirmed on the call's agent leg for one final utterance ``text``."""
    checker = session.legs[Leg.AGENT].checker
    n = next(_utterances)  # a new utterance each time, early in the call (no must-say rule due)
    events = checker.update(Transcript(Leg.AGENT, n, 0.1, 0.9, text, True))
    return {e.hit.rule for e in events if e.status is HitStatus.CONFIRMED}


def tried(client: TestClient, admin: Principal, text: str) -> set[str]:
    """The rules "try on text" finds with the rule set in use (no pack given)."""
    r = _call(client, admin, "POST", "/api/admin/rules/try", {"text": text, "lang": "en"})
    assert r.status_code == 200, r.text
    return {h["rule"] for h in r.json()["hits"]}


def _audit(client: TestClient) -> list[tuple[str, str | None, Any]]:
    with client.app.state.services.db.session() as s:  # type: ignore[attr-defined]
        entries = repo.list_audit(s, object_type="rule_pack", limit=100)
        return [(e.action, e.object_id, e.detail) for e in reversed(entries) if e.action != "rule_pack_tried"]


def test_try_on_text_says_which_hits_wait_for_a_fact_of_the_call(world: tuple[TestClient, Principal]) -> None:
    """A rule that waits for a fact of the call (``after: represented``) is tried as if the fact
    had been said; each hit now says which fact (it looked like a hit on any call), from the
    installed packs and from a pack in the box alike; every other hit says none."""
    client, admin = world
    text = "when can you make a payment on the balance, you idiot"
    installed = _call(client, admin, "POST", "/api/admin/rules/try", {"text": text, "lang": "en"})
    assert installed.status_code == 200, installed.text
    after = {h["rule"]: h["after"] for h in installed.json()["hits"]}
    assert after["EN-ATTY-2"] == "represented" and after["EN-TIME-3"] == "inconvenient", after
    assert after["EN-3P-2"] == "wrong_party" and after["EN-INSULT-1"] is None, after
    compliance = (REPO / "qa_rules" / "packs" / "en" / "compliance.yaml").read_text(encoding="utf-8")
    body = {"text": text, "lang": "en", "pack": compliance}
    boxed = _call(client, admin, "POST", "/api/admin/rules/try", body)
    assert boxed.status_code == 200, boxed.text
    in_box = {h["rule"]: h["after"] for h in boxed.json()["hits"]}
    assert in_box == {k: v for k, v in after.items() if k.startswith(("EN-ATTY", "EN-TIME", "EN-3P"))}


def test_upload_refused_when_it_does_not_lint_or_clashes(world: tuple[TestClient, Principal]) -> None:
    client, admin = world
    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": "pack: x\n"})
    assert r.status_code == 422 and "version" in r.json()["detail"] and "/tmp" not in r.text, r.text
    clash = pack("1.0.0", "pineapple", rule="EN-INSULT-1")  # a rule id of the installed en/abuse.yaml
    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": clash})
    assert r.status_code == 422 and "EN-INSULT-1" in r.text and "en/abuse.yaml" in r.text, r.text
    assert "/tmp" not in r.text and "upload-" not in r.text, r.text
    listed = _call(client, admin, "GET", "/api/admin/rules/packs").json()
    assert listed["uploaded"] == [] and _audit(client) == []  # nothing stored, nothing audited


def test_upload_refused_for_a_key_given_twice_or_failing_examples(
    world: tuple[TestClient, Principal],
) -> None:
    """YAML keeps the last of two equal keys: the first rule list was lost without a word (201);
    a pack whose own examples fail was stored (201); YAML nested too deeply was a 500."""
    client, admin = world
    twice = pack("1.0.0", "banana") + "rules:\n" + pack("1.0.0", "mango").split("rules:\n")[1]
    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": twice})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "pack.yaml: field 'rules': key given twice (lines 3 and 17): YAML would keep only the last one"
    )
    r = _call(client, admin, "POST", "/api/admin/rules/try", {"text": "a banana", "pack": twice})
    assert r.status_code == 422 and "key given twice (lines 3 and 17)" in r.text, r.text

    failing = pack("1.0.0", "banana").replace(
        'negative: ["an apple for you"]', 'negative: ["a banana split"]'
    )
    failing = failing.replace('positive: ["a banana for you"]', 'positive: ["a mango for you"]')
    expected = (
        "pack.yaml: 2 examples of its rules fail: "
        "rule SHOP-1 [en] example 'a mango for you': expected a hit, got none; "
        "rule SHOP-1 [en] example 'a banana split': expected no hit, got one"
    )
    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": failing})
    assert r.status_code == 422 and r.json()["detail"] == expected, r.text
    check = _call(client, admin, "POST", "/api/admin/rules/lint", {"text": failing}).json()
    assert (
        not check["ok"] and check["name"] == "shop" and check["error"] == expected.removeprefix("pack.yaml: ")
    )

    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": "[" * 100_000})
    assert r.status_code == 422 and "nested too deeply" in r.json()["detail"], r.text
    listed = _call(client, admin, "GET", "/api/admin/rules/packs").json()
    assert listed["uploaded"] == [] and _audit(client) == []  # nothing stored, nothing audited


def test_upload_enable_disable_roll_back(world: tuple[TestClient, Principal]) -> None:
    client, admin = world
    before = start_call(client)
    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": pack("1.0.0", "banana")})
    assert r.status_code == 201 and r.json()["version"] == 1 and r.json()["enabled"], r.text
    on = start_call(client)
    assert rules_hit(on, "here is a banana for you") == {"SHOP-1"}
    assert rules_hit(before, "here is a banana for you") == set()  # started before the upload

    r = _call(client, admin, "PUT", "/api/admin/rules/packs/shop", {"enabled": False})
    assert r.status_code == 200 and not r.json()["enabled"], r.text
    off = start_call(client)
    assert rules_hit(off, "here is a banana for you") == set()
    assert tried(client, admin, "here is a banana for you") == set()
    assert rules_hit(on, "one more banana for you") == {"SHOP-1"}  # a running call keeps its rules

    r = _call(client, admin, "PUT", "/api/admin/rules/packs/shop", {"enabled": True})
    assert r.status_code == 200, r.text
    assert rules_hit(start_call(client), "a banana for you") == {"SHOP-1"}
    assert tried(client, admin, "here is a banana for you") == {"SHOP-1"}

    r = _call(client, admin, "POST", "/api/admin/rules/packs", {"text": pack("1.1.0", "mango")})
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    v2 = start_call(client)
    assert rules_hit(v2, "a banana for you") == set() and rules_hit(v2, "a mango for you") == {"SHOP-1"}

    r = _call(client, admin, "PUT", "/api/admin/rules/packs/shop", {"enabled": True, "version": 1})
    assert r.status_code == 200, r.text
    v1 = start_call(client)
    assert rules_hit(v1, "a banana for you") == {"SHOP-1"} and rules_hit(v1, "a mango for you") == set()

    listed = _call(client, admin, "GET", "/api/admin/rules/packs").json()
    (shop,) = listed["uploaded"]
    versions = [(v["version"], v["uploaded_by"], v["enabled"]) for v in shop["versions"]]
    assert versions == [(1, "admin1", True), (2, "admin1", False)]
    newest = listed["changes"][0]
    assert (newest["actor"], newest["action"]) == ("admin1", "rule_pack_rolled_back")
    assert [(a, o) for a, o, _ in _audit(client)] == [
        ("rule_pack_uploaded", "shop"),
        ("rule_pack_disabled", "shop"),
        ("rule_pack_enabled", "shop"),
        ("rule_pack_uploaded", "shop"),
        ("rule_pack_rolled_back", "shop"),
    ]
    r = _call(client, admin, "PUT", "/api/admin/rules/packs/shop", {"enabled": True, "version": 9})
    assert r.status_code == 404, r.text


def test_installed_file_disabled_and_enabled(world: tuple[TestClient, Principal]) -> None:
    client, admin = world
    line = "you are a stupid idiot"
    assert "EN-INSULT-1" in rules_hit(start_call(client), line)
    r = _call(client, admin, "PUT", "/api/admin/rules/files", {"file": "en/abuse.yaml", "enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["changed_by"] == "admin1", (
        r.text
    )
    assert not any(rule.startswith("EN-") for rule in rules_hit(start_call(client), line))
    assert not any(rule.startswith("EN-") for rule in tried(client, admin, line))
    files = {
        f["file"]: f["enabled"] for f in _call(client, admin, "GET", "/api/admin/rules/packs").json()["files"]
    }
    assert files["en/abuse.yaml"] is False and files["en/compliance.yaml"] is True
    r = _call(client, admin, "PUT", "/api/admin/rules/files", {"file": "en/abuse.yaml", "enabled": True})
    assert r.status_code == 200, r.text
    assert "EN-INSULT-1" in rules_hit(start_call(client), line)
    r = _call(client, admin, "PUT", "/api/admin/rules/files", {"file": "/etc/passwd", "enabled": False})
    assert r.status_code == 404 and "/etc/passwd" in r.text, r.text


def test_choices_survive_a_restart(tmp_path: Any, base_settings: Settings, real_call: CallAudio) -> None:
    settings = app_settings(base_settings, tmp_path / "data")
    with running(settings) as client:
        add_users(client)
        admin = sign_in(client, "admin1")
        assert (
            _call(
                client, admin, "POST", "/api/admin/rules/packs", {"text": pack("1.0.0", "papaya")}
            ).status_code
            == 201
        )
        off = {"file": "en/abuse.yaml", "enabled": False}
        assert _call(client, admin, "PUT", "/api/admin/rules/files", off).status_code == 200
    with running(settings) as client:  # a new server process on the same database
        hits = rules_hit(start_call(client), "a papaya for you, you stupid idiot")
        assert "SHOP-1" in hits and not any(rule.startswith("EN-") for rule in hits), hits
