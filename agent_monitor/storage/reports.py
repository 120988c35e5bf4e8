"""Management reports over a period of stored calls, aggregated in SQL (GROUP BY on the database).

:func:`build_report` runs one GROUP BY query per measure, each over the calls that *started* in
``[since, until)`` (optionally one team's), and joins the per-agent rows in Python:

- calls per agent;
- alerts per agent and level (``alerts``);
- rule hits per agent, rule and severity (``rule_hits``, withdrawn ones left out); hits of
  category ``call_frequency`` are the call-frequency findings (Regulation F; the PRC daily cap);
- hand-offs per agent: how many, how many acknowledged, the summed and the longest time from the
  hand-off request to its acknowledgement (seconds);
- finished QA reviews per agent and the mean of their stored scores (``qa_reviews.score``: percent
  of the weighted maximum of the form version each was scored on; drafts are left out);
- QA verdicts per rule (the rules an alert's reasons name): confirmed and false alarms.

Teams are rolled up from their agents (sums, so means stay exact). Times are wall-clock UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage.enums import HitStatus, Verdict
from agent_monitor.storage.types import UTCDateTime, as_utc

#: category of the call-frequency findings, Regulation F's and the PRC daily cap's (``qa_rules.metadata``)
REG_F_CATEGORY = "call_frequency"
#: a rule needs this many verdicts before a precision is read into a suggestion
MIN_VERDICTS = 5
LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)


@dataclass(frozen=True)
class GroupReport:
    """The figures of one agent (``key`` the agent id) or one team (``key`` the team name)."""

    key: str
    team: str | None
    calls: int = 0
    alerts: Mapping[str, int] = field(default_factory=dict)
    reg_f: int = 0
    hits: int = 0
    handoffs: int = 0
    acknowledged: int = 0
    ack_total_s: float = 0.0
    ack_max_s: float | None = None
    #: finished QA reviews
    reviews: int = 0
    #: the sum of the scores (percent) of the finished reviews that have one, and how many have
    qa_score_sum: float = 0.0
    qa_scored: int = 0

    def per_100(self, count: int) -> float:
        return 100.0 * count / self.calls if self.calls else 0.0

    @property
    def ack_mean_s(self) -> float | None:
        return self.ack_total_s / self.acknowledged if self.acknowledged else None

    @property
    def qa_score(self) -> float | None:
        """Mean score of the finished reviews in percent (``None`` without a scored one)."""
        return self.qa_score_sum / self.qa_scored if self.qa_scored else None


@dataclass(frozen=True)
class RuleReport:
    """One rule over the period: its hits by severity and QA's verdicts on the alerts naming it."""

    rule_id: str
    category: str
    hits: Mapping[str, int]
    confirmed: int = 0
    false_alarm: int = 0

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    @property
    def verdicts(self) -> int:
        return self.confirmed + self.false_alarm

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.verdicts if self.verdicts else None

    @property
    def suggestion(self) -> str:
        return suggest(self.rule_id, self.confirmed, self.false_alarm)


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    team: str | None
    agents: tuple[GroupReport, ...]
    teams: tuple[GroupReport, ...]
    rules: tuple[RuleReport, ...]

    @property
    def calls(self) -> int:
        return sum(a.calls for a in self.agents)


def suggest(rule_id: str, confirmed: int, false_alarm: int) -> str:
    """What to do about a rule, from QA's verdicts on its alerts."""
    n = confirmed + false_alarm
    if n < MIN_VERDICTS:
        return f"too few verdicts to judge ({n} of {MIN_VERDICTS} needed)"
    precision = confirmed / n
    if precision >= 0.9:
        return "keep: QA confirms nearly all of its alerts"
    if precision >= 0.6:
        return (
            f"raise its threshold: {false_alarm} of {n} alerts were false; alert on it only when "
            "confirmed (final transcript) or with debtor stress"
        )
    return (
        f"fix rule {rule_id} in its rule pack: {false_alarm} of {n} alerts were false "
        f"(precision {precision:.0%})"
    )


# --- SQL ---------------------------------------------------------------------------------------

#: the calls of the period (and team) with the rows about them: ``{facts}`` drives the join (the
#: smaller table of facts, looked up in ``calls`` by primary key); ``{J}`` is the dialect's join that
#: keeps that order (SQLite's CROSS JOIN; PostgreSQL's planner orders joins from its statistics)
_SCOPE = """
FROM {facts} {J} calls c ON c.id = {key} {J} agents a ON a.id = c.agent_id {extra}
WHERE c.started_at >= :since AND c.started_at < :until {team}
"""
_CALLS = (
    "SELECT c.agent_id, a.team, COUNT(*) FROM calls c JOIN agents a ON a.id = c.agent_id "
    "WHERE c.started_at >= :since AND c.started_at < :until {team} GROUP BY c.agent_id, a.team"
)
_ALERTS = "SELECT c.agent_id, al.level, COUNT(*) {scope} GROUP BY c.agent_id, al.level"
_HITS = (
    "SELECT c.agent_id, h.rule_id, h.category, h.severity, COUNT(*) {scope} AND h.status <> :withdrawn "
    "GROUP BY c.agent_id, h.rule_id, h.category, h.severity"
)
_HANDOFFS = (
    "SELECT c.agent_id, COUNT(*), COUNT(ho.acknowledged_at), SUM({secs}), MAX({secs}) {scope} "
    "GROUP BY c.agent_id"
)
_QA = (
    "SELECT c.agent_id, COUNT(*), SUM(r.score), COUNT(r.score) {scope} AND r.finished_at IS NOT NULL "
    "GROUP BY c.agent_id"
)
_VERDICTS = (
    "SELECT {rule} AS rule_id, v.verdict, "
    "COUNT(DISTINCT CAST(v.review_id AS TEXT) || ':' || CAST(v.alert_id AS TEXT)) {scope} "
    "AND {rule} IS NOT NULL GROUP BY {rule}, v.verdict"
)

_DIALECT: dict[str, dict[str, str]] = {
    "sqlite": {
        "J": "CROSS JOIN",
        "secs": "(julianday(ho.acknowledged_at) - julianday(ho.requested_at)) * 86400.0",
        "reasons": ", json_each(al.reasons) j",
        "v_rule": "json_extract(j.value, '$.rule')",
    },
    "postgresql": {
        "J": "JOIN",
        "secs": "EXTRACT(EPOCH FROM (ho.acknowledged_at - ho.requested_at))",
        "reasons": "CROSS JOIN LATERAL json_array_elements(al.reasons) j",
        "v_rule": "(j.value ->> 'rule')",
    },
}


class _Queries:
    """The report's SQL for one dialect, period and team."""

    def __init__(self, session: Session, since: datetime, until: datetime, team: str | None) -> None:
        dialect = session.get_bind().dialect.name
        if dialect not in _DIALECT:
            raise InvalidRecordError(f"reports are not available on database {dialect!r}")
        self.session, self.sql = session, _DIALECT[dialect]
        self.params: dict[str, Any] = {"since": since, "until": until, "withdrawn": HitStatus.WITHDRAWN.value}
        self.team_sql = "AND a.team = :team" if team is not None else ""
        if team is not None:
            self.params["team"] = team

    def scope(self, facts: str, key: str, extra: str = "") -> str:
        J = self.sql["J"]
        return _SCOPE.format(facts=facts.format(J=J), J=J, key=key, extra=extra, team=self.team_sql)

    def rows(self, sql: str) -> list[Any]:
        stmt = text(sql).bindparams(
            bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
        )
        return list(self.session.execute(stmt, self.params))

    def calls(self) -> list[Any]:
        return self.rows(_CALLS.format(team=self.team_sql))

    def alerts(self) -> list[Any]:
        return self.rows(_ALERTS.format(scope=self.scope("alerts al", "al.call_id")))

    def hits(self) -> list[Any]:
        return self.rows(_HITS.format(scope=self.scope("rule_hits h", "h.call_id")))

    def handoffs(self) -> list[Any]:
        scope = self.scope("handoffs ho", "ho.call_id")
        return self.rows(_HANDOFFS.format(secs=self.sql["secs"], scope=scope))

    def qa(self) -> list[Any]:
        return self.rows(_QA.format(scope=self.scope("qa_reviews r", "r.call_id")))

    def verdicts(self) -> list[Any]:
        facts = "qa_verdicts v {J} alerts al ON al.id = v.alert_id"
        scope = self.scope(facts, "al.call_id", self.sql["reasons"])
        return self.rows(_VERDICTS.format(rule=self.sql["v_rule"], scope=scope))


def build_report(session: Session, since: datetime, until: datetime, *, team: str | None = None) -> Report:
    """The report of the calls started in ``[since, until)`` (tz-aware), of ``team`` when given."""
    since, until = as_utc(since, "since"), as_utc(until, "until")
    if until <= since:
        raise InvalidRecordError("the report period must end after it starts")
    q = _Queries(session, since, until, team)
    agents: dict[str, dict[str, Any]] = {}
    for agent_id, agent_team, n in q.calls():
        agents[agent_id] = {"key": agent_id, "team": agent_team, "calls": int(n), "alerts": {}}
    for agent_id, level, n in q.alerts():
        agents[agent_id]["alerts"][str(level)] = int(n)
    rule_hits: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for agent_id, rule_id, category, severity, n in q.hits():
        row = agents[agent_id]
        row["hits"] = row.get("hits", 0) + int(n)
        if category == REG_F_CATEGORY:
            row["reg_f"] = row.get("reg_f", 0) + int(n)
        by_severity = rule_hits[(rule_id, category)]
        by_severity[severity] = by_severity.get(severity, 0) + int(n)
    for agent_id, n, acked, total, longest in q.handoffs():
        agents[agent_id].update(
            handoffs=int(n),
            acknowledged=int(acked),
            ack_total_s=float(total or 0.0),
            ack_max_s=None if longest is None else float(longest),
        )
    for agent_id, reviews, total, scored in q.qa():
        agents[agent_id].update(reviews=int(reviews), qa_score_sum=float(total or 0.0), qa_scored=int(scored))
    verdicts: dict[str, dict[str, int]] = defaultdict(dict)
    for rule_id, verdict, n in q.verdicts():
        verdicts[str(rule_id)][str(verdict)] = int(n)
    agent_rows = tuple(GroupReport(**agents[k]) for k in sorted(agents))
    return Report(since, until, team, agent_rows, _teams(agent_rows), _rules(rule_hits, verdicts))


def _teams(agents: tuple[GroupReport, ...]) -> tuple[GroupReport, ...]:
    by_team: dict[str, list[GroupReport]] = defaultdict(list)
    for a in agents:
        by_team[a.team or ""].append(a)
    return tuple(_roll_up(name, members) for name, members in sorted(by_team.items()))


def _roll_up(team: str, members: list[GroupReport]) -> GroupReport:
    alerts: dict[str, int] = defaultdict(int)
    for m in members:
        for level, n in m.alerts.items():
            alerts[level] += n
    longest = [m.ack_max_s for m in members if m.ack_max_s is not None]
    return GroupReport(
        key=team,
        team=team or None,
        calls=sum(m.calls for m in members),
        alerts=dict(alerts),
        reg_f=sum(m.reg_f for m in members),
        hits=sum(m.hits for m in members),
        handoffs=sum(m.handoffs for m in members),
        acknowledged=sum(m.acknowledged for m in members),
        ack_total_s=sum(m.ack_total_s for m in members),
        ack_max_s=max(longest) if longest else None,
        reviews=sum(m.reviews for m in members),
        qa_score_sum=sum(m.qa_score_sum for m in members),
        qa_scored=sum(m.qa_scored for m in members),
    )


def _rules(
    hits: Mapping[tuple[str, str], Mapping[str, int]], verdicts: Mapping[str, Mapping[str, int]]
) -> tuple[RuleReport, ...]:
    categories = {rule: category for rule, category in hits}
    names = sorted(set(categories) | set(verdicts))
    rows = [
        RuleReport(
            rule_id=rule,
            category=categories.get(rule, ""),
            hits=dict(hits.get((rule, categories.get(rule, "")), {})),
            confirmed=verdicts.get(rule, {}).get(Verdict.CONFIRMED.value, 0),
            false_alarm=verdicts.get(rule, {}).get(Verdict.FALSE_ALARM.value, 0),
        )
        for rule in names
    ]
    return tuple(sorted(rows, key=lambda r: (-r.total_hits, r.rule_id)))
