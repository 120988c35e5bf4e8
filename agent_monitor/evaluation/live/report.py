"""The live evaluation's tables: recall and false alarms live vs text, latency, per line and engine.

All audio is **synthetic** (TTS); the tables say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from agent_monitor.evaluation.live.assemble import LiveCall
from agent_monitor.evaluation.live.runner import RunLog
from agent_monitor.evaluation.live.scoring import TurnResult


@dataclass(frozen=True, slots=True)
class Summary:
    abusive: int
    text_hits: int
    live_hits: int
    clean: int
    text_false: int
    live_false: int

    @property
    def text_recall(self) -> float:
        return self.text_hits / self.abusive if self.abusive else float("nan")

    @property
    def live_recall(self) -> float:
        return self.live_hits / self.abusive if self.abusive else float("nan")

    @property
    def live_fa(self) -> float:
        return self.live_false / self.clean if self.clean else float("nan")

    @property
    def text_fa(self) -> float:
        return self.text_false / self.clean if self.clean else float("nan")


def summarize(results: Iterable[TurnResult]) -> Summary:
    rs = list(results)
    ab = [r for r in rs if r.label == 1]
    cl = [r for r in rs if r.label == 0]
    return Summary(
        abusive=len(ab),
        text_hits=sum(r.text_flag for r in ab),
        live_hits=sum(r.live_flag for r in ab),
        clean=len(cl),
        text_false=sum(r.text_flag for r in cl),
        live_false=sum(r.live_flag for r in cl),
    )


def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "n/a"


#: a call whose recognition fell further behind than this did not run live
LAG_LIMIT_S = 1.5


def _warnings(calls: list[LiveCall], log: RunLog) -> list[str]:
    """Say so when the server could not keep up: the figures are then not live figures."""
    behind = [c for c in calls if log.max_lag_s.get(c.dialogue.call_id, 0.0) > LAG_LIMIT_S]
    dropped = [c for c in calls if log.dropped_chunks.get(c.dialogue.call_id, 0)]
    failed = [c for c in calls if not (s := log.streams.get(c.dialogue.call_id)) or not s.completed]
    out = []
    if behind or dropped or failed:
        out.append(
            f"WARNING: the server did not keep up: {len(behind)} of {len(calls)} calls fell more than "
            f"{LAG_LIMIT_S:g} s behind, {len(dropped)} dropped audio, {len(failed)} streams failed "
            "(CPU busy?); recall below counts what was heard, latency is not a live figure"
        )
        out.append("")
    return out


def _spread(values: list[float]) -> str:
    return f"p50 {_pct(values, 50)} p95 {_pct(values, 95)} max {_pct(values, 100)} (n={len(values)})"


def _row(name: str, s: Summary) -> str:
    ratio = s.live_recall / s.text_recall if s.text_recall else float("nan")
    return (
        f"| {name} | {s.abusive} | {s.text_hits} ({s.text_recall:.0%}) | {s.live_hits} ({s.live_recall:.0%}) "
        f"| {ratio:.2f} | {s.clean} | {s.text_false} ({s.text_fa:.1%}) | {s.live_false} ({s.live_fa:.1%}) |"
    )


HEADER = (
    "| turns | abusive agent turns | flagged as text | flagged live | live/text | clean agent turns "
    "| text false alarms | live false alarms |\n|---|---|---|---|---|---|---|---|"
)


def _grouped(results: list[TurnResult], key: Callable[[TurnResult], str]) -> list[str]:
    return [_row(k, summarize(r for r in results if key(r) == k)) for k in sorted({key(r) for r in results})]


def _calls_with(raised: set[tuple[str, str, str, str]], line: str, issue: str, leg: str) -> int:
    return sum(1 for r in raised if r[0] == line and r[2] == issue and r[3] == leg)


def _line_of(calls: list[LiveCall]) -> dict[str, str]:
    """The line (codec/noise condition) each call of the run went over, by call id."""
    return {c.dialogue.call_id: c.plan.line.name for c in calls}


def raised_health(calls: list[LiveCall], log: RunLog) -> set[tuple[str, str, str, str]]:
    """(line, call, issue, leg) of every signal-health issue a call of the run raised; ``unclear``
    named with what started it (``unclear:unsure`` words, ``unclear:wordless`` speech)."""
    line_of = _line_of(calls)
    raised: set[tuple[str, str, str, str]] = set()
    for _, e in log.events:
        h = e.get("health")
        if e.get("type") == "signal_health" and isinstance(h, dict) and h.get("active"):
            cid = str(e.get("call_id"))
            if cid in line_of:
                raised.add((line_of[cid], cid, _issue_name(h), str(h.get("leg"))))
    return raised


def _issue_name(health: dict[str, object]) -> str:
    issue = str(health.get("issue"))
    figures = health.get("figures")
    if issue != "unclear" or not isinstance(figures, dict):
        return issue
    why = [name for name, key in (("unsure", "unsure"), ("wordless", "deaf")) if figures.get(key)]
    return ":".join([issue, *why])


def call_health(raised: set[tuple[str, str, str, str]], call_id: str) -> str:
    return ", ".join(f"{leg} {issue}" for _, c, issue, leg in sorted(raised) if c == call_id) or "-"


def health_rows(calls: list[LiveCall], log: RunLog) -> list[str]:
    """Per line: how many of its calls raised each signal-health issue at least once, on the agent
    and on the debtor leg (the monitor saying it cannot hear; on a clean line a false alarm)."""
    line_of = _line_of(calls)
    raised = raised_health(calls, log)
    rows = ["| line | calls | issues raised (calls with it at least once: agent leg / debtor leg) |"]
    rows.append("|---|---|---|")
    for line in sorted(set(line_of.values())):
        n = sum(1 for v in line_of.values() if v == line)
        issues = sorted({i for ln, _, i, _ in raised if ln == line})
        counts = [
            f"{i} {_calls_with(raised, line, i, 'agent')}/{_calls_with(raised, line, i, 'debtor')}"
            for i in issues
        ]
        rows.append(f"| {line} | {n} | {', '.join(counts) or 'none'} |")
    return rows


def format_report(
    results: list[TurnResult], calls: list[LiveCall], log: RunLog, concurrency: int, speed: float
) -> str:
    lat_word = [r.latency_word_s for r in results if r.label == 1 and r.latency_word_s is not None]
    lat_turn = [r.latency_turn_s for r in results if r.label == 1 and r.latency_turn_s is not None]
    lags = list(log.max_lag_s.values())
    clean = [r for r in results if r.label == 0]
    shown = sum(r.warned for r in clean)
    lines = [
        *_warnings(calls, log),
        f"live evaluation: {len(calls)} calls of SYNTHETIC (TTS) speech, {concurrency} concurrent, "
        f"speed {speed:g}x, over /ws/ingest",
        "",
        HEADER,
        _row("all", summarize(results)),
        "",
        "per line (codec/noise condition; each call also got a random gain, see the calls below):",
        "",
        HEADER,
        *_grouped(results, lambda r: r.line),
        "",
        "per TTS engine of the agent's voice:",
        "",
        HEADER,
        *_grouped(results, lambda r: r.agent_voice.split(":")[0]),
        "",
        "latency to the agent warning (s), flagged abusive turns: from the offending word's end "
        + _spread(lat_word)
        + "; from the turn's speech end "
        + _spread(lat_turn),
        f"clean agent turns with an abusive-rule warning on the agent's screen (also ones withdrawn "
        f"later): {shown}/{len(clean)} = {shown / max(len(clean), 1):.1%}",
        f"recognition lag (s): worst per call {_spread(lags)}; dropped audio chunks "
        f"{sum(log.dropped_chunks.values())}; server CPU {log.server_cpu * 100:.0f}% of one core "
        f"over {log.wall_s:.0f} s",
        "",
        "signal health raised live, per line:",
        "",
        *health_rows(calls, log),
        "",
        "| call | line | agent voice | customer voice | abusive live/text | clean flagged live "
        "| worst lag s | health raised |",
        "|---|---|---|---|---|---|---|---|",
    ]
    raised = raised_health(calls, log)
    for call in calls:
        cid = call.dialogue.call_id
        s = summarize(r for r in results if r.call_id == cid)
        stream = log.streams.get(cid)
        failed = "" if stream is not None and stream.completed else " (stream failed)"
        lines.append(
            f"| {cid[:8]}{failed} | {call.plan.condition} | {call.plan.agent_voice.label} "
            f"| {call.plan.debtor_voice.label} | {s.live_hits}/{s.text_hits} of {s.abusive} "
            f"| {s.live_false} of {s.clean} | {log.max_lag_s.get(cid, float('nan')):.2f} "
            f"| {call_health(raised, cid)} |"
        )
    return "\n".join(lines)
