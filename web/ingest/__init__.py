"""Websocket ingest endpoints: ``/ws/ingest`` (:mod:`.ws_ingest`) and ``/ws/twilio`` (:mod:`.twilio`).

Protocol parsing lives in :mod:`agent_monitor.ingest`; these modules move frames between the
websocket and a :class:`~agent_monitor.pipeline.CallSession` (:mod:`.common`).
"""
