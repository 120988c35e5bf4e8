"""The settings package: the levels and roles in settings are the data model's enums (from keyword
arguments, environment variables and TOML alike), and bad values are one clear ``ConfigError``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_monitor.errors import ConfigError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.settings import REPO_ROOT, Settings, WallSettings, load_settings


@pytest.fixture(autouse=True)
def _no_outside_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # empty: no configuration file; restored after the test (load_settings(FILE) sets it)
    monkeypatch.setenv("AGENT_MONITOR_CONFIG", "")


def test_defaults_are_enum_members() -> None:
    s = Settings()
    fusion = s.live.fusion
    assert fusion.yellow_hit_level is WarningLevel.YELLOW and fusion.red_hit_level is WarningLevel.RED
    assert fusion.stress_high_level is WarningLevel.ORANGE
    assert s.live.qa_level is WarningLevel.RED
    assert s.web.unmasked_roles is None
    assert (REPO_ROOT / "agent_monitor" / "settings" / "__init__.py").is_file()


def test_environment_values_become_enum_members(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_MONITOR_LIVE__QA_LEVEL", "orange")
    monkeypatch.setenv("AGENT_MONITOR_LIVE__FUSION__RED_HIT_LEVEL", "none")
    monkeypatch.setenv("AGENT_MONITOR_WEB__UNMASKED_ROLES", '["qa", "admin"]')
    s = load_settings()
    assert s.live.qa_level is WarningLevel.ORANGE
    assert s.live.fusion.red_hit_level is WarningLevel.NONE
    assert s.web.unmasked_roles == [Role.QA, Role.ADMIN]
    assert all(isinstance(r, Role) for r in s.web.unmasked_roles)


def test_toml_values_become_enum_members(tmp_path: Path) -> None:
    config = tmp_path / "am.toml"
    config.write_text('[live]\nqa_level = "yellow"\n[live.fusion]\nstress_elevated_level = "orange"\n')
    s = load_settings(config)
    assert s.live.qa_level is WarningLevel.YELLOW
    assert s.live.fusion.stress_elevated_level is WarningLevel.ORANGE


@pytest.mark.parametrize(
    ("env", "value", "said"),
    [
        ("AGENT_MONITOR_LIVE__FUSION__ORANGE_HIT_LEVEL", "purple", "live.fusion.orange_hit_level"),
        ("AGENT_MONITOR_LIVE__QA_LEVEL", "none", "must be one of yellow, orange, red"),
        ("AGENT_MONITOR_WEB__UNMASKED_ROLES", '["root"]', "web.unmasked_roles"),
    ],
)
def test_unknown_levels_and_roles_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, said: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match="invalid settings") as err:
        load_settings()
    assert said in str(err.value)


@pytest.mark.parametrize(
    ("env", "chars"), [("AGENT_MONITOR_WEB__INGEST_TOKEN", 16), ("AGENT_MONITOR_WEB__SECRET_KEY", 32)]
)
def test_short_secrets_are_refused_when_the_settings_load(
    monkeypatch: pytest.MonkeyPatch, env: str, chars: int
) -> None:
    """Refused with one line when the settings load (``serve`` used to start and then die in the
    application's start-up with a traceback); a secret of exactly the minimum length is taken."""
    monkeypatch.setenv(env, "x" * (chars - 1))
    with pytest.raises(ConfigError, match=f"must be at least {chars} characters"):
        load_settings()
    monkeypatch.setenv(env, "x" * chars)
    web = load_settings().web
    given = web.ingest_token if chars == 16 else web.secret_key
    assert given is not None and given.get_secret_value() == "x" * chars


def test_a_config_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    """A config file of bytes that are not UTF-8 was a traceback (UnicodeDecodeError)."""
    config = tmp_path / "bin.toml"
    config.write_bytes(b"\xff\xfe[server]\n")
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_settings(config)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--port", "99999"], "--port: Input should be less than or equal to 65535"),
        (["--port", "-1"], "--port: Input should be greater than or equal to 0"),
        (
            ["--audiosocket-port", "abc"],
            "--audiosocket-port: Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_serve_refuses_a_port_that_cannot_be(
    argv: list[str],
    said: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked as the settings are, before anything starts: port 99999 used to be "served on" and
    a port that is not a number was a traceback."""
    from agent_monitor.cli import main

    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    assert main(["serve", *argv]) == 1
    assert capsys.readouterr().err.strip() == f"agent-monitor: error: {said}"
    assert not (tmp_path / "data").exists()


def test_the_wall_keeps_a_resolved_alert_for_a_grace_that_is_not_negative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``wall.resolved_grace_s``: 10 s unless set; 0 (the alert leaves at once) is taken, from the
    environment too; a negative grace is refused when the settings load, naming the setting."""
    assert Settings().wall.resolved_grace_s == 10.0
    assert WallSettings(resolved_grace_s=0.0).resolved_grace_s == 0.0
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        WallSettings(resolved_grace_s=-0.5)
    monkeypatch.setenv("AGENT_MONITOR_WALL__RESOLVED_GRACE_S", "2.5")
    assert load_settings().wall.resolved_grace_s == 2.5
    monkeypatch.setenv("AGENT_MONITOR_WALL__RESOLVED_GRACE_S", "-1")
    with pytest.raises(ConfigError, match="invalid settings") as err:
        load_settings()
    assert "wall.resolved_grace_s" in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("AGENT_MONITOR_LIVE__LEG_QUEUE_S", "inf", "live.leg_queue_s: Input should be a finite number"),
        ("AGENT_MONITOR_WALL__RESOLVED_GRACE_S", "Infinity", "wall.resolved_grace_s: Input should be a"),
        ("AGENT_MONITOR_VAD", "{", 'error parsing value for field "vad"'),
        ("AGENT_MONITOR_WEB__TRUSTED_PROXIES", "not-a-list", 'error parsing value for field "web"'),
    ],
)
def test_a_number_that_is_not_finite_or_a_section_that_is_not_json_is_one_line(
    name: str,
    value: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``inf`` was taken and became a traceback where it turned into a count (``analyze``:
    OverflowError in the leg queue); malformed JSON for a section or a list was a traceback
    (pydantic-settings' SettingsError) before any command ran."""
    from agent_monitor.cli import main

    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(name, value)
    assert main(["db", "status"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("agent-monitor: error: invalid settings: ")
    assert said in err and "\n" not in err
    assert not (tmp_path / "data").exists()


def test_a_config_path_that_is_a_folder_or_missing_is_one_line_from_the_option_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config DIR` said "configuration file not found" of a folder that is there, and
    AGENT_MONITOR_CONFIG naming a missing file showed the raw "[Errno 2] No such file or
    directory: ..." text. Now both sources say the same thing: a folder, or not found."""
    missing = tmp_path / "nope.toml"
    for path, said in (
        (tmp_path, "is a folder, not a configuration file"),
        (missing, "configuration file not found"),
    ):
        with pytest.raises(ConfigError) as from_option:
            load_settings(path)
        assert str(from_option.value) == f"{path}: {said}"
        monkeypatch.setenv("AGENT_MONITOR_CONFIG", str(path))
        with pytest.raises(ConfigError) as from_env:
            load_settings()
        assert str(from_env.value) == f"{path}: {said}"
        monkeypatch.setenv("AGENT_MONITOR_CONFIG", "")


@pytest.mark.parametrize(
    ("env", "value", "said"),
    [
        ("AGENT_MONITOR_RULES__US_CALLING_WINDOW", '["08:00:00", "21:00"]', "'08:00:00' is not HH:MM"),
        ("AGENT_MONITOR_RULES__PRC_CALLING_WINDOW", '["22:00", "08:00"]', "start must be before the end"),
        (
            "AGENT_MONITOR_RULES__PRC_CALLING_WINDOW_BY_TENANT",
            '{"north": ["08:00", "24:00"]}',
            "tenant 'north': calling window time '24:00'",
        ),
    ],
)
def test_a_calling_window_that_is_not_one_is_refused_when_the_settings_load(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, said: str
) -> None:
    """It was taken, then every call's metadata rules (calling hours and Regulation F frequency)
    were skipped with a log line, or every call was flagged (the forbidden period given)."""
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match="invalid settings") as err:
        load_settings()
    assert said in str(err.value)
    monkeypatch.setenv(env, '{"north": ["8:00", "22:00"]}' if env.endswith("TENANT") else '["8:00", "20:00"]')
    load_settings()


@pytest.mark.parametrize("source", ["toml", "env"])
def test_a_misspelt_key_inside_a_section_is_refused_naming_it(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key no section has (``spil_after_s`` for ``spill_after_s``) was ignored without a word
    inside a section, from a configuration file or the environment alike: the server ran with the
    default the operator meant to change. Only a misspelt section name was refused."""
    from agent_monitor.cli import main

    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    if source == "toml":
        config = tmp_path / "am.toml"
        config.write_text("[live.outbox]\nspil_after_s = 3\n")
        monkeypatch.setenv("AGENT_MONITOR_CONFIG", str(config))
    else:
        monkeypatch.setenv("AGENT_MONITOR_LIVE__OUTBOX__SPIL_AFTER_S", "3")
    assert main(["db", "status"]) == 1
    err = capsys.readouterr().err.strip()
    said = "live.outbox.spil_after_s: Extra inputs are not permitted"
    assert err == f"agent-monitor: error: invalid settings: {said}"
    assert not (tmp_path / "data").exists()


def test_every_settings_section_refuses_a_key_it_does_not_have() -> None:
    """Each section, however deep (``live.outbox``, ``live.fusion``, ...), refuses an unknown
    key, not only the one a test names."""
    from pydantic import BaseModel

    def sections(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
        found = [(path, model)]
        for name, info in model.model_fields.items():
            kind = info.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += sections(kind, f"{path}.{name}" if path else name)
        return found

    every = sections(Settings, "")[1:]
    assert len(every) >= 12
    taken = []
    for path, model in every:
        try:
            model.model_validate({"no_such_key_here": 1})
        except ValidationError as exc:
            assert "Extra inputs are not permitted" in str(exc)
        else:
            taken.append(path)
    assert taken == []
