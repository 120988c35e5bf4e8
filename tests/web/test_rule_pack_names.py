"""Uploaded rule packs' names on both databases: a ``pack:`` name with ``/`` can be switched off
and rolled back (its route split at the slash: 404 "Not Found", the pack stayed on); a new name
longer than the storage column (100 characters: a 500 on PostgreSQL, taken on SQLite), ``..`` or
one with a bidirectional or invisible character is refused (422), and nothing is stored; a pack
stored before that rule still loads and is switched off by its name."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent_monitor.settings import Settings
from agent_monitor.storage.tables import RulePackVersion
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.pack_support import banana_pack
from tests.web.ui_support import login


def pack(name: str, version: str = "0.1.0") -> str:
    return banana_pack(name, "NAMED-1", version)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pack_names_are_usable_on_both_databases(
    backend: str, base_settings: Settings, tmp_path: Path
) -> None:
    with ui_server_on(backend, base_settings, tmp_path) as (url, app), httpx.Client(base_url=url) as c:
        csrf = login(c, "admin1")
        for version in ("0.1.0", "0.2.0"):
            r = c.post("/api/admin/rules/packs", json={"text": pack("acme/custom", version)}, headers=csrf)
            assert r.status_code == 201, r.text
        r = c.put("/api/admin/rules/packs/acme%2Fcustom", json={"enabled": True, "version": 1}, headers=csrf)
        assert r.status_code == 200 and r.json()["name"] == "acme/custom", r.text
        assert [v["enabled"] for v in r.json()["versions"]] == [True, False], r.text
        r = c.put("/api/admin/rules/packs/acme%2Fcustom", json={"enabled": False}, headers=csrf)
        assert r.status_code == 200 and r.json()["enabled"] is False, r.text
        for name, said in (("p" * 101, "at most 100 characters"), ("a\u202eb", "U+202E"), ("..", "'..'")):
            r = c.post("/api/admin/rules/packs", json={"text": pack(name)}, headers=csrf)
            assert r.status_code == 422 and said in r.json()["detail"], (r.status_code, r.text[:300])
        names = {p["name"] for p in c.get("/api/admin/rules/packs").json()["uploaded"]}
        assert names == {"acme/custom"}, names
        with app.state.services.db.session() as s:  # stored before the rule
            s.add(RulePackVersion(name="a\u202eb", version=1, text=pack("a\u202eb"), sha256="0" * 64,
                                  uploaded_by="admin1", enabled=True))  # fmt: skip
        r = c.put("/api/admin/rules/files", json={"file": "en/abuse.yaml", "enabled": True}, headers=csrf)
        assert r.status_code == 200, r.text  # the rule set with it still builds
        r = c.put("/api/admin/rules/packs/a%E2%80%AEb", json={"enabled": False}, headers=csrf)
        assert r.status_code == 200 and r.json()["enabled"] is False, r.text
