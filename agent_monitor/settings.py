"""Settings: one :class:`Settings` object, built once in ``main()`` / ``create_app()`` and passed down.

Sources, highest priority first: explicit keyword arguments, environment variables with prefix
``AGENT_MONITOR_`` (nested sections use ``__``, e.g. ``AGENT_MONITOR_VAD__AGGRESSIVENESS=3``), an
optional TOML file (``AGENT_MONITOR_CONFIG`` or ``agent-monitor --config FILE``), then defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agent_monitor.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The tracked manifest of known speech models (name, source, size, sha256).
MODEL_MANIFEST = REPO_ROOT / "models" / "manifest.toml"


class VadSettings(BaseModel):
    """webrtcvad segmentation. Durations in milliseconds are converted to seconds where used."""

    frame_ms: Literal[10, 20, 30] = 30
    #: 0-3; 1 measured best on spontaneous speech (the energy floor below handles line noise)
    aggressiveness: int = Field(1, ge=0, le=3)
    #: frames at or below this (dB full scale) are digital silence (zeros, lost packets): never
    #: speech, and no evidence of the leg's noise (a codec's idle noise, e.g. G.711 at about -72,
    #: is tracked as noise like any other)
    energy_floor_dbfs: float = Field(-100.0, le=0.0)
    #: a frame is speech only this far (dB) above the leg's tracked noise floor: webrtcvad alone
    #: calls line hiss speech (measured: 93% of the real call's debtor-leg hiss at aggressiveness 1)
    noise_margin_db: float = Field(9.0, ge=0.0, le=40.0)
    #: frames at least this loud (dBFS) skip the noise test (webrtcvad alone decides, as for ordinary
    #: speech levels): the noise floor only decides about quiet frames. Measured on the tuning folder
    #: (MFA spontaneous): judging every frame against the floor cut words of continuous speech
    loud_dbfs: float = Field(-50.0, le=0.0)
    #: the noise floor is the quietest frame of the last this many milliseconds (minimum statistics)
    noise_window_ms: int = Field(3000, ge=300)
    #: level normalisation (AGC): quiet speech is raised toward ``agc_target_dbfs`` (never lowered)
    #: before webrtcvad and Vosk; 0 turns it off
    agc_max_gain_db: float = Field(40.0, ge=0.0, le=60.0)
    agc_target_dbfs: float = Field(-26.0, le=0.0)
    #: speech starts when this share of the frames in the start window are voiced
    start_window_ms: int = Field(240, ge=30)
    start_ratio: float = Field(0.6, gt=0, le=1)
    #: speech ends when this share of the frames in the end window are unvoiced
    end_window_ms: int = Field(600, ge=30)
    end_ratio: float = Field(0.9, gt=0, le=1)
    #: audio kept before the detected onset so word beginnings are not clipped
    pre_roll_ms: int = Field(500, ge=0)
    #: segments shorter than this (after trimming) are dropped as clicks/noise
    min_speech_ms: int = Field(150, ge=0)
    #: a segment is cut here even without a pause, to bound latency and memory
    max_segment_ms: int = Field(20000, ge=1000)


#: the languages a call can be in (a call's ``lang``; rule packs and the UI follow it)
CALL_LANGUAGES: tuple[str, ...] = ("en", "zh")
CallLanguage = Literal["en", "zh"]


class AsrSettings(BaseModel):
    """Vosk recognition."""

    #: the model of offline tools (``transcribe``, ``eval asr``) when no ``--model`` is given
    model: str = "vosk-model-small-en-us-0.15"
    #: live calls: the model of each call language (a name under ``model_dir`` or a directory).
    #: Each installed one is loaded once per process and shared by all calls in that language; a
    #: call in a language whose model is not installed is recorded but not transcribed.
    models: dict[str, str] = Field(
        default_factory=lambda: {"en": "vosk-model-small-en-us-0.15", "zh": "vosk-model-small-cn-0.22"}
    )

    @field_validator("models")
    @classmethod
    def _call_languages(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(CALL_LANGUAGES))
        if unknown:
            raise ValueError(f"languages must be among {', '.join(CALL_LANGUAGES)}, not {', '.join(unknown)}")
        return v

    #: the rate audio is resampled to before VAD and recognition
    sample_rate: int = Field(16000, ge=8000, le=48000)
    #: which channel of a stereo recording is the agent's leg
    agent_channel: Literal["left", "right"] = "left"
    #: a VAD end of speech settles the utterance (final result) once the leg has stayed silent this
    #: long; speech resuming sooner continues the same utterance with Vosk's context intact
    final_after_silence_s: float = Field(default=1.0, ge=0.0, le=10.0)
    #: emit partial results at most this often per leg (seconds)
    partial_interval_s: float = Field(0.5, ge=0.0)
    #: how many blocking Vosk calls may run at once (0 = number of CPU cores)
    workers: int = Field(0, ge=0)
    #: ready-made Vosk recognizers kept for new legs, per language (building one costs ~60 ms of
    #: CPU; a server builds this many at start and keeps the recognizers of ended legs, reset, up
    #: to this many)
    spare_recognizers: int = Field(16, ge=0)
    #: re-decode every final of a leg that has key terms (the agent's: the abuse rules' single
    #: words) against variants with a key term inserted; see ``asr/keyword_rescore.py``
    keyword_second_pass: bool = True


class RulesSettings(BaseModel):
    """The rule engine (qa_rules): packs, must-say window, call-metadata policy values."""

    #: rule pack files or folders (``*.yaml``); default: the packs shipped in qa_rules/packs
    packs: list[Path] = Field(default_factory=lambda: [REPO_ROOT / "qa_rules" / "packs"])
    #: where trained rule models live (``abuse-<lang>.json``)
    model_dir: Path = REPO_ROOT / "models" / "abuse"
    #: must-say rules (identity, mini-Miranda, recording notice) must be heard this soon (seconds)
    must_say_window_s: float = Field(30.0, gt=0)
    #: allowed calling window in the debtor's local time, "HH:MM", start inclusive, end exclusive
    us_calling_window: tuple[str, str] = ("08:00", "21:00")
    #: PRC window: unverified in law (NIFA convention), so a per-tenant policy value
    prc_calling_window: tuple[str, str] = ("08:00", "21:00")
    prc_calling_window_by_tenant: dict[str, tuple[str, str]] = Field(default_factory=dict)
    #: Regulation F 12 CFR 1006.14(b)(2): more than ``max_calls`` in ``window_days`` is presumed harassment
    freq_max_calls: int = Field(7, ge=1)
    freq_window_days: int = Field(7, ge=1)
    #: no call within this many days after a telephone conversation (conversation day = day 1)
    freq_after_conversation_days: int = Field(7, ge=1)


class StressSettings(BaseModel):
    """Debtor stress scoring (:mod:`emotion`). Times in seconds, scores 0-100."""

    #: trained coefficients (``agent-monitor stress train`` writes it)
    model_file: Path = REPO_ROOT / "models" / "stress" / "stress-model.json"
    #: a stress sample is produced every ``hop_s`` of call time
    hop_s: float = Field(default=1.0, gt=0.0, le=10.0)
    #: each sample scores the last ``window_s`` of audio
    window_s: float = Field(default=4.0, ge=1.0, le=30.0)
    #: seconds of voiced debtor speech collected before the speaker baseline is formed
    baseline_speech_s: float = Field(default=8.0, ge=1.0)
    #: time constant (seconds of scored speech) of the slow baseline update from calm windows
    baseline_update_s: float = Field(default=300.0, gt=0.0)
    #: time constant of the exponential smoothing of the score
    smoothing_s: float = Field(default=2.0, ge=0.0)
    #: without speech the smoothed score relaxes toward 0 with this time constant
    silence_decay_s: float = Field(default=20.0, gt=0.0)
    #: level thresholds on the smoothed score: rise at ``*_on``, fall below ``*_off``
    elevated_on: float = Field(default=50.0, ge=0.0, le=100.0)
    elevated_off: float = Field(default=40.0, ge=0.0, le=100.0)
    high_on: float = Field(default=75.0, ge=0.0, le=100.0)
    high_off: float = Field(default=65.0, ge=0.0, le=100.0)
    #: a rise needs the score above the onset threshold for this long
    onset_s: float = Field(default=2.0, ge=0.0)
    #: a level is held at least this long before it may fall
    min_level_s: float = Field(default=5.0, ge=0.0)


class FusionSettings(BaseModel):
    """How rule hits and debtor stress become a call level (see :mod:`agent_monitor.pipeline.fusion`).

    Levels are ``none < yellow < orange < red``; the call level only ever rises."""

    #: a hit of this rule severity gives this level (info hits give none)
    yellow_hit_level: Literal["none", "yellow", "orange", "red"] = "yellow"
    orange_hit_level: Literal["none", "yellow", "orange", "red"] = "orange"
    red_hit_level: Literal["none", "yellow", "orange", "red"] = "red"
    #: debtor stress alone: elevated / high give these levels
    stress_elevated_level: Literal["none", "yellow", "orange", "red"] = "yellow"
    stress_high_level: Literal["none", "yellow", "orange", "red"] = "orange"
    #: a hit while the debtor's stress is high (within ``combo_window_s``) is raised one level
    stress_high_bumps_hit: bool = True
    #: hits and stress this close in call time (seconds) count as co-occurring
    combo_window_s: float = Field(30.0, ge=0.0)
    #: repeated hits: ``repeat_count`` hits of severity at least yellow within ``repeat_window_s``
    #: seconds raise the level one above the highest of them (0 = off)
    repeat_count: int = Field(3, ge=0)
    repeat_window_s: float = Field(120.0, gt=0.0)
    #: act on provisional hits (seen on a partial transcript) for a fast alert; a later withdrawal
    #: does not lower the level (it never goes down) but is recorded on the hit
    act_on_provisional: bool = True


class OutboxSettings(BaseModel):
    """The write outbox between a live call and the database (:mod:`agent_monitor.pipeline.store`).
    Times in seconds."""

    #: writes of one call held in memory while the database is slow or down; beyond this (or once
    #: the database has failed for ``spill_after_s``) they go to the call's journal on disk
    capacity: int = Field(500, ge=1)
    #: how long the database may fail (or a write hang) before the queued writes are spilled
    spill_after_s: float = Field(5.0, gt=0.0)
    #: a write running longer than this marks the database degraded (``/healthz``)
    stall_after_s: float = Field(2.0, gt=0.0)
    #: first and longest wait between retries of a failed write
    retry_first_s: float = Field(0.2, gt=0.0)
    retry_max_s: float = Field(2.0, gt=0.0)
    #: how long an alert waits for its row (its ``alert_id``) before going out without one
    alert_id_wait_s: float = Field(0.5, ge=0.0, le=1.0)
    #: threads running database writes (separate from other work, so a stall blocks nothing else)
    writer_threads: int = Field(4, ge=1, le=32)


class HealthSettings(BaseModel):
    """Signal health of each leg (:mod:`agent_monitor.pipeline.health`). Levels in dBFS, times in s.

    A level issue starts once its condition has held for ``onset_s`` and clears once it has not
    held for ``clear_s`` (hysteresis: one event when it starts, one when it clears)."""

    enabled: bool = True
    #: levels, noise floor and clipping are measured over this much of the leg's latest audio
    window_s: float = Field(10.0, ge=2.0, le=120.0)
    #: a frame is speech when this far above the noise floor (and above ``dead_dbfs``)
    speech_margin_db: float = Field(10.0, gt=0.0)
    #: a frame below this carries nothing (digital silence, an idle line)
    dead_dbfs: float = Field(-80.0, le=0.0)
    #: ``silent``: no speech on the leg for this long
    silent_s: float = Field(30.0, gt=0.0)
    #: ``one_way``: the leg carries nothing for this long while the other leg speaks
    one_way_s: float = Field(15.0, gt=0.0)
    #: ``low_level``: active speech level below this (normal telephone speech is about -26)
    low_level_dbfs: float = Field(-50.0, le=0.0)
    #: ``noisy``: speech peaks (95th percentile of the frame levels) less than this above the
    #: noise floor (10th percentile)
    noisy_snr_db: float = Field(15.0, gt=0.0)
    #: ... or a noise floor (10th percentile of the frame levels) at least this loud with speech less
    #: than ``noisy_snr_db`` above it (normal telephone speech is about -26)
    noisy_floor_dbfs: float = Field(-33.0, le=0.0)
    #: ``clipping``: more than this share of the samples at full scale
    clipping_share: float = Field(0.005, gt=0.0, le=1.0)
    #: low level and noise are judged only with at least this much speech in the window
    min_speech_s: float = Field(2.0, ge=0.0)
    #: ... whose levels vary by at least this much (90th - 10th percentile; steady hiss: ~3 dB)
    speech_modulation_db: float = Field(6.0, ge=0.0)
    #: ``encoding_mismatch``: at least ``mismatch_s`` of loud white-like audio in the window (and twice
    #: as much as of speech-like loud audio); a 0.25 s block is loud when ``mismatch_loud_share`` of
    #: its frames are above ``mismatch_dbfs``, white-like when the spectral flatness of those frames
    #: is at least ``mismatch_flatness`` (white noise ~0.5, speech ~0.01-0.15)
    mismatch_flatness: float = Field(0.2, gt=0.0, le=1.0)
    mismatch_loud_share: float = Field(0.25, gt=0.0, le=1.0)
    mismatch_dbfs: float = Field(-15.0, le=0.0)
    mismatch_s: float = Field(2.0, ge=0.5, le=30.0)
    #: a level issue (low level, noisy, clipping) starts after holding this long
    onset_s: float = Field(5.0, ge=0.0)
    #: an active level issue clears once its condition has not held for this long
    clear_s: float = Field(10.0, ge=0.0)


class LiveSettings(BaseModel):
    """The live call pipeline (:mod:`agent_monitor.pipeline`). Times in seconds."""

    #: audio waiting per leg between ``push_audio`` and recognition; more is dropped (and counted)
    leg_queue_s: float = Field(10.0, gt=0.0)
    #: recordings hand buffered audio to the OS at least this often (a crash loses at most this)
    recording_flush_s: float = Field(0.5, gt=0.0, le=1.0)
    #: an unacknowledged red handoff is escalated after this long
    escalate_after_s: float = Field(60.0, gt=0.0)
    #: calls reaching this level are queued for QA
    qa_level: Literal["yellow", "orange", "red"] = "red"
    #: per-subscriber queue of the in-process event bus (non-critical events beyond it drop oldest)
    subscriber_queue: int = Field(1000, ge=1)
    #: stress samples are stored in batches of this many (and at the end of the call)
    stress_batch: int = Field(10, ge=1)
    #: a call's language when its start message names none: the agent's (``lang_by_agent``, by
    #: agent id), else the queue's (``lang_by_queue``, the start message's ``queue``), else this
    default_lang: CallLanguage = "en"
    lang_by_agent: dict[str, CallLanguage] = Field(default_factory=dict)
    lang_by_queue: dict[str, CallLanguage] = Field(default_factory=dict)
    fusion: FusionSettings = FusionSettings()
    outbox: OutboxSettings = OutboxSettings()


class ServerSettings(BaseModel):
    """``agent-monitor serve``: the web server and the ingest listeners (see :mod:`web.app`)."""

    #: address the HTTP/websocket server and the AudioSocket listener bind to
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    #: Asterisk AudioSocket TCP listener (0 = any free port; ``None`` = off)
    audiosocket_port: int | None = Field(9092, ge=0, le=65535)
    #: agent id of AudioSocket calls joined by the UUID convention (not registered beforehand)
    audiosocket_agent: str = "unassigned"
    #: largest binary audio frame accepted on /ws/ingest (bytes); larger closes with 1009
    max_frame_bytes: int = Field(65536, ge=320)
    #: a new connection must send its start message within this many seconds
    start_timeout_s: float = Field(10.0, gt=0.0)
    #: the server saves the hash-chain heads to ``data_dir/chain-anchors.jsonl`` this often (and at
    #: shutdown); ``db verify`` checks against them, so a truncated chain is caught
    anchor_every_s: float = Field(300.0, gt=0.0)
    #: an HTTP request head (request line and headers) must arrive within this many seconds
    header_timeout_s: float = Field(10.0, gt=0.0)
    #: an AudioSocket leg that sends nothing for this long is closed (a half-open TCP connection)
    audiosocket_idle_timeout_s: float = Field(40.0, gt=0.0)
    #: a registered AudioSocket UUID that no connection claims within this long is forgotten
    audiosocket_registration_ttl_s: float = Field(300.0, gt=0.0)
    #: at most this many AudioSocket UUIDs wait for their connection at once (then 429)
    audiosocket_max_registrations: int = Field(10000, ge=1)
    #: new calls are refused (and /healthz is not ok) with less free space than this in data_dir
    min_free_disk_mb: int = Field(100, ge=0)


class WebSettings(BaseModel):
    """Login, sessions and machine credentials of the web application (see :mod:`web.auth`).

    There is no default secret and no default password: the session signing key and the ingest
    token are generated at random on first start into files under ``data_dir`` (mode 0600) unless
    given here; the first admin is created with ``agent-monitor users add``."""

    #: signing key of session cookies (at least 32 characters); default: ``data_dir/web-secret.key``
    secret_key: SecretStr | None = None
    #: token that machine clients (``/ws/ingest``, ``/ws/twilio``, ``/api/audiosocket/register``)
    #: present as ``Authorization: Bearer ...`` or ``?token=``; default: ``data_dir/ingest-token``
    ingest_token: SecretStr | None = None
    #: a login session lasts this long (seconds) from sign-in
    session_lifetime_s: int = Field(8 * 3600, ge=60, le=30 * 24 * 3600)
    #: session cookies carry the ``Secure`` flag (set it when served over HTTPS)
    secure_cookies: bool = False
    #: failed logins allowed per username and client address within ``login_window_s`` (then 429)
    login_max_failures: int = Field(5, ge=1)
    #: failed logins allowed per client address (any username) within ``login_window_s``
    login_max_failures_per_ip: int = Field(20, ge=1)
    login_window_s: float = Field(60.0, gt=0.0)
    #: shortest password accepted by ``users add|passwd`` and the admin API
    min_password_length: int = Field(10, ge=8)
    #: open websockets re-check their session this often (logout, deactivation, password change)
    session_recheck_s: float = Field(2.0, gt=0.0, le=60.0)
    #: least zxcvbn strength score (0-4) of a new password
    min_password_score: int = Field(3, ge=0, le=4)
    #: addresses (or networks) of reverse proxies whose ``X-Forwarded-For`` is believed; empty:
    #: the client address is the TCP peer's
    trusted_proxies: list[str] = Field(default_factory=list)
    #: roles that see personal data (ID, phone, bank card numbers) unmasked; default: see
    #: :mod:`web.masking`
    unmasked_roles: list[Literal["agent", "supervisor", "qa", "admin"]] | None = None


class PhoneHookSettings(BaseModel):
    """The phone-system hook of the supervisor's "take over" (see :mod:`web.ui.phone_hook`): an HTTP
    POST of ``{"call_id", "agent_id", "supervisor", "action", "note", "alert_id"}`` to ``url``
    (``action``: ``listen``, ``whisper`` or ``barge``), e.g. to a small bridge that runs the
    FreeSWITCH ``uuid_*``/eavesdrop or Asterisk ChanSpy/AMI command (README: "Supervisor wall")."""

    #: where to POST; none: take-over is recorded and shown, nothing is sent to the phone system
    url: str | None = None
    #: a request taking longer than this fails (shown on the wall; the take-over stays recorded)
    timeout_s: float = Field(3.0, gt=0.0, le=30.0)
    #: sent as ``Authorization: Bearer ...`` when set
    token: SecretStr | None = None


class WallSettings(BaseModel):
    """The supervisor's live wall."""

    #: an ended call (and its alerts) stays on the wall this long, marked ended, then goes
    ended_grace_s: float = Field(30.0, ge=0.0, le=3600.0)
    phone_hook: PhoneHookSettings = PhoneHookSettings()


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
    wall: WallSettings = WallSettings()

    @field_validator("model_dir", "data_dir", "eval_data_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

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
    import tomllib

    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"{config_file}: configuration file not found")
        os.environ["AGENT_MONITOR_CONFIG"] = str(config_file)
    cfg = os.environ.get("AGENT_MONITOR_CONFIG")
    if cfg:
        try:
            tomllib.loads(Path(cfg).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{cfg}: cannot read configuration: {exc}") from exc
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
