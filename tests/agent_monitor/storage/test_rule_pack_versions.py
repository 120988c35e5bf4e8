"""Uploaded rule pack versions and switches of installed pack files (SQLite and PostgreSQL):
versions are added, never overwritten; one version at most is enabled; every change is audited."""

from __future__ import annotations

import hashlib

import pytest

from agent_monitor.errors import NotFoundError
from agent_monitor.model.stages import UploadedPack
from agent_monitor.storage import Database, repo

V1 = "pack: shop\nversion: 1.0.0\nrules: []\n"
V2 = "pack: shop\nversion: 1.1.0\nrules: []\n"


def _changes(db: Database) -> list[tuple[str, str, str | None, dict | None]]:
    with db.session() as s:
        entries = repo.list_audit(s, object_type="rule_pack", limit=100)
        return [(e.actor, e.action, e.object_id, e.detail) for e in reversed(entries)]


def test_uploads_add_versions_and_keep_history(db: Database) -> None:
    with db.session() as s:
        first = repo.add_pack_version(s, "shop", V1, "admin1")
        digest = hashlib.sha256(V1.encode()).hexdigest()
        assert (first.version, first.enabled, first.sha256) == (1, True, digest)
    with db.session() as s:
        second = repo.add_pack_version(s, "shop", V2, "admin2")
        assert second.version == 2
    with db.session() as s:
        rows = repo.list_pack_versions(s)
        assert [(r.version, r.text, r.uploaded_by, r.enabled) for r in rows] == [
            (1, V1, "admin1", False),
            (2, V2, "admin2", True),
        ]
        assert repo.pack_selection(s).uploaded == (UploadedPack("shop", 2, V2),)
    assert [(a, act, o, None if d is None else d["version"]) for a, act, o, d in _changes(db)] == [
        ("admin1", "rule_pack_uploaded", "shop", 1),
        ("admin2", "rule_pack_uploaded", "shop", 2),
    ]


def test_disable_enable_and_roll_back(db: Database) -> None:
    with db.session() as s:
        repo.add_pack_version(s, "shop", V1, "admin1")
        repo.add_pack_version(s, "shop", V2, "admin1")
    with db.session() as s:
        assert repo.set_pack_enabled(s, "shop", False, "admin2") is None
        assert repo.pack_selection(s).uploaded == ()
    with db.session() as s:
        rolled = repo.set_pack_enabled(s, "shop", True, "admin2", version=1)
        assert rolled is not None and rolled.version == 1
        assert repo.pack_selection(s).uploaded == (UploadedPack("shop", 1, V1),)
    with db.session() as s:
        latest = repo.set_pack_enabled(s, "shop", True, "admin3")
        assert latest is not None and latest.version == 2
        assert [r.enabled for r in repo.list_pack_versions(s)] == [False, True]
    assert [(a, act, d) for a, act, _, d in _changes(db)][2:] == [
        ("admin2", "rule_pack_disabled", {}),
        ("admin2", "rule_pack_rolled_back", {"version": 1}),
        ("admin3", "rule_pack_enabled", {"version": 2}),
    ]


def test_unknown_pack_or_version_is_not_found(db: Database) -> None:
    with db.session() as s:
        repo.add_pack_version(s, "shop", V1, "admin1")
    with pytest.raises(NotFoundError), db.session() as s:
        repo.set_pack_enabled(s, "nope", True, "admin1")
    with pytest.raises(NotFoundError), db.session() as s:
        repo.set_pack_enabled(s, "shop", True, "admin1", version=7)
    with db.session() as s:
        assert [r.enabled for r in repo.list_pack_versions(s)] == [True]  # nothing changed


def test_file_switches(db: Database) -> None:
    with db.session() as s:
        repo.set_file_enabled(s, "en/abuse.yaml", False, "admin1")
        assert repo.pack_selection(s).disabled_files == frozenset({"en/abuse.yaml"})
    with db.session() as s:
        row = repo.set_file_enabled(s, "en/abuse.yaml", True, "admin2")
        assert (row.enabled, row.changed_by) == (True, "admin2")
        assert repo.pack_selection(s).disabled_files == frozenset()
    assert [(a, act, o) for a, act, o, _ in _changes(db)] == [
        ("admin1", "rule_pack_disabled", "en/abuse.yaml"),
        ("admin2", "rule_pack_enabled", "en/abuse.yaml"),
    ]
