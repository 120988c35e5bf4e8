"""Accounts of the web application, shared by the web server and the CLI (services layer: imports
storage and core only, never ``web``).

- :mod:`agent_monitor.accounts.passwords`: argon2id hashing and the zxcvbn strength check;
- :mod:`agent_monitor.accounts.users`: adding users, changing role, team, activity and password
  (the last active admin stays), ending sessions, each written to the audit log;
- :mod:`agent_monitor.accounts.secrets`: the session signing key and the ingest token;
- :mod:`agent_monitor.accounts.demo`: the sign-in accounts of ``agent-monitor demo``.
"""
