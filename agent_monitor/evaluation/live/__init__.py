"""``agent-monitor eval live``: labelled dialogues spoken by TTS, streamed as live calls.

The data flows through one module per step:

- :mod:`.dialogues`: the labelled collection dialogues and their fixed tuning/reporting split;
- :mod:`.tts`: several text-to-speech engines and voices (**synthetic** speech), cached on disk;
- :mod:`.assemble`: a dialogue becomes a two-leg call, each turn at the dialogue's own time, with
  a per-call line (gain and codec, :mod:`agent_monitor.audio.conditions`);
- :mod:`.server`: the real server in a child process on a free port with a temporary data dir;
- :mod:`.runner`: the calls streamed concurrently over ``/ws/ingest``, events from ``/ws/events``;
- :mod:`.scoring`: live hits and warnings matched to the labelled turns by time, next to the same
  turns' text through the same rule engine;
- :mod:`.report`: the tables.
"""
