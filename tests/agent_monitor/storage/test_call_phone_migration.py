"""Migration 0015 adds ``call_phones`` (a call's phone number as its digits, for the frequency rule
of calls that name neither debtor nor debt), filled for the calls a database already holds: their
rows, digests and the evidence chain stay as they were; downgrading drops the table. Migration
0016 keys them again, a number written without a country code read in the country of the call's
jurisdiction (``555-123-4567`` of a US call is ``+1 555 123 4567``); downgrading keys them as
written again. The frozen copies of the rule in the migrations agree with the application's. On
SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from agent_monitor.cli import main
from agent_monitor.model.calls import call_phone_key
from agent_monitor.model.identifiers import phone_key
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.evidence import verify_phone_keys
from agent_monitor.storage.migrate import alembic_config, head_revision, upgrade_database
from agent_monitor.storage.tables import CallPhone
from tests.agent_monitor.storage.evidence_support import chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
LOG_SQL = "SELECT id, kind, ref, digest, row_hash FROM evidence_log ORDER BY id"
#: numbers as diallers write them, and what they are matched by
NUMBERS = {
    "+1 (555) 123-4567": "15551234567",
    "0015551234567": "15551234567",
    " +00 1 555 123 4567": "0015551234567",  # a '+' then 00: the digits as written
    "555-123-4567": "5551234567",
    "+86 138 0013 8000": "8613800138000",
    "１３８００１３８０００": "13800138000",  # full-width digits
    "555-1234": "5551234",
    "anonymous": None,
    "123456": None,
    "ext. 42": None,
}


#: numbers written nationally, with the call's debtor_tz and language, and their keys
NATIONAL = [
    ("555-123-4567", "America/Chicago", "en", "15551234567"),
    ("1 555 123 4567", "America/Chicago", "en", "15551234567"),  # the trunk prefix 1 written
    ("(555) 123-4567", None, "en", "15551234567"),  # no zone: an English call is a US call
    ("555-123-4567", "Asia/Shanghai,America/Chicago", "en", "5551234567"),  # first zone: PRC, no 0
    ("+1 555 123 4567", "Asia/Shanghai", "zh", "15551234567"),  # international: as written
    ("138 0013 8000", "Asia/Shanghai", "zh", "8613800138000"),  # a mobile number
    ("010-1234-5678", None, "zh", "861012345678"),  # trunk prefix 0, Beijing
    ("0755 1234567", "Asia/Shanghai", "en", "867551234567"),  # the zone decides, not the language
    ("138 0013 8000", "America/Los_Angeles", "zh", "13800138000"),  # a US call: 11 digits with 1
    ("555-1234", "America/Chicago", "en", "5551234"),  # local, no area code: as written
    ("anonymous", "America/Chicago", "en", None),
]


def _migration(name: str = "0015_call_phones") -> ModuleType:
    path = Path(alembic_config().get_main_option("script_location") or "") / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_phone_key_reads_the_digits_and_the_migration_reads_them_alike() -> None:
    frozen, rekeyed = _migration().phone_key, _migration("0016_national_phone_keys").phone_key
    for number, key in NUMBERS.items():
        assert phone_key(number) == key, number
        assert frozen(number) == key, number
        assert rekeyed(number, None) == key, number


@pytest.mark.parametrize(("number", "zone", "lang", "key"), NATIONAL)
def test_a_national_number_is_keyed_as_the_international_one(
    number: str, zone: str | None, lang: str, key: str | None
) -> None:
    frozen = _migration("0016_national_phone_keys")
    assert call_phone_key(number, zone, lang) == key
    assert frozen.phone_key(number, frozen._country(zone, lang)) == key


def _log(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(LOG_SQL))]


def test_migration_0015_keys_the_stored_calls_and_leaves_the_evidence_as_it_was(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade_database(empty_db_url, "0014")
    db = Database.open(empty_db_url)
    try:
        with monkeypatch.context() as m:  # stored as revision 0014's code did: no key
            m.setattr("agent_monitor.storage.repo.calls.call_phone_key", lambda phone, zone, lang: None)
            for n, number in enumerate([*NUMBERS, None]):
                with db.session() as s:
                    at = T0 - timedelta(hours=n)
                    repo.start_call(
                        s, f"old-{n}", "A1", source_protocol="ws_ingest", started_at=at, debtor_phone=number
                    )
        before = _log(db)
        assert upgrade_database(empty_db_url, "0015") == "0015"
        assert _log(db) == before  # no call's digest changes; the keys are not sealed
        with db.session() as s:
            keyed = dict(s.execute(select(CallPhone.call_id, CallPhone.phone_key)).all())
            assert keyed == {f"old-{n}": key for n, key in enumerate(NUMBERS.values()) if key is not None}
            history = repo.debtor_calls_since(
                s, None, T0 - timedelta(days=1), besides="", phone_key="15551234567"
            )
            assert [r.call.id for r in history] == ["old-1", "old-0"]
        with db.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")
        assert "call_phones" not in inspect(db.engine).get_table_names()
        assert upgrade_database(empty_db_url, "0015") == "0015"  # and up again: keyed again
        with db.session() as s:
            assert len(s.scalars(select(CallPhone)).all()) == len(keyed)
        # (db verify reads the keys by the newest rule: at the head, after 0016 keyed them again)
        assert upgrade_database(empty_db_url) == head_revision()
        assert chain_problems(db) == []
    finally:
        db.dispose()


def _keys(db: Database) -> dict[str, str]:
    with db.session() as s:
        return dict(s.execute(select(CallPhone.call_id, CallPhone.phone_key)).all())


def test_migration_0016_keys_national_numbers_again_and_back(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade_database(empty_db_url, "0015")
    db = Database.open(empty_db_url)
    try:
        with monkeypatch.context() as m:  # stored as revision 0015's code did: digits as written
            m.setattr(
                "agent_monitor.storage.repo.calls.call_phone_key", lambda phone, zone, lang: phone_key(phone)
            )
            for n, (number, zone, lang, _) in enumerate(NATIONAL):
                with db.session() as s:
                    repo.start_call(
                        s,
                        f"old-{n}",
                        "A1",
                        source_protocol="ws_ingest",
                        started_at=T0 - timedelta(hours=n),
                        debtor_phone=number,
                        debtor_tz=zone,
                        lang=lang,
                    )
        as_written = _keys(db)
        assert as_written["old-0"] == "5551234567"
        before = _log(db)
        assert upgrade_database(empty_db_url) == head_revision()
        assert _log(db) == before  # the keys are derived, not sealed
        assert _keys(db) == {f"old-{n}": key for n, (*_, key) in enumerate(NATIONAL) if key is not None}
        with db.session() as s:  # the national and the international forms are one number now
            history = repo.debtor_calls_since(
                s, None, T0 - timedelta(days=1), besides="", phone_key="15551234567"
            )
            assert [r.call.id for r in history] == ["old-4", "old-2", "old-1", "old-0"]
            assert verify_phone_keys(s).problems == ()
        with db.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0015")
        assert _keys(db) == as_written
        assert upgrade_database(empty_db_url) == head_revision()
        assert chain_problems(db) == []
    finally:
        db.dispose()


@pytest.mark.parametrize("number", ["+1 555 123 4567", "anonymous", None])
def test_a_new_call_keeps_its_numbers_digits(db: Database, number: str | None) -> None:
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0, debtor_phone=number)
    with db.session() as s:
        rows = s.execute(select(CallPhone.call_id, CallPhone.phone_key)).all()
        assert rows == ([] if number is None or phone_key(number) is None else [("c1", "15551234567")])
        assert chain_problems(db) == []


def test_db_verify_finds_a_phone_key_changed_added_or_deleted(
    db_url: str,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The keys are derived, not sealed: ``db verify`` checks them against the sealed numbers (a
    changed key would move a call out of, or into, another number's frequency count)."""
    for n, number in enumerate(["+1 555 123 4567", "+1 555 765 4321", "anonymous"]):
        with db.session() as s:
            repo.start_call(s, f"p{n}", "A1", source_protocol="ws_ingest", started_at=T0, debtor_phone=number)
    with db.session() as s:
        assert verify_phone_keys(s).problems == () and verify_phone_keys(s).rows == 2
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE call_phones SET phone_key = '15550000000' WHERE call_id = 'p0'"))
        conn.execute(text("DELETE FROM call_phones WHERE call_id = 'p1'"))
        conn.execute(text("INSERT INTO call_phones (call_id, phone_key) VALUES ('p2', '15551234567')"))
    with db.session() as s:
        assert verify_phone_keys(s).problems == (
            "call_phones: the row of call p0 is not the key of the call's number",
            "call_phones: the row of call p1 is missing",
            "call_phones: the row of call p2 is not the key of the call's number",
        )
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    assert main(["db", "verify"]) != 0
    assert "call_phones" in capsys.readouterr().out
