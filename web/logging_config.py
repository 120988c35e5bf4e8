"""Logging of ``agent-monitor serve``: every line with a UTC timestamp, and no secrets in it.

Uvicorn's access log writes each request's path with its query string, and a machine client may
pass the ingest token as ``?token=...``; :class:`RedactSecrets` replaces the value of such
query parameters with ``[redacted]`` in every record (access log, websocket lines, application
logs) before it is formatted. The application's own loggers (``agent_monitor.*``, ``web.*``,
``asr.*``, ...) go to the same stream at INFO, in the same format.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

#: query parameters whose values never reach a log
SECRET_PARAMS = ("token", "access_token", "password")
_SECRET = re.compile(r"(?i)([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&\s\"']*")


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``[redacted]``."""
    return _SECRET.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Redacts secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class ClientFaultsAsWarnings(logging.Filter):
    """A client's bad bytes are the client's fault, not the server's: uvicorn logs a text frame
    that is not UTF-8 as an ERROR with a traceback (and closes it with 1007, which is right). Such
    records become one WARNING line, so that anyone who can open a websocket cannot fill the log
    with server errors."""

    MESSAGES = ("Invalid UTF-8 sequence received from client",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(self.MESSAGES):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class UtcFormatter(logging.Formatter):
    """``%(asctime)s`` as ISO 8601 UTC with milliseconds (``2026-12-01T13:25:48.123Z``)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class UtcAccessFormatter(UtcFormatter):
    """Uvicorn's access record (client, method, path, version, status) as one line."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 5:
            client, method, path, version, status = args
            record.message = f'{client} - "{method} {path} HTTP/{version}" {status}'
        return super().formatMessage(record)


FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` configuration for the server process."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["redact"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}, "client_faults": {"()": ClientFaultsAsWarnings}},
        "formatters": {
            "default": {"()": UtcFormatter, "fmt": FORMAT},
            "access": {"()": UtcAccessFormatter, "fmt": FORMAT},
        },
        "handlers": {
            "default": {**handler, "formatter": "default"},
            "access": {**handler, "formatter": "access"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level, "filters": ["client_faults"]},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": level},
    }
