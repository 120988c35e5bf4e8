"""Speech recognition in worker processes (``server.workers``): the front process keeps ingest,
rules, stress, fusion, storage and the web; each worker process runs Vosk for the legs placed on it.

- :mod:`.messages`: what the front and a worker say to each other,
- :mod:`.child`: the worker process (``python -m agent_monitor.workers.child FD``),
- :mod:`.process`: one worker seen from the front (start, requests, death),
- :mod:`.remote`: one leg's transcriber in a worker,
- :mod:`.pool`: the workers as the front's ``TranscriberFactory``, placement and restarts.

A top-layer package: the worker process composes its speech stage (``asr``) itself, and
:mod:`agent_monitor.compose` builds the pool; the pipeline and the web see only the Protocols.
"""
