"""``one_way`` on two-party calls: false starts on working calls, and detection of a leg gone dead.

    python benchmarks/health_one_way.py [--data DIR] [--tts-cache DIR] [--split tune|report|all]
        [--pauses 0,1,2,3] [--pause-s 0.5,1.0,2.0]

The calls are the live evaluation's (:func:`agent_monitor.evaluation.live.evaluate.build_calls`:
the collection dialogues spoken by two TTS engines, SYNTHETIC speech, on the live evaluation's
default lines and gains; a leg carries digital silence while its party listens) and the real
stereo call ``calls/spokenwoz/MUL1011`` (real line noise on both legs). Each call is run through
:class:`agent_monitor.pipeline.health.CallHealth` in 20 ms frames, per rule variant (``one_way_pauses``
x ``one_way_pause_s``; 0 pauses: the duration alone, the rule before session 22):

* as it is: every ``one_way`` start is false (both parties are there);
* broken: from the start of the debtor turn nearest the middle of the call (MUL1011: from 60 s)
  the debtor leg carries nothing to the end, then the same for the agent leg; found or not, and
  the delay from the leg going dead to the start. A call whose other party does not speak for
  ``one_way_s`` after that point cannot raise it under any variant, and is left out of both counts.

Nothing is decoded or recognised: the health monitor alone, so the whole split takes a minute (the
turns' TTS is rendered once into ``--tts-cache``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.pipeline.health import CallHealth
from agent_monitor.pipeline.health_meter import frame_levels
from agent_monitor.settings import HealthSettings, load_settings

if TYPE_CHECKING:
    from agent_monitor.evaluation.live.dialogues import Split

RATE = 8000
FRAME = 160
MUL1011_CUT_S = 60.0


@dataclass(frozen=True)
class Case:
    """Both legs of one call (16-bit PCM at 8 kHz) and, for a broken one, which leg died when."""

    name: str
    agent: np.ndarray
    debtor: np.ndarray
    dead: Leg | None = None
    dead_from: float = 0.0


@dataclass
class Tally:
    legs: int = 0
    false_legs: int = 0
    broken: int = 0
    found: int = 0
    delays: list[float] = field(default_factory=list)


def one_way_starts(case: Case, settings: HealthSettings) -> list[tuple[Leg, float]]:
    health = CallHealth(case.name, settings, RATE, "L16")
    a, d = case.agent.tobytes(), case.debtor.tobytes()
    starts = []
    for i in range(0, max(len(a), len(d)), FRAME * 2):
        t = i / 2 / RATE
        for leg, data in ((Leg.AGENT, a), (Leg.DEBTOR, d)):
            for e in health.push(leg, data[i : i + FRAME * 2], t):
                if e.health.issue is HealthIssue.ONE_WAY and e.health.active:
                    starts.append((e.health.leg, e.t))
    return starts


def broken(case: Case, leg: Leg, t: float) -> Case:
    agent, debtor = case.agent.copy(), case.debtor.copy()
    (agent if leg is Leg.AGENT else debtor)[int(t * RATE) :] = 0
    return Case(f"{case.name}/{leg.value}-dead", agent, debtor, leg, t)


def other_speaks_long_enough(case: Case, settings: HealthSettings) -> bool:
    """Whether the live leg carries speech ``one_way_s`` or more after the other leg died."""
    other = case.debtor if case.dead is Leg.AGENT else case.agent
    active = np.nonzero(frame_levels(other[int(case.dead_from * RATE) :], FRAME) > -50.0)[0]
    return bool(len(active)) and active[-1] * FRAME / RATE >= settings.one_way_s


def synthetic_cases(data: Path, tts_cache: Path, split: Split) -> list[tuple[Case, float]]:
    """The live evaluation's calls and the time their debtor leg dies in the broken copies."""
    from agent_monitor.evaluation.live.evaluate import LiveEvalOptions, build_calls

    calls = build_calls(LiveEvalOptions(data_dir=data, tts_cache=tts_cache, split=split))
    out = []
    for call in calls:
        middle = len(call.audio.agent) / RATE / 2
        debtor_turns = [p.start_s for p in call.turns if p.turn.leg is Leg.DEBTOR]
        cut = min(debtor_turns, key=lambda s: abs(s - middle)) if debtor_turns else middle
        out.append((Case(call.dialogue.call_id[:8], call.audio.agent, call.audio.debtor), cut))
    return out


def real_case(data: Path) -> tuple[Case, float]:
    from agent_monitor.audio.decode import decode_file, float_to_pcm16

    audio = decode_file(data / "calls" / "spokenwoz" / "MUL1011.opus", target_rate=RATE)
    legs = [np.frombuffer(float_to_pcm16(x), dtype="<i2") for x in audio.samples[:2]]
    return Case("MUL1011", legs[0], legs[1]), MUL1011_CUT_S


def measure(cases: list[tuple[Case, float]], settings: HealthSettings) -> Tally:
    tally = Tally()
    for case, cut in cases:
        tally.legs += 2
        tally.false_legs += len({leg for leg, _ in one_way_starts(case, settings)})
        for leg in (Leg.DEBTOR, Leg.AGENT):
            dead = broken(case, leg, cut)
            if not other_speaks_long_enough(dead, settings):
                continue
            tally.broken += 1
            hits = [t for lg, t in one_way_starts(dead, settings) if lg is leg and t > cut]
            if hits:
                tally.found += 1
                tally.delays.append(hits[0] - cut)
    return tally


def row(name: str, t: Tally) -> str:
    d = sorted(t.delays)
    p90 = d[min(len(d) - 1, int(0.9 * len(d)))] if d else float("nan")
    med = statistics.median(d) if d else float("nan")
    top = max(d) if d else float("nan")
    return f"| {name} | {t.false_legs}/{t.legs} | {t.found}/{t.broken} | {med:.1f} | {p90:.1f} | {top:.1f} |"


def main() -> int:
    settings = load_settings()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=settings.eval_data_dir)
    ap.add_argument("--tts-cache", type=Path, default=settings.data_dir / "tts-cache")
    ap.add_argument("--split", choices=("tune", "report", "all"), default="report")
    ap.add_argument("--pauses", default=f"0,{settings.health.one_way_pauses}")
    ap.add_argument("--pause-s", default=str(settings.health.one_way_pause_s))
    args = ap.parse_args()
    sets = {
        "synthetic": synthetic_cases(args.data, args.tts_cache, args.split),
        "MUL1011 (real)": [real_case(args.data)],
    }
    print(f"one_way per rule variant; synthetic calls: live evaluation, {args.split} split\n")
    print("| calls: pauses x pause_s | false legs | dead legs found | delay p50 s | p90 | max |")
    print("|---|---|---|---|---|---|")
    for pauses in (int(p) for p in args.pauses.split(",")):
        for pause_s in (float(p) for p in args.pause_s.split(",")):
            update = {"one_way_pauses": pauses, "one_way_pause_s": pause_s}
            variant = settings.health.model_copy(update=update)
            for name, cases in sets.items():
                print(row(f"{name}: {pauses} x {pause_s:g} s", measure(cases, variant)), flush=True)
            if pauses == 0:
                break  # the duration alone: pause_s plays no part
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
