"""``agent-monitor qa forms``: the QA scorecard forms stored in the database.

- ``qa forms list``: every version of every form (id, name, version, items, who saved it, when).
- ``qa forms show [ID]``: one form version as JSON (default: the current form), e.g. to edit it.
  Both only read: on a database with no form yet (the default form is stored by the first review)
  the list says so and ``show`` prints the built-in default form (``"version": null``).
- ``qa forms import FILE``: save the form in a YAML or JSON file (``name``, ``title``, ``items``
  with ``key``, ``en``, ``zh``, ``weight``, ``max``, ``na_allowed``, ``comment_on_fail``) as the
  next version of its name; it becomes the current form. Audited (actor ``cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_monitor.errors import ConfigError

if TYPE_CHECKING:
    from agent_monitor.settings import Settings


def register(commands: Any, evals: Any) -> None:
    qa = commands.add_parser("qa", help="QA: scorecard forms")
    sub = qa.add_subparsers(dest="qa_command", metavar="WHAT")
    qa.set_defaults(func=lambda args, settings: _usage(qa))
    forms = sub.add_parser("forms", help="scorecard forms: list, show, import")
    actions = forms.add_subparsers(dest="forms_command", metavar="ACTION")
    forms.set_defaults(func=lambda args, settings: _usage(forms))

    actions.add_parser("list", help="list every form version").set_defaults(func=_list)
    show = actions.add_parser("show", help="print a form version as JSON (default: the current form)")
    show.add_argument("form_id", nargs="?", type=int)
    show.set_defaults(func=_show)
    imp = actions.add_parser("import", help="save a form from a YAML or JSON file as its next version")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage import repo
    from agent_monitor.storage.migrate import open_existing_database

    db = open_existing_database(settings)
    try:
        with db.session() as s:  # read only: the default form is seeded by the first review
            latest = repo.latest_form(s)
            current = None if latest is None else latest.id
            rows = [
                (
                    str(f.id),
                    f.name,
                    str(f.version),
                    str(len(f.items)),
                    f.created_by,
                    f.created_at.isoformat(),
                    f.id == current,
                )
                for f in repo.list_forms(s)
            ]
    finally:
        db.dispose()
    if not rows:
        print(
            "no form saved yet: reviews are scored on the built-in form `default` (stored as its"
            " version 1 by the first review); `qa forms show` prints it"
        )
        return 0
    print(f"{'ID':>4}  {'NAME':<20} {'VERSION':>7} {'ITEMS':>5}  {'SAVED BY':<12} SAVED AT")
    for fid, name, version, items, by, at, is_current in rows:
        mark = "  (current)" if is_current else ""
        print(f"{fid:>4}  {name:<20} {version:>7} {items:>5}  {by:<12} {at}{mark}")
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.storage import repo
    from agent_monitor.storage.migrate import open_existing_database

    db = open_existing_database(settings)
    try:
        with db.session() as s:  # read only, as the listing
            row = repo.get_form(s, args.form_id) if args.form_id else repo.latest_form(s)
            out: dict[str, Any]
            if row is not None:
                out = {"name": row.name, "version": row.version, "title": row.title, "items": list(row.items)}
            else:  # none stored yet: the built-in form new reviews will be scored on
                form = repo.default_form()
                items = [i.as_dict() for i in form.items]
                out = {"name": form.name, "version": None, "title": form.title, "items": items}
                print("no form saved yet: this is the built-in form `default`", file=sys.stderr)
    finally:
        db.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def read_form_file(path: Path) -> Any:
    """The mapping in a YAML (``.yaml``/``.yml``) or JSON file; :class:`ConfigError` if unreadable."""
    import yaml

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the form file: {exc}") from exc
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: {exc}"
        ) from exc


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from agent_monitor.errors import InvalidRecordError
    from agent_monitor.model.scorecard import ScorecardForm
    from agent_monitor.storage import repo
    from agent_monitor.storage.migrate import open_upgraded_database

    try:
        form = ScorecardForm.parse(read_form_file(args.file))
    except InvalidRecordError as exc:
        raise ConfigError(f"{args.file}: {exc}") from exc
    db = open_upgraded_database(settings)
    try:
        with db.session() as s:
            row = repo.save_form(s, form, "cli")
            repo.record_audit(
                s,
                "cli",
                "qa_form_save",
                object_type="qa_form",
                object_id=f"{row.name}@{row.version}",
                detail={"items": len(form.items), "file": str(args.file)},
            )
            print(
                f"form {row.name!r} version {row.version} (id {row.id}, {len(form.items)} items)"
                " is the current form"
            )
    finally:
        db.dispose()
    return 0
