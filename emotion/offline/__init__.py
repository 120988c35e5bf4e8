"""Offline stress tooling, never imported by the live tracker: the training lines (``augment``),
the per-clip feature cache (``cache``), the labelled clip table (``dataset``, ``duplicates``),
training (``training``), evaluation (``evaluation``) and its Markdown report (``report``), for
``agent-monitor stress train`` and ``agent-monitor eval stress``.
"""
