"""Several nodes on one floor: the Redis event bus, the registry of live calls and which node
holds them, and the watch that aborts the calls of a node that died (README: "Running a floor").

A services-level package above the pipeline: it imports core, storage and pipeline, never a stage.
"""
