"""Offline evaluations that need more than one stage (e.g. the live evaluation over the real server)."""
