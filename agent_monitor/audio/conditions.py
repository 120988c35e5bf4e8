"""Simulated telephone line conditions for evaluation: level, G.711, narrow-band codecs, noise, loss.

Every accuracy figure of the project is reported per condition, so that a result that holds only on
clean studio audio is visible as such. A :class:`Condition` turns a clean float32 clip into what the
monitor would receive over a given line; :data:`CONDITIONS` is the standard grid that
``eval asr``, ``eval stress`` and the live evaluation accept with ``--conditions``, and any other
line is composed from parts joined by ``+`` (:func:`compose_condition`: ``gsm+gain-30``).

Order of operations, as on a real line: noise is mixed at the clip's rate (the far end's room or
line), the whole is scaled by the line gain, then coded (8 kHz G.711 mu-law/A-law, GSM 06.10 or
AMR-NB through sox, Opus through libsndfile), and finally 20 ms packets are lost (replaced by
silence, as a jitter buffer without concealment does). The result is deterministic for a given
``seed``.

Noise is real, never synthetic: ``line`` is the hiss between the turns of the SpokenWOZ telephone
call in the evaluation data, ``babble`` a mix of other speakers' speech (see :class:`NoiseBank`).
"""

from __future__ import annotations

import io
import re
import subprocess
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent_monitor.audio.decode import resample_mono
from agent_monitor.audio.g711 import alaw_decode, alaw_encode, mulaw_decode, mulaw_encode
from agent_monitor.audio.noise import NoiseBank, mix_at_snr
from agent_monitor.errors import ConfigError

Samples = npt.NDArray[np.float32]

TELEPHONE_RATE = 8000
PACKET_S = 0.020
CODECS = ("mulaw", "alaw", "gsm", "amr", "opus")


@dataclass(frozen=True, slots=True)
class Condition:
    """One simulated line: ``gain_db`` on the level, an optional codec, noise at ``snr_db``, loss."""

    name: str
    gain_db: float = 0.0
    codec: str | None = None
    noise: str | None = None
    snr_db: float | None = None
    loss: float = 0.0
    description: str = ""

    @property
    def line(self) -> str:
        """The line's one name, whatever it was called: a name that spells the line in the
        composition language (:func:`compose_condition`) becomes the grid's name for a grid line
        (``gain-20+mulaw`` is ``mulaw-20``), else its parts in one order (codec, gain, noise, loss).
        Every random draw of the line (noise segment, lost packets, the evaluation's dither) follows
        it, so one line under two names is one draw. Any other name is kept: a training line
        (``aug3``), or a line varied after it was named (the live evaluation's per-call gain)."""
        return line_name(self)

    def apply(
        self, samples: npt.ArrayLike, rate: int, *, noise: NoiseBank | None = None, seed: int | str = 0
    ) -> tuple[Samples, int]:
        """The clip as received over this line, and its sample rate (8000 for a telephone codec);
        the random draws follow ``seed`` and :attr:`line`."""
        x = np.asarray(samples, dtype=np.float32)
        rng = np.random.default_rng(_seed(self.line, seed))
        if self.noise is not None:
            if noise is None:
                raise ConfigError(f"condition {self.name!r} needs a noise bank (evaluation data)")
            x = mix_at_snr(x, noise.sample(self.noise, len(x), rate, rng), float(self.snr_db or 0.0), rate)
        if self.gain_db:
            x = (x * np.float32(10.0 ** (self.gain_db / 20.0))).astype(np.float32)
        if self.codec is not None:
            x, rate = encode_decode(x, rate, self.codec)
        if self.loss > 0:
            x = drop_packets(x, rate, self.loss, rng)
        return x, rate


def _seed(name: str, seed: int | str) -> int:
    return zlib.crc32(f"{name}\0{seed}".encode())


def _condition_grid() -> dict[str, Condition]:
    grid = [
        Condition("clean", description="the recording as published"),
        Condition("gain-20", gain_db=-20, description="20 dB quieter"),
        Condition("gain-40", gain_db=-40, description="40 dB quieter"),
        Condition("mulaw", codec="mulaw", description="8 kHz G.711 mu-law"),
        Condition("mulaw-20", gain_db=-20, codec="mulaw", description="8 kHz mu-law, 20 dB quieter"),
        Condition("alaw", codec="alaw", description="8 kHz G.711 A-law"),
        Condition("alaw-20", gain_db=-20, codec="alaw", description="8 kHz A-law, 20 dB quieter"),
        Condition("line-snr20", noise="line", snr_db=20, description="telephone line noise, SNR 20 dB"),
        Condition("line-snr10", noise="line", snr_db=10, description="telephone line noise, SNR 10 dB"),
        Condition("babble-snr20", noise="babble", snr_db=20, description="babble of other speakers, 20 dB"),
        Condition("babble-snr10", noise="babble", snr_db=10, description="babble of other speakers, 10 dB"),
        Condition("gsm", codec="gsm", description="8 kHz GSM 06.10 full rate (13 kbit/s)"),
        Condition("amr", codec="amr", description="8 kHz AMR-NB at 4.75 kbit/s"),
        Condition("opus", codec="opus", description="8 kHz Opus at about 7 kbit/s"),
        Condition("loss2", loss=0.02, codec="mulaw", description="8 kHz mu-law, 2% of 20 ms packets lost"),
    ]
    return {c.name: c for c in grid}


CONDITIONS: dict[str, Condition] = _condition_grid()


def parse_conditions(spec: str | Iterable[str] | None) -> list[Condition]:
    """Conditions named in ``spec`` ("all", or names separated by commas); clean when empty.

    A name is one of :data:`CONDITIONS` or a line composed of parts joined by ``+`` (see
    :func:`compose_condition`), e.g. ``gsm+gain-20`` or ``mulaw+line-snr15+loss5``."""
    if spec is None:
        return [CONDITIONS["clean"]]
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else [n.strip() for n in spec]
    names = [n for n in names if n]
    if not names:
        return [CONDITIONS["clean"]]
    if names == ["all"]:
        return list(CONDITIONS.values())
    return [CONDITIONS.get(n) or compose_condition(n) for n in names]


_PART = re.compile(
    r"^(?:gain-(?P<gain>\d+(?:\.\d+)?)|(?P<noise>line|babble)-snr(?P<snr>\d+(?:\.\d+)?)"
    r"|loss(?P<loss>\d+(?:\.\d+)?))$"
)
MAX_ATTENUATION_DB = 60.0


def compose_condition(name: str) -> Condition:
    """A line from parts joined by ``+``, each setting what it names at most once: ``gain-N`` (N dB
    quieter, up to 60), a codec (``mulaw``, ``alaw``, ``gsm``, ``amr``, ``opus``), ``line-snrN`` or
    ``babble-snrN`` (real noise N dB below the speech), ``lossN`` (N% of 20 ms packets lost, on a
    mu-law line unless another codec is named, as ``loss2``), or a grid name (``mulaw-20``)."""
    fields: dict[str, float | str] = {}
    for part in name.split("+"):
        for key, value in _part_fields(part, name).items():
            if key in fields:
                raise ConfigError(f"condition {name!r}: {part!r} sets the {key.removesuffix('_db')} twice")
            fields[key] = value
    loss = float(fields.get("loss", 0.0))
    codec = fields.get("codec", "mulaw" if loss else None)
    noise = fields.get("noise")
    return Condition(
        name,
        gain_db=float(fields.get("gain_db", 0.0)),
        codec=None if codec is None else str(codec),
        noise=None if noise is None else str(noise),
        snr_db=float(fields["snr_db"]) if "snr_db" in fields else None,
        loss=loss,
        description=f"composed: {name}",
    )


_FIELDS = ("gain_db", "codec", "noise", "snr_db", "loss")


def _part_fields(part: str, name: str) -> dict[str, float | str]:
    """What one part of a composed condition's name sets (only the fields it names)."""
    if part in CODECS:
        return {"codec": part}
    m = _PART.match(part)
    if m is None:
        grid = CONDITIONS.get(part)
        if grid is None or grid.name == "clean":
            known = f"gain-N, line-snrN, babble-snrN, lossN, {', '.join(CODECS)} or a grid name"
            raise ConfigError(f"unknown condition {name!r}: part {part!r} is not one of {known}")
        default = Condition("")
        return {f: v for f in _FIELDS if (v := getattr(grid, f)) != getattr(default, f)}
    if m["gain"] is not None:
        gain = float(m["gain"])
        if not 0 < gain <= MAX_ATTENUATION_DB:
            raise ConfigError(f"condition {name!r}: gain-N takes 0 < N <= {MAX_ATTENUATION_DB:g} dB")
        return {"gain_db": -gain}
    if m["noise"] is not None:
        return {"noise": m["noise"], "snr_db": float(m["snr"])}
    loss = float(m["loss"]) / 100.0
    if not 0 < loss < 1:
        raise ConfigError(f"condition {name!r}: lossN takes 0 < N < 100 (percent of packets)")
    return {"loss": loss}


def _fields(c: Condition) -> tuple[object, ...]:
    return tuple(getattr(c, f) for f in _FIELDS)


def line_name(c: Condition) -> str:
    """See :attr:`Condition.line`."""
    fields = _fields(c)
    try:
        spelled = CONDITIONS.get(c.name) or compose_condition(c.name)
    except ConfigError:
        return c.name  # not in the composition language: the line keeps its own name's draw
    if _fields(spelled) != fields:
        return c.name  # varied after it was named
    for name, grid in CONDITIONS.items():
        if _fields(grid) == fields:
            return name
    parts = [] if c.codec is None or (c.codec == "mulaw" and c.loss) else [c.codec]
    if c.gain_db:
        parts.append(f"gain-{-c.gain_db:g}")
    if c.noise is not None:
        parts.append(f"{c.noise}-snr{c.snr_db or 0.0:g}")
    if c.loss:
        parts.append(f"loss{round(c.loss * 100, 6):g}")
    return "+".join(parts)


def needs_noise(conditions: Iterable[Condition]) -> bool:
    return any(c.noise is not None for c in conditions)


def drop_packets(x: Samples, rate: int, loss: float, rng: np.random.Generator) -> Samples:
    """Zero a random ``loss`` share of the 20 ms packets."""
    n = int(rate * PACKET_S)
    packets = -(-len(x) // n)
    lost = rng.random(packets) < loss
    y = x.copy()
    for i in np.flatnonzero(lost):
        y[i * n : (i + 1) * n] = 0.0
    return y


# --- codecs ----------------------------------------------------------------------------------------


def _to_pcm16(x: Samples) -> npt.NDArray[np.int16]:
    return np.clip(np.round(x.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def encode_decode(x: Samples, rate: int, codec: str) -> tuple[Samples, int]:
    """``x`` through ``codec`` and back, at the codec's rate (8 kHz for every codec here)."""
    y = resample_mono(x, rate, TELEPHONE_RATE)
    pcm = _to_pcm16(y)
    if codec == "mulaw":
        out = mulaw_decode(mulaw_encode(pcm))
    elif codec == "alaw":
        out = alaw_decode(alaw_encode(pcm))
    elif codec in ("gsm", "amr"):
        out = _sox_roundtrip(pcm, codec)
    elif codec == "opus":
        out = _opus_roundtrip(pcm)
    else:
        raise ConfigError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")
    return (out.astype(np.float32) / 32768.0).astype(np.float32), TELEPHONE_RATE


def _sox_roundtrip(pcm: npt.NDArray[np.int16], codec: str) -> npt.NDArray[np.int16]:
    """Encode with sox to GSM 06.10 or AMR-NB (4.75 kbit/s, ``-C 0``) and decode back."""
    raw_in = ["-t", "raw", "-r", str(TELEPHONE_RATE), "-e", "signed", "-b", "16", "-c", "1"]
    fmt = ["-t", "gsm"] if codec == "gsm" else ["-t", "amr-nb", "-C", "0"]
    try:
        coded = subprocess.run(
            ["sox", *raw_in, "-", *fmt, "-"], input=pcm.tobytes(), capture_output=True, check=True
        ).stdout
        fmt_in = fmt[:2]
        back = subprocess.run(
            ["sox", *fmt_in, "-", *raw_in, "-"], input=coded, capture_output=True, check=True
        ).stdout
    except FileNotFoundError as exc:
        raise ConfigError("the gsm/amr conditions need sox (Debian package sox)") from exc
    except subprocess.CalledProcessError as exc:
        raise ConfigError(f"sox could not code {codec}: {exc.stderr.decode(errors='replace')}") from exc
    out = np.frombuffer(back, dtype="<i2")
    return _fit(out, len(pcm))


def _opus_roundtrip(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Opus through libsndfile at its lowest bitrate setting (about 7 kbit/s at 8 kHz, measured)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, pcm, TELEPHONE_RATE, format="OGG", subtype="OPUS", compression_level=1.0)
    buf.seek(0)
    out, rate = sf.read(buf, dtype="int16")
    if rate != TELEPHONE_RATE:
        out = _to_pcm16(resample_mono(np.asarray(out, dtype=np.float32) / 32768.0, rate, TELEPHONE_RATE))
    return _fit(np.asarray(out, dtype=np.int16), len(pcm))


def _fit(x: npt.NDArray[np.int16], n: int) -> npt.NDArray[np.int16]:
    """Trim or zero-pad a decoded signal to the input's length (codecs pad to whole frames)."""
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x), dtype=np.int16)])
