"""Management reports: ``GET /reports`` (the page), ``GET /api/reports`` (JSON) and
``GET /api/reports/{table}.csv`` (``agents``, ``teams`` or ``rules``), for the calls started in
``[since, until)`` (dates, UTC; ``until`` inclusive as a date: the period ends at the end of that
day). Supervisors see their own team only; QA and admins every team (or ``team=``).
Every figure is aggregated in the database (:mod:`agent_monitor.storage.reports`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from agent_monitor.errors import InvalidRequestError, PermissionDeniedError
from agent_monitor.model.roles import Role
from agent_monitor.storage.reports import LEVELS, GroupReport, Report, RuleReport, build_report
from web.auth.deps import CurrentUser, ReportReader
from web.services import in_db
from web.ui.pages import shell

router = APIRouter(tags=["reports"])
#: the longest period one report covers
MAX_DAYS = 3660
DEFAULT_DAYS = 30
#: the dates a report may name (a period reaching far beyond them overflowed the date type: a 500)
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
Day = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY)]
#: a CSV cell starting with one of these is a formula to a spreadsheet; it is quoted with ``'``
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _period(since: date | None, until: date | None) -> tuple[datetime, datetime]:
    last = until or datetime.now(UTC).date()
    first = since or max(FIRST_DAY, last - timedelta(days=DEFAULT_DAYS - 1))
    if last < first:
        raise InvalidRequestError("the period's end is before its start")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequestError(f"a report covers at most {MAX_DAYS} days")
    start = datetime.combine(first, time(), UTC)
    return start, datetime.combine(last + timedelta(days=1), time(), UTC)


def _team_of(user: CurrentUser, team: str | None) -> str | None:
    """A supervisor's reports are about their own team, whatever is asked for."""
    if user.role is Role.SUPERVISOR:
        if not user.team:
            raise PermissionDeniedError("you are in no team, so there is nothing to report")
        return user.team
    return team or None


async def _report(
    request: Request, user: CurrentUser, since: date | None, until: date | None, team: str | None
) -> Report:
    start, end = _period(since, until)
    scope = _team_of(user, team)
    return await in_db(request, lambda s: build_report(s, start, end, team=scope))


def _group(g: GroupReport) -> dict[str, Any]:
    alerts = {level.value: g.alerts.get(level.value, 0) for level in LEVELS}
    return {
        "key": g.key,
        "team": g.team,
        "calls": g.calls,
        "alerts": alerts,
        "alerts_per_100": {k: round(g.per_100(v), 2) for k, v in alerts.items()},
        "hits": g.hits,
        "hits_per_100": round(g.per_100(g.hits), 2),
        "reg_f": g.reg_f,
        "reg_f_per_100": round(g.per_100(g.reg_f), 2),
        "reviews": g.reviews,
        "qa_score": None if g.qa_score is None else round(g.qa_score, 1),
        "handoffs": g.handoffs,
        "acknowledged": g.acknowledged,
        "ack_mean_s": None if g.ack_mean_s is None else round(g.ack_mean_s, 1),
        "ack_max_s": None if g.ack_max_s is None else round(g.ack_max_s, 1),
    }


def _rule(r: RuleReport, calls: int) -> dict[str, Any]:
    return {
        "rule_id": r.rule_id,
        "category": r.category,
        "hits": dict(r.hits),
        "total_hits": r.total_hits,
        "hits_per_100": round(100.0 * r.total_hits / calls, 2) if calls else 0.0,
        "confirmed": r.confirmed,
        "false_alarm": r.false_alarm,
        "precision": None if r.precision is None else round(r.precision, 3),
        "suggestion": r.suggestion,
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "team": report.team,
        "calls": report.calls,
        "levels": [level.value for level in LEVELS],
        "agents": [_group(a) for a in report.agents],
        "teams": [_group(t) for t in report.teams],
        "rules": [_rule(r, report.calls) for r in report.rules],
    }


_GROUP_COLUMNS = ["calls", *(f"alerts_{lv.value}" for lv in LEVELS), *(f"per100_{lv.value}" for lv in LEVELS)]
_GROUP_COLUMNS += [
    "hits",
    "reg_f",
    "reviews",
    "qa_score_pct",
    "handoffs",
    "acknowledged",
    "ack_mean_s",
    "ack_max_s",
]
_RULE_COLUMNS = ["rule_id", "category", "hits", "hits_per_100_calls", "confirmed", "false_alarm", "precision"]


def _group_row(g: dict[str, Any]) -> list[Any]:
    levels = [lv.value for lv in LEVELS]
    return [
        g["calls"],
        *(g["alerts"][lv] for lv in levels),
        *(g["alerts_per_100"][lv] for lv in levels),
        g["hits"],
        g["reg_f"],
        g["reviews"],
        g["qa_score"],
        g["handoffs"],
        g["acknowledged"],
        g["ack_mean_s"],
        g["ack_max_s"],
    ]


def _cell(value: Any) -> Any:
    """A text cell that a spreadsheet would take for a formula, quoted so it stays text."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def report_csv(data: dict[str, Any], table: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table == "rules":
        writer.writerow([*_RULE_COLUMNS, "suggestion"])
        for r in data["rules"]:
            writer.writerow(
                [
                    *(_cell(r[k]) for k in _RULE_COLUMNS[:2]),
                    r["total_hits"],
                    r["hits_per_100"],
                    r["confirmed"],
                    r["false_alarm"],
                    r["precision"],
                    _cell(r["suggestion"]),
                ]
            )
        return out.getvalue()
    writer.writerow(["agent_id", "team", *_GROUP_COLUMNS] if table == "agents" else ["team", *_GROUP_COLUMNS])
    for g in data[table]:
        head = [g["key"], g["team"]] if table == "agents" else [g["key"]]
        writer.writerow([*map(_cell, head), *_group_row(g)])
    return out.getvalue()


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
async def reports_page(request: Request, user: ReportReader) -> HTMLResponse:
    return shell(request, "reports", user, {"team": user.team or ""})


@router.get("/api/reports")
async def reports(
    request: Request,
    user: ReportReader,
    since: Day = None,
    until: Day = None,
    team: str | None = Query(None, max_length=100),
) -> dict[str, Any]:
    """Per agent and team: calls, alerts per 100 calls by level, rule hits and call-frequency
    findings (``reg_f``: Regulation F's and the PRC daily cap's) per 100 calls, QA scores, hand-off
    acknowledgement times; per rule: hits and QA precision with a suggested action."""
    return report_json(await _report(request, user, since, until, team))


@router.get("/api/reports/{table}.csv")
async def reports_csv(
    request: Request,
    table: Literal["agents", "teams", "rules"],
    user: ReportReader,
    since: Day = None,
    until: Day = None,
    team: str | None = Query(None, max_length=100),
) -> Response:
    """One table of the report as CSV (UTF-8, one header row)."""
    report = await _report(request, user, since, until, team)
    first, last = report.since.date(), (report.until - timedelta(days=1)).date()
    name = f"report-{table}-{first}-{last}.csv"
    return Response(
        report_csv(report_json(report), table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
