"""Offline rule tooling, never imported by the live checker: the labelled text sets
(``datasets``), classifier training (``train``), evaluation (``evaluate``, ``crosscorpus``) and
the report of the rule examples self-test (``selftest``, for ``agent-monitor rules test`` and
``rules lint``; the examples themselves are run by :mod:`qa_rules.examples`).
"""
