"""``agent-monitor users``: web application users (there is no default user or password).

- ``users add USER --role agent|supervisor|qa|admin [--agent-id A] [--team T] [--password-stdin]``:
  the first admin is created this way; the password is asked twice at the terminal, or read as one
  line from standard input with ``--password-stdin``.
- ``users passwd USER [--password-stdin]``: set a new password (ends the user's sessions).
- ``users list``: username, role, agent id, team, active.
- ``users deactivate USER`` / ``users activate USER``: a deactivated user cannot sign in.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.roles import Role

if TYPE_CHECKING:
    from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    users = commands.add_parser("users", help="web users: add, passwd, list, activate, deactivate")
    sub = users.add_subparsers(dest="users_command", metavar="ACTION")
    users.set_defaults(func=lambda args, settings: _usage(users))

    add = sub.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, type=Role, choices=list(Role))
    add.add_argument("--agent-id", help="for role agent: the agent id their calls carry (required)")
    add.add_argument(
        "--team", help="for a supervisor: the team whose calls they see; for an agent: their team"
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=_add)

    passwd = sub.add_parser("passwd", help="set a user's password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd.set_defaults(func=_passwd)

    lst = sub.add_parser("list", help="list the users")
    lst.set_defaults(func=_list)

    for name, active in (("activate", True), ("deactivate", False)):
        p = sub.add_parser(name, help=f"{name} a user")
        p.add_argument("username")
        p.set_defaults(func=_set_active, active=active)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _read_password(args: argparse.Namespace, settings: Settings) -> str:
    from agent_monitor.accounts.passwords import check_password_strength

    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.rstrip("\r")
    else:
        import getpass

        try:
            password = getpass.getpass("New password: ")
            if getpass.getpass("Repeat it: ") != password:
                raise InvalidRecordError("the two passwords differ")
        except EOFError:
            raise InvalidRecordError(
                "no password given (no terminal to ask on: use --password-stdin)"
            ) from None
    web = settings.web
    check_password_strength(password, args.username, web.min_password_length, web.min_password_score)
    return password


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.accounts import users as accounts
    from agent_monitor.accounts.passwords import hash_password
    from agent_monitor.storage.migrate import open_upgraded_database

    if args.role is Role.AGENT and not args.agent_id:
        raise InvalidRecordError("a user with role agent needs --agent-id")
    password_hash = hash_password(_read_password(args, settings))
    db = open_upgraded_database(settings)
    try:
        with db.session() as s:
            accounts.add_user(
                s, "cli", args.username, password_hash, args.role, agent_id=args.agent_id, team=args.team
            )
    finally:
        db.dispose()
    print(f"added user {args.username} ({args.role})")
    return 0


def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.accounts import users as accounts
    from agent_monitor.accounts.passwords import hash_password
    from agent_monitor.storage import repo
    from agent_monitor.storage.migrate import open_upgraded_database

    db = open_upgraded_database(settings)
    try:
        with db.session() as s:
            repo.require_user(s, args.username)  # whatever its case, as at sign-in
        password_hash = hash_password(_read_password(args, settings))
        with db.session() as s:
            name = accounts.change_password(s, "cli", args.username, password_hash)
    finally:
        db.dispose()
    print(f"password of {name} changed")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage import repo
    from agent_monitor.storage.migrate import open_existing_database

    db = open_existing_database(settings)
    try:
        with db.session() as s:
            rows = [
                (u.username, str(u.role), u.agent_id or "-", u.team or "-", "yes" if u.active else "no")
                for u in repo.list_users(s)
            ]
    finally:
        db.dispose()
    if not rows:
        print("no users yet; add the first admin with: agent-monitor users add NAME --role admin")
        return 0
    header = ("USERNAME", "ROLE", "AGENT", "TEAM", "ACTIVE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _set_active(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.accounts import users as accounts
    from agent_monitor.storage.migrate import open_upgraded_database

    db = open_upgraded_database(settings)
    try:
        with db.session() as s:
            name = accounts.set_active(s, "cli", args.username, args.active)
    finally:
        db.dispose()
    print(f"{name} {'activated' if args.active else 'deactivated'}")
    return 0
