"""Settings: one :class:`Settings` object, built once in ``main()`` / ``create_app()`` and passed down.

Sources, highest priority first: explicit keyword arguments, environment variables with prefix
``AGENT_MONITOR_`` (nested sections use ``__``, e.g. ``AGENT_MONITOR_VAD__AGGRESSIVENESS=3``), an
optional TOML file (``AGENT_MONITOR_CONFIG`` or ``agent-monitor --config FILE``), then defaults.

The sections live in sub-modules (:mod:`.speech`, :mod:`.analysis`, :mod:`.live`, :mod:`.server`,
:mod:`.cluster`, :mod:`.database`);
everything is importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from agent_monitor.errors import ConfigError
from agent_monitor.settings.analysis import FusionSettings, RulesSettings, StressSettings
from agent_monitor.settings.base import CALL_LANGUAGES, MODEL_MANIFEST, REPO_ROOT, CallLanguage
from agent_monitor.settings.cluster import ClusterSettings, NodeRole
from agent_monitor.settings.database import DatabaseSettings
from agent_monitor.settings.live import HealthSettings, LiveSettings, OutboxSettings
from agent_monitor.settings.server import (
    PhoneHookSettings,
    QaSettings,
    ServerSettings,
    WallSettings,
    WebSettings,
)
from agent_monitor.settings.speech import AsrSettings, DecoderSettings, VadSettings

__all__ = [
    "CALL_LANGUAGES",
    "MODEL_MANIFEST",
    "REPO_ROOT",
    "AsrSettings",
    "CallLanguage",
    "ClusterSettings",
    "DatabaseSettings",
    "DecoderSettings",
    "FusionSettings",
    "HealthSettings",
    "LiveSettings",
    "NodeRole",
    "OutboxSettings",
    "PhoneHookSettings",
    "QaSettings",
    "RulesSettings",
    "ServerSettings",
    "Settings",
    "StressSettings",
    "VadSettings",
    "WallSettings",
    "WebSettings",
    "load_settings",
]


class Settings(BaseSettings):
    """All settings of Agent Monitor."""

    model_config = SettingsConfigDict(
        env_prefix="AGENT_MONITOR_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    #: where speech models are installed (one sub-directory per model)
    model_dir: Path = REPO_ROOT / "models"
    #: where the database, recordings and other runtime state live
    data_dir: Path = Path("data")
    #: SQLAlchemy URL; default is an SQLite file under ``data_dir``
    database_url: str | None = None
    #: the connections one process keeps to that database
    database: DatabaseSettings = DatabaseSettings()
    #: evaluation/test data (the shared development split)
    eval_data_dir: Path = REPO_ROOT.parent / "shared" / "data"

    vad: VadSettings = VadSettings()
    asr: AsrSettings = AsrSettings()
    stress: StressSettings = StressSettings()
    rules: RulesSettings = RulesSettings()
    live: LiveSettings = LiveSettings()
    health: HealthSettings = HealthSettings()
    server: ServerSettings = ServerSettings()
    web: WebSettings = WebSettings()
    qa: QaSettings = QaSettings()
    wall: WallSettings = WallSettings()
    cluster: ClusterSettings = ClusterSettings()

    @field_validator("model_dir", "data_dir", "eval_data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @property
    def media_dir(self) -> Path:
        """Where recordings are kept (under ``recordings/``): ``cluster.shared_dir`` on a floor
        whose nodes share one, else ``data_dir``."""
        return self.cluster.shared_dir or self.data_dir

    @property
    def node_id(self) -> str:
        """This node's name on a floor and the writer named on the recordings it opens:
        ``cluster.node_id``, else ``server.node_name`` or the host name, with the HTTP port."""
        if self.cluster.node_id:
            return self.cluster.node_id
        import socket

        return f"{self.server.node_name or socket.gethostname()}:{self.server.port}"

    @property
    def database_overflow(self) -> int:
        """The pool's overflow: ``database.max_overflow``, or one connection per thread that may use
        the database beyond ``pool_size`` (:meth:`DatabaseSettings.overflow`)."""
        return self.database.overflow(self.live.outbox.writer_threads)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'agent-monitor.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("AGENT_MONITOR_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings, turning every validation problem into one :class:`ConfigError`."""
    import os

    if config_file is not None:
        _check_config_file(config_file)
        os.environ["AGENT_MONITOR_CONFIG"] = str(config_file)
    elif cfg := os.environ.get("AGENT_MONITOR_CONFIG"):
        _check_config_file(Path(cfg))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
    except SettingsError as exc:  # a section or list given as malformed JSON (``VAD={``)
        raise ConfigError(f"invalid settings: {exc}") from exc


def _check_config_file(path: Path) -> None:
    """One line for a configuration file (``--config`` or ``AGENT_MONITOR_CONFIG``) that is
    missing, a folder, unreadable or not TOML."""
    import tomllib

    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a configuration file")
    if not path.exists():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
