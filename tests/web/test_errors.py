"""The error -> HTTP table of :mod:`web.errors`: every error class of ``agent_monitor/errors.py``
gets a status, bad input never a 5xx, and each response carries the headers its status needs."""

from __future__ import annotations

import inspect

import agent_monitor.errors as errors
from web.errors import STATUS, headers_of, status_of

#: families whose errors are the caller's doing: always 4xx
CALLER_FAULTS = (
    errors.RequestError,
    errors.NotFoundError,
    errors.InvalidRecordError,
    errors.ConflictError,
    errors.InvalidTransitionError,
    errors.AudioError,
    errors.RulePackError,
    errors.IngestProtocolError,
    errors.RegistrationLimitError,
    errors.CallAlreadyLiveError,
    errors.AudioInputError,
    errors.SessionClosedError,
)


def every_error() -> list[type[errors.AgentMonitorError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.AgentMonitorError)
    ]


def instance(cls: type[errors.AgentMonitorError]) -> errors.AgentMonitorError:
    own = [c for c in cls.__mro__ if issubclass(c, errors.AgentMonitorError)]
    if not any("__init__" in vars(c) for c in own):
        return cls("problem")
    params = [p for p in inspect.signature(cls).parameters.values() if p.default is p.empty]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    values = {"retry_after_s": 2.5}
    return cls(*(values.get(n, "x") for n in names))


def test_bad_input_is_never_a_server_error() -> None:
    found = every_error()
    assert len(found) > 30
    for cls in found:
        status = status_of(instance(cls))
        assert 400 <= status < 600, cls
        if issubclass(cls, CALLER_FAULTS):
            assert 400 <= status < 500, (cls.__name__, status)
    assert status_of(errors.DatabaseUnavailableError("down")) == 503
    assert status_of(errors.AgentMonitorError("bug")) == 500


def test_statuses_of_the_access_errors_and_their_headers() -> None:
    assert status_of(errors.NotSignedInError()) == 401
    assert headers_of(errors.NotSignedInError()) == {"WWW-Authenticate": "Cookie"}
    assert headers_of(errors.NotSignedInError("token", scheme="Bearer")) == {"WWW-Authenticate": "Bearer"}
    assert status_of(errors.PermissionDeniedError("role")) == 403
    too_many = errors.TooManyAttemptsError("slow down", 2.1)
    assert status_of(too_many) == 429 and headers_of(too_many) == {"Retry-After": "3"}
    assert status_of(errors.RequestTooLargeError("big")) == 413
    # the nearest class in the MRO decides: a subclass is not shadowed by its family
    assert status_of(errors.InvalidTransitionError("no")) == 409
    assert status_of(errors.RecordingError("gone")) == 404
    assert all(issubclass(cls, errors.AgentMonitorError) for cls in STATUS)
