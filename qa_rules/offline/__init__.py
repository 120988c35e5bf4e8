"""Offline rule tooling, never imported by the live checker: the labelled text sets
(``datasets``), classifier training (``train``), evaluation (``evaluate``, ``crosscorpus``) and
the rule examples self-test (``selftest``, run by ``agent-monitor rules test``).
"""
