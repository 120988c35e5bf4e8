"""Settings of the speech front end: voice activity detection (webrtcvad) and recognition (Vosk)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, ConfigDict, Field, field_validator

from agent_monitor.settings.base import CALL_LANGUAGES, Section

__all__ = ["AsrSettings", "DecoderSettings", "VadSettings"]


class VadSettings(Section):
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
    #: Vosk's gain raises speech only up to this level (dBFS; webrtcvad still judges the frames at
    #: ``agc_target_dbfs``): speech louder than this reaches Vosk as received. Chosen on the tuning
    #: split (-26, -33, -40 tried; README, "A lower target for Vosk")
    agc_recognizer_target_dbfs: float = Field(-33.0, le=0.0)
    #: the AGC never raises the leg's noise floor above this (dBFS): gain is for quiet, clean speech
    #: (Vosk's dither), not for speech already in noise; see ``asr/level.py``
    agc_noise_ceiling_dbfs: float = Field(-65.0, le=0.0)
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


class DecoderSettings(Section):
    """Kaldi options that replace a model's own (``None``: the model's own value): the decoder's
    in ``conf/model.conf``, and ``dither``, the feature extractor's in ``conf/mfcc.conf``. See
    ``asr/decoder_conf.py``; the measured effect is in README.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: decoding beam (the small English model's own: 10.0)
    beam: float | None = Field(None, gt=0.0, le=50.0)
    #: most tokens kept active per frame (own: 3000)
    max_active: int | None = Field(None, ge=10)
    #: fewest tokens kept active per frame (own: 200)
    min_active: int | None = Field(None, ge=0)
    #: lattice pruning beam (own: 2.0)
    lattice_beam: float | None = Field(None, gt=0.0, le=50.0)
    #: input frames (10 ms) the acoustic network computes at once (Kaldi's default: 20)
    frames_per_chunk: int | None = Field(None, ge=3, le=300)
    #: MFCC dither: random noise of this amplitude added to every sample before the features
    #: (Kaldi's default: 1.0). 0 makes a recognizer's transcript of the same audio repeatable, but
    #: measured 2.4-3.2 WER points worse on mu-law and quiet audio (README), so not the default
    dither: float | None = Field(None, ge=0.0, le=10.0)


class AsrSettings(Section):
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
    #: *threads* for the blocking stage work of one process (Vosk calls, rules, stress): how many
    #: may run at once (0 = number of CPU cores). Worker *processes* are ``server.workers``.
    #: (Formerly ``asr.workers``, still accepted.)
    threads: int = Field(0, ge=0, validation_alias=AliasChoices("threads", "workers"))
    #: ready-made Vosk recognizers kept for new legs, per language (building one costs ~60 ms of
    #: CPU; a server builds this many at start, warmed, and keeps the recognizers of ended legs,
    #: reset, up to this many; with ``server.workers`` processes, this many in all, split over
    #: them). 32: a burst of 16 two-leg calls on a just-started server gets warm
    #: recognizers only; measured RSS per warmed spare (small English model): ~18 MiB on the
    #: lookahead graph, ~1.3 MiB on the static graph (no composition cache)
    spare_recognizers: int = Field(32, ge=0)
    #: re-decode every final of a leg that has key terms (the agent's: the abuse rules' single
    #: words) against variants with a key term inserted; see ``asr/keyword_rescore.py``. Off by
    #: default: on the live evaluation's tuning half (62 calls, agent legs, 488 finals) it found
    #: the term of 1 abusive turn (of 14) and put a term into 7 clean turns (of 400; "perfect"
    #: became "piss"), for about 28% of the agent leg's CPU (README "Live evaluation")
    keyword_second_pass: bool = False
    #: ... and then only on a final with a first-pass word whose confidence is below this (a key
    #: term Vosk dropped or replaced often leaves a word it is unsure of); 1.0 = every final. On
    #: that tuning half 0.3 kept the one true find and 1 of the 7 false ones at 17% of the pass's
    #: CPU; too few finds to choose by, so the default keeps every final
    keyword_second_pass_below_conf: float = Field(1.0, ge=0.0, le=1.0)
    #: ... and also at every VAD end of speech, on the utterance so far (the partial's words), so a
    #: key term the first pass missed is warned about when the speaker pauses, not only once the
    #: utterance is settled (``final_after_silence_s`` later); the final then reuses that pass
    #: when no audio was added and the words are the same. Off by default: on the live
    #: evaluation's reporting half it moved neither recall nor latency (README) for +16% of the
    #: agent leg's CPU, and the partial at a pause often lacks the last word said, which a key
    #: term inserted at the end can then take the place of ("looking for" -> "looking whore")
    keyword_second_pass_at_pause: bool = False
    #: decode with the model's static graph (``graph/HCLG.fst`` built next to it by ``agent-monitor
    #: models build-graph``; see ``asr/static_graph.py``) when it is built: about half the CPU of
    #: the lookahead graph the small models ship, same words, ~+270 MiB per process. Not built:
    #: one warning, the lookahead graph. The keyword second pass keeps the lookahead model (grammars)
    static_graph: bool = True
    #: OpenBLAS kernels of Vosk's acoustic model (``asr/blas.py``): ``auto`` = the AVX-512 ones on
    #: a CPU that has AVX-512 (measured on an AMD Zen 4: about 10% less of Vosk's CPU), else the
    #: library's own choice; ``library`` = always the library's choice; or an OpenBLAS core name.
    #: ``OPENBLAS_CORETYPE`` in the environment wins
    blas_kernels: str = "auto"
    #: seconds of synthetic speech-like sound each spare decodes at start-up (then reset), so the
    #: first calls of a just-started server cost what later ones do: a never-used recognizer
    #: costs more CPU over its first seconds (see ``asr/warmup.py``); 0 turns it off. That holds
    #: for the lookahead graph (its composition cache) only: on the static graph a never-used
    #: recognizer costs the same as a warmed one (measured, README "Static decoding graph"), so
    #: spares are not warmed there
    warmup_s: float = Field(2.0, ge=0.0, le=30.0)
    #: per call language: decoder options that replace the model's own (``asr/decoder_conf.py``);
    #: a language not named here decodes with its model's ``conf/model.conf`` as installed
    decoder: dict[str, DecoderSettings] = Field(default_factory=dict)

    @field_validator("decoder")
    @classmethod
    def _decoder_languages(cls, v: dict[str, DecoderSettings]) -> dict[str, DecoderSettings]:
        unknown = sorted(set(v) - set(CALL_LANGUAGES))
        if unknown:
            raise ValueError(f"languages must be among {', '.join(CALL_LANGUAGES)}, not {', '.join(unknown)}")
        return v
