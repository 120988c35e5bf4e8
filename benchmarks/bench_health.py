"""Signal health on held-out audio: false events on normal lines, detection of broken legs, CPU.

    python benchmarks/bench_health.py [--data DIR] [--seconds 150]

The thresholds (``settings.health``) were chosen on the SpokenWOZ call ``calls/spokenwoz/MUL1011``;
``--set heldout`` (the default) measures on audio that played no part in that, ``--set dev`` on
the dialogues that were looked at too. Two-party "dialogues" of 8 kHz turns taken
in turn from other speakers, each turn scaled to an active level of -26 dBFS (a normal telephone
level), the other leg carrying nothing while one speaks:

* held out, ``en-heldout``: agent = the LibriVox and LibriSpeech readers (``speech/en/librivox``,
  ``speech/en/librispeech``), debtor = the four FSDD speakers reading digits, five a turn;
* dev, ``en``: agent = the MFA spontaneous monologues (one male speaker), debtor = RAVDESS actors;
* dev, ``zh``: agent = CASIA speaker wangzhe, debtor = CASIA liuchanhg and zhaoquanyin.

Each dialogue is run through :class:`agent_monitor.pipeline.health.CallHealth` in 20 ms frames

* under every line condition of :data:`agent_monitor.audio.conditions.CONDITIONS` but ``gain-40``
  (both legs, real noise): every health event there is a false one;
* with one leg broken (the debtor's, then the agent's): ``silent`` (digital silence),
  ``encoding_mismatch`` (its mu-law bytes sent as L16), ``clipping`` (3% of the speech samples
  beyond full scale),
  ``low_level`` (``gain-40``, 40 dB quieter), ``noisy`` (babble of other speakers mixed in at 0 dB
  SNR): is the expected issue raised on that leg, when, and what else is raised.

CPU: ``time.process_time`` of the monitor's loop over both legs, as % of one core per leg.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.audio.conditions import CONDITIONS, Condition
from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.audio.noise import NoiseBank, active_power
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import SignalHealth
from agent_monitor.pipeline.health import CallHealth
from agent_monitor.settings import HealthSettings, load_settings

RATE = 8000
#: the active level every turn is scaled to (ITU-T P.56's nominal -26 dBov)
SPEECH_DBFS = -26.0
GAP_S = 0.5
Legs = tuple[np.ndarray, np.ndarray]


def clips(folder: Path, keep: Callable[[dict[str, str]], bool], max_s: float = 8.0) -> list[np.ndarray]:
    from agent_monitor.audio.decode import decode_file

    with (folder / "labels.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if keep(r)]
    out = []
    for r in rows:
        x = decode_file(folder / r["path"], target_rate=RATE).samples[0][: int(max_s * RATE)]
        # every turn at a normal telephone level, so that nothing is wrong on a normal line
        gain = 10 ** ((SPEECH_DBFS - 10 * np.log10(max(active_power(x, RATE), 1e-12))) / 20)
        out.append((x * gain).astype(np.float32))
    return out


def dialogue(agent: list[np.ndarray], debtor: list[np.ndarray], seconds: float) -> Legs:
    """Turns agent, debtor, agent, ... until ``seconds``; the silent leg is digital zero."""
    a_parts, d_parts, total, i = [], [], 0, 0
    gap = np.zeros(int(GAP_S * RATE), dtype=np.float32)
    while total < seconds * RATE:
        a, d = agent[i % len(agent)], debtor[i % len(debtor)]
        a_parts += [a, np.zeros(len(d), np.float32), gap]
        d_parts += [np.zeros(len(a), np.float32), d, gap]
        total += len(a) + len(d) + len(gap)
        i += 1
    return np.concatenate(a_parts), np.concatenate(d_parts)


def pcm(x: np.ndarray) -> bytes:
    return (np.clip(x, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


def monitor(agent: bytes, debtor: bytes, settings: HealthSettings) -> tuple[list[SignalHealth], float]:
    health = CallHealth("bench", settings, RATE, "L16")
    events: list[SignalHealth] = []
    step = 320
    t0 = time.process_time()
    for i in range(0, max(len(agent), len(debtor)), step):
        if i < len(agent):
            events += health.push(Leg.AGENT, agent[i : i + step], i / 2 / RATE)
        if i < len(debtor):
            events += health.push(Leg.DEBTOR, debtor[i : i + step], i / 2 / RATE)
    return events, time.process_time() - t0


def broken(kind: str, x: np.ndarray, noise: NoiseBank) -> bytes:
    if kind == "silent":
        return bytes(2 * len(x))
    if kind == "encoding_mismatch":  # the leg's mu-law bytes, declared L16 (looped to the same length)
        return (mulaw_encode(np.frombuffer(pcm(x), dtype="<i2")) * 2)[: 2 * len(x)]
    if kind == "clipping":  # too hot: 3% of the speech samples beyond full scale, clipped
        gain = 1.0 / float(np.percentile(np.abs(x[np.abs(x) > 1e-3]), 97))
        return pcm(np.clip(x * gain, -1.0, 1.0))
    if kind == "noisy":  # babble of other speakers at the speech's own level (SNR 0 dB)
        return pcm(Condition("babble-snr0", noise="babble", snr_db=0.0).apply(x, RATE, noise=noise)[0])
    return pcm(CONDITIONS["gain-40"].apply(x, RATE)[0])  # low_level


def describe(events: list[SignalHealth]) -> str:
    return "; ".join(
        f"{e.t:.1f}s {e.health.leg.value} {e.health.issue.value}" for e in events if e.health.active
    )


def main() -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=settings.eval_data_dir)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--set", choices=("dev", "heldout"), default="heldout")
    args = parser.parse_args()
    data, cfg = args.data, settings.health
    dialogues = heldout(data, args.seconds) if args.set == "heldout" else dev(data, args.seconds)
    noise = NoiseBank.from_data_dir(data)
    print(f"{args.set} set: {', '.join(dialogues)}")
    normal_lines(dialogues, noise, cfg, args.seconds)
    broken_legs(dialogues, noise, cfg)
    return 0


def dev(data: Path, seconds: float) -> dict[str, Legs]:
    """The dialogues looked at while choosing the thresholds (besides MUL1011)."""
    return {
        "en": dialogue(
            clips(data / "speech/en/mfa_spontaneous", lambda r: True),
            clips(data / "emotion/ravdess", lambda r: True),
            seconds,
        ),
        "zh": dialogue(
            clips(data / "emotion/casia", lambda r: r["speaker"] == "wangzhe"),
            clips(data / "emotion/casia", lambda r: r["speaker"] != "wangzhe"),
            seconds,
        ),
    }


def heldout(data: Path, seconds: float) -> dict[str, Legs]:
    """Dialogues never looked at while choosing the thresholds: the LibriVox and LibriSpeech readers
    as the agent, the FSDD speakers reading digits (five digits a turn) as the debtor."""
    agent = clips(data / "speech/en/librivox", lambda r: True) + clips(
        data / "speech/en/librispeech", lambda r: True
    )
    digits = clips(data / "speech/en/fsdd_8k_digits", lambda r: True)
    pause = np.zeros(int(0.2 * RATE), dtype=np.float32)
    turns = [
        np.concatenate([x for d in digits[i : i + 5] for x in (d, pause)]) for i in range(0, len(digits), 5)
    ]
    return {"en-heldout": dialogue(agent, turns, seconds)}


def normal_lines(dialogues: dict[str, Legs], noise: NoiseBank, cfg: HealthSettings, seconds: float) -> None:
    cpu = audio = 0.0
    false_events = runs = 0
    print(f"normal lines ({seconds:.0f} s dialogues): health events raised (all are false)")
    for name, (a, d) in dialogues.items():
        for cond in (c for c in CONDITIONS.values() if c.name != "gain-40"):
            la = cond.apply(a, RATE, noise=noise, seed=f"{name}-a")[0]
            ld = cond.apply(d, RATE, noise=noise, seed=f"{name}-d")[0]
            events, used = monitor(pcm(la), pcm(ld), cfg)
            cpu, audio, runs = cpu + used, audio + 2 * len(la) / RATE, runs + 1
            false_events += sum(e.health.active for e in events)
            if events:
                print(f"  {name} {cond.name:<13} {describe(events)}")
    print(f"  {false_events} false starts in {runs} runs ({audio / 2 / 60:.0f} min of calls)")
    print(
        f"CPU: {100 * cpu / audio:.3f}% of one core per leg ({audio / 60:.0f} min of leg audio, 20 ms frames)"
    )


def broken_legs(dialogues: dict[str, Legs], noise: NoiseBank, cfg: HealthSettings) -> None:
    print("broken legs: expected issue raised? (time of the first start; other starts)")
    hits = total = 0
    for name, (a, d) in dialogues.items():
        for leg in (Leg.DEBTOR, Leg.AGENT):
            for kind in ("silent", "encoding_mismatch", "clipping", "low_level", "noisy"):
                la, ld = (
                    (broken(kind, a, noise), pcm(d)) if leg is Leg.AGENT else (pcm(a), broken(kind, d, noise))
                )
                events, _ = monitor(la, ld, cfg)
                want = [
                    e for e in events if e.health.active and e.health.leg is leg and e.health.issue == kind
                ]
                other = [e for e in events if e.health.active and e not in want]
                hits, total = hits + bool(want), total + 1
                first = f"yes at {want[0].t:5.1f} s" if want else "NO"
                print(f"  {name} {leg.value:<6} {kind:<17} {first:<12} other: {describe(other) or '-'}")
    print(f"  detected {hits}/{total}")


if __name__ == "__main__":
    raise SystemExit(main())
