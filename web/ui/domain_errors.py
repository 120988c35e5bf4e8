"""The one mapping of the project's errors (:mod:`agent_monitor.errors`) to HTTP answers for the
QA routes that raise them: a clear ``{"detail": message}``, never a 5xx for bad input."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agent_monitor.errors import (
    AgentMonitorError,
    ConflictError,
    InvalidRecordError,
    InvalidTransitionError,
    NotFoundError,
    RecordingError,
)

#: error class -> HTTP status, most specific first
STATUS: tuple[tuple[type[AgentMonitorError], int], ...] = (
    (NotFoundError, 404),
    (RecordingError, 404),
    (InvalidRecordError, 422),
    (ConflictError, 409),
    (InvalidTransitionError, 409),
)


def status_of(exc: AgentMonitorError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentMonitorError)
    return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))


def install_domain_errors(app: FastAPI) -> None:
    app.add_exception_handler(AgentMonitorError, domain_error)
