"""Events from their JSON form: :func:`event_from_dict` is the inverse of ``Event.to_dict()``.

A bus between processes (:mod:`agent_monitor.cluster.redis_bus`) carries ``event.to_dict()`` as
JSON; the receiving process rebuilds the same frozen dataclass with this module, so
``event_from_dict(json.loads(json.dumps(e.to_dict()))) == e`` for every event. The decoding follows
the dataclasses' type hints (enums, ``datetime``, tuples, optional fields, nested dataclasses);
:class:`TranscriptEvent`, whose JSON form is flattened, has its own decoder.

Input that is not an event's JSON form raises :class:`~agent_monitor.errors.EventFormatError`,
non-finite numbers included (``int(inf)``'s ``OverflowError``, an infinite or NaN ``float``).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from agent_monitor.errors import AgentMonitorError, EventFormatError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import EVENT_TYPES, Event, TranscriptEvent
from agent_monitor.model.rules import RequiredDisclosure
from agent_monitor.model.session import CallInfo
from agent_monitor.model.transcript import Transcript, Word

__all__ = ["decode_call_info", "decode_checklist", "event_from_dict"]


def event_from_dict(data: Any) -> Event:
    """The event whose ``to_dict()`` is ``data``; :class:`EventFormatError` if it is not one."""
    if not isinstance(data, dict):
        raise EventFormatError(f"an event is a JSON object, not {type(data).__name__}")
    cls = EVENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise EventFormatError(f"unknown event type {data.get('type')!r}")
    try:
        if cls is TranscriptEvent:
            return _transcript_event(data)
        return typing.cast(Event, _dataclass(cls, data))
    except EventFormatError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, AgentMonitorError) as exc:
        raise EventFormatError(f"malformed {cls.type} event: {exc}") from exc


def decode_call_info(data: Any) -> CallInfo:
    """The :class:`CallInfo` whose ``to_dict()`` is ``data``; :class:`EventFormatError` if not."""
    try:
        return typing.cast(CallInfo, _dataclass(CallInfo, data))
    except EventFormatError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, AgentMonitorError) as exc:
        raise EventFormatError(f"malformed call info: {exc}") from exc


def decode_checklist(data: Any) -> tuple[RequiredDisclosure, ...]:
    """The checklist whose items' ``to_dict()`` are ``data`` (a list); :class:`EventFormatError`
    if it is not one."""
    if not isinstance(data, list):
        raise EventFormatError(f"a checklist is a JSON list, not {type(data).__name__}")
    try:
        return tuple(typing.cast(RequiredDisclosure, _dataclass(RequiredDisclosure, d)) for d in data)
    except EventFormatError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, AgentMonitorError) as exc:
        raise EventFormatError(f"malformed checklist: {exc}") from exc


def _transcript_event(data: dict[str, Any]) -> TranscriptEvent:
    words = tuple(
        Word(text=w["text"], start=_finite(w["start"]), end=_finite(w["end"]), conf=_finite(w["conf"]))
        for w in data["words"]
    )
    transcript = Transcript(
        leg=Leg(data["leg"]),
        utterance=int(data["utterance"]),
        start=_finite(data["start"]),
        end=_finite(data["end"]),
        text=str(data["text"]),
        final=bool(data["final"]),
        words=words,
        lang=str(data["lang"]),
        at_pause=bool(data.get("at_pause", False)),
        speech_s=_finite(data.get("speech_s", 0.0)),
    )
    return TranscriptEvent(call_id=str(data["call_id"]), t=_finite(data["t"]), transcript=transcript)


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise EventFormatError(f"{value!r} is not a finite number")
    return number


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dataclass(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise EventFormatError(f"{cls.__name__} is a JSON object, not {type(data).__name__}")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _value(hints[f.name], data[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise EventFormatError(f"{cls.__name__}: missing field {f.name!r}")
    return cls(**kwargs)


def _value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _value(inner, value)
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise EventFormatError(f"{value!r} is not one of {typing.get_args(hint)}")
        return value
    if origin is tuple:
        return _tuple(hint, value)
    if origin is dict:
        key_t, value_t = typing.get_args(hint)
        return {_value(key_t, k): _value(value_t, v) for k, v in value.items()}
    return _scalar(hint, value)


def _tuple(hint: Any, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise EventFormatError(f"expected a list, not {type(value).__name__}")
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_value(args[0], v) for v in value)
    if len(args) != len(value):
        raise EventFormatError(f"expected {len(args)} items, not {len(value)}")
    return tuple(_value(a, v) for a, v in zip(args, value, strict=True))


def _scalar(hint: Any, value: Any) -> Any:
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _dataclass(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
            return _finite(value)
        if hint in (str, int, bool) and type(value) is hint:
            return value
    raise EventFormatError(f"{value!r} is not a {getattr(hint, '__name__', hint)}")
