"""The single error hierarchy of Agent Monitor.

Every error the product raises on purpose derives from :class:`AgentMonitorError` and carries a
one-line, user-facing message (``str(err)``). The CLI prints that line and exits non-zero;
tracebacks are for bugs only. Add new errors here, under the family they belong to.
"""

from __future__ import annotations


class AgentMonitorError(Exception):
    """Base class of every expected failure; ``str()`` is a one-line message for the user."""

    exit_code: int = 1


class ConfigError(AgentMonitorError):
    """Settings or a configuration file are invalid."""


class ListenError(ConfigError):
    """A server cannot listen on a configured address and port (another process has the port,
    a port below 1024 without the right, an address not on this host); exit status 3, as uvicorn
    gives a server that fails to start."""

    exit_code = 3


# --- requests (the web API and pages) --------------------------------------------------------
class RequestError(AgentMonitorError):
    """A request cannot be served as made; the message says why (never a server fault)."""


class InvalidRequestError(RequestError):
    """A request's content is unusable (a field out of range, an unknown name)."""


class RequestTooLargeError(RequestError):
    """A request's body is larger than the endpoint accepts."""


class AccessError(RequestError):
    """The caller may not do this (not signed in, role or token not allowed, too many attempts)."""


class NotSignedInError(AccessError):
    """No valid session (``scheme="Cookie"``) or machine token (``scheme="Bearer"``) was presented."""

    def __init__(self, problem: str = "not signed in", scheme: str = "Cookie") -> None:
        super().__init__(problem)
        self.scheme = scheme


class PermissionDeniedError(AccessError):
    """Signed in, but the role (or a missing CSRF token) does not allow this request."""


class TooManyAttemptsError(AccessError):
    """Too many failed attempts (sign-in); ``retry_after_s`` says when to try again."""

    def __init__(self, problem: str, retry_after_s: float) -> None:
        super().__init__(problem)
        self.retry_after_s = retry_after_s


# --- audio -----------------------------------------------------------------------------------
class AudioError(AgentMonitorError):
    """Audio could not be read or has an unusable shape."""


class AudioDecodeError(AudioError):
    """A file or byte stream is not decodable audio (not audio, truncated, empty, unreadable)."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class AudioFormatError(AudioError):
    """Decodable audio whose format is unsupported (channels, sample rate, encoding)."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


# --- speech models and recognition -----------------------------------------------------------
class ModelError(AgentMonitorError):
    """A speech model is missing, corrupt or cannot be installed."""


class ModelNotInstalledError(ModelError):
    """The requested model is not installed in the model directory."""


class ModelLayoutError(ModelError):
    """A model directory or archive lacks required files, or a file is corrupt."""


class ModelDownloadError(ModelError):
    """A model download failed (network, checksum, interrupted)."""


class GraphToolsMissingError(ModelError):
    """The OpenFst command-line tools that build a static decoding graph are not installed."""


class RecognizerError(AgentMonitorError):
    """The speech recognizer failed on valid input."""


class SpeechWorkerError(RecognizerError):
    """A speech worker process died (or none is running): its legs' audio in flight is not
    transcribed; the call goes on recording and the worker is restarted."""


# --- rules -----------------------------------------------------------------------------------
class RulePackError(AgentMonitorError):
    """A rule pack is malformed; the message names file, rule and field."""

    def __init__(self, source: str, problem: str, rule: str | None = None, field: str | None = None) -> None:
        where = source
        if rule:
            where += f": rule {rule}"
        if field:
            where += f": field {field!r}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.rule = rule
        self.field = field
        self.problem = problem


class RuleModelError(RulePackError):
    """A trained rule model file (models/abuse/*.json) is missing or malformed."""


class RulePatternTimeoutError(RulePackError):
    """A rule's pattern ran past its time limit on one text (it backtracks: the pack needs fixing)."""


class CallRecordError(AgentMonitorError):
    """Call metadata given to the calling-hours or frequency rules is unusable."""


# --- stress ----------------------------------------------------------------------------------
class StressError(AgentMonitorError):
    """Stress features or scoring cannot be computed for this input."""


# --- evaluation data -------------------------------------------------------------------------
class DatasetError(AgentMonitorError):
    """An evaluation data folder is missing or malformed."""


# --- storage ---------------------------------------------------------------------------------
class StorageError(AgentMonitorError):
    """The database or a recording file cannot be used as asked."""


class DatabaseUnavailableError(StorageError):
    """The database cannot be reached, opened or migrated."""


class NotFoundError(StorageError):
    """A referenced record (call, alert, user, ...) does not exist."""


class InvalidRecordError(StorageError):
    """A value is not acceptable for the record (unknown role, bad range, missing link)."""


class ConflictError(StorageError):
    """The record already exists or the change would break a uniqueness rule."""


class InvalidTransitionError(StorageError):
    """A state change that is not allowed from the record's current state."""


class TamperDetectedError(StorageError):
    """A hash chain of evidence records does not verify: a row was edited, inserted or deleted."""


class RecordingError(StorageError):
    """A call recording cannot be written or read."""


class DataDirInUseError(StorageError):
    """Another server process holds the data directory's lock."""


# --- live pipeline ---------------------------------------------------------------------------
class PipelineError(AgentMonitorError):
    """The live call pipeline cannot do what was asked (call sessions, audio input, events)."""


class CallAlreadyLiveError(PipelineError):
    """A call with this id is already live on this server."""


class SessionClosedError(PipelineError):
    """Audio or a request arrived for a call session that has stopped."""


class AudioInputError(PipelineError):
    """Audio pushed into a call session does not fit its declared encoding or leg."""


class EventFormatError(PipelineError):
    """A message on a bus between processes is not an event's JSON form (``Event.to_dict()``)."""


# --- cluster (several nodes on Redis) --------------------------------------------------------
class ClusterError(AgentMonitorError):
    """The cluster's shared state (Redis) cannot do what was asked."""


class CallNotHeldError(ClusterError):
    """No live node holds this call (it ended, or its node died)."""


class NodeIdInUseError(ClusterError):
    """Another running process holds this node's id on the floor (``serve`` refuses to start)."""


# --- ingest protocols ------------------------------------------------------------------------
class IngestProtocolError(PipelineError):
    """An ingest connection broke its protocol (malformed message or frame, wrong order).

    The connection is closed with this message as the reason; ``close_code`` is the websocket
    close code used (1008 policy violation, 1003 unacceptable data, 1009 too big)."""

    def __init__(self, problem: str, close_code: int = 1008) -> None:
        super().__init__(problem)
        self.close_code = close_code


class RegistrationLimitError(PipelineError):
    """Too many AudioSocket registrations are held (waiting for a connection or a leg to come back)."""


class IngestStorageError(PipelineError):
    """An ingest connection's audio cannot be stored (the disk is full): the call is ended
    (aborted, everything already stored kept) and the connection closed with this reason."""

    def __init__(self, problem: str, close_code: int = 1011) -> None:
        super().__init__(problem)
        self.close_code = close_code


class StreamingClientError(AgentMonitorError):
    """``replay``/``capture``/``demo`` could not stream a call to the server (unreachable, refused)."""
