"""Decoder options from the settings reach Vosk through a derived model directory (real model)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent_monitor.errors import ConfigError
from agent_monitor.model.audio import Leg
from agent_monitor.settings import DecoderSettings, Settings, load_settings
from asr.decoder_conf import MFCC_CONF, MODEL_CONF, conf_files, conf_options, derived_model, rewrite_conf
from asr.model_loading import load_vosk_model
from asr.model_path import resolve_model_path
from asr.recognizer import new_recognizer
from asr.streaming import RecognizerPool
from asr.transcribe import transcribe_legs
from tests.asr.test_recognizer_pool import _speech


def test_overridden_options_replace_the_models_own() -> None:
    text = "--min-active=200\n--max-active=3000\n--beam=10.0\n--frame-subsampling-factor=3\n"
    options = conf_options(DecoderSettings(beam=8.0, frames_per_chunk=51))
    assert options == {"--beam": "8.0", "--frames-per-chunk": "51"}
    lines = rewrite_conf(text, options).splitlines()
    assert lines == [
        "--min-active=200",
        "--max-active=3000",
        "--frame-subsampling-factor=3",
        "--beam=8.0",
        "--frames-per-chunk=51",
    ]


def test_dither_goes_to_the_mfcc_conf_and_the_rest_stays_linked(base_settings: Settings) -> None:
    model = resolve_model_path(base_settings)
    decoder = DecoderSettings(dither=0.0, beam=9.0)
    assert conf_files(decoder) == {MODEL_CONF: {"--beam": "9.0"}, MFCC_CONF: {"--dither": "0.0"}}
    assert conf_options(DecoderSettings(dither=0.0)) == {}
    with derived_model(model, DecoderSettings(dither=0.0)) as root:
        mfcc = (root / MFCC_CONF).read_text(encoding="utf-8").splitlines()
        assert mfcc[-1] == "--dither=0.0"
        assert mfcc[:-1] == (model / MFCC_CONF).read_text(encoding="utf-8").splitlines()
        assert (root / MODEL_CONF).is_symlink()
        assert not (root / MFCC_CONF).is_symlink()
    assert not root.exists()


def _results(model: object, speech: bytes, runs: int) -> list[str]:
    """Vosk's full JSON (words, times, confidences) of ``speech`` on ``runs`` new recognizers."""
    out = []
    for _ in range(runs):
        kaldi = new_recognizer(model, 16000).kaldi
        for i in range(0, len(speech), 6400):
            kaldi.AcceptWaveform(speech[i : i + 6400])
        out.append(kaldi.FinalResult())
    return out


def test_dither_zero_reaches_vosk_and_makes_it_repeatable(
    base_settings: Settings, librispeech_flac: Path
) -> None:
    """Kaldi's default dither adds random noise, so the same audio gives other confidences (and
    sometimes words) on each new recognizer; with ``dither = 0`` every run is the same."""
    path = resolve_model_path(base_settings)
    speech = _speech(librispeech_flac)[: 16000 * 2 * 6]
    installed = _results(load_vosk_model(path), speech, 3)
    no_dither = _results(load_vosk_model(path, DecoderSettings(dither=0.0)), speech, 3)
    assert len(set(installed)) > 1, installed
    assert len(set(no_dither)) == 1, no_dither
    assert len(json.loads(no_dither[0])["result"]) >= 8, no_dither[0]


def test_decoder_languages_are_checked() -> None:
    with pytest.raises(ConfigError, match="fr"):
        load_settings(asr={"decoder": {"fr": {"beam": 8.0}}})


def test_a_decoder_setting_changes_what_the_recognizer_does(
    base_settings: Settings, librispeech_flac: Path
) -> None:
    """A starved search (beam 1, 20 active tokens) loses most words of a clip the installed
    options transcribe well; the installed model's own conf is left as it was."""
    conf = resolve_model_path(base_settings) / "conf" / "model.conf"
    before = conf.read_bytes()
    starved = base_settings.model_copy(
        update={
            "asr": base_settings.asr.model_copy(
                update={"decoder": {"en": DecoderSettings(beam=1.0, max_active=20, min_active=10)}}
            )
        }
    )
    speech = _speech(librispeech_flac)
    words = {}
    for name, settings in (("installed", base_settings), ("starved", starved)):
        pool = RecognizerPool.from_settings(settings)
        try:
            finals = asyncio.run(transcribe_legs(pool, settings, {Leg.AGENT: speech}))
            new_recognizer(pool.model, 16000)  # the model outlives its derived directory
        finally:
            pool.close()
        words[name] = " ".join(t.text for t in finals).split()
    assert conf.read_bytes() == before
    assert len(words["installed"]) >= 20, words
    assert words["starved"] != words["installed"], words
