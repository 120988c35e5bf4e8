"""``agent-monitor models list | fetch NAME | install ARCHIVE_OR_DIR [--name NAME] | verify NAME |
build-graph [NAME]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_monitor.settings import Settings
    from asr.offline.model_store import ModelStore


def register(commands: Any, evals: Any) -> None:
    parser = commands.add_parser("models", help="list, download, install and verify speech models")
    parser.add_argument("--manifest", type=Path, help="model manifest to use instead of models/manifest.toml")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    parser.set_defaults(func=lambda args, settings: _usage(parser))

    p = sub.add_parser("list", help="known and installed models")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("fetch", help="download a known model, check its checksum and install it")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--allow-unpinned",
        action="store_true",
        help="install even if the manifest pins no sha256 for the archive (the measured one is printed)",
    )
    p.add_argument("--force", action="store_true", help="download even if installed and verified")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser(
        "install", help="install a model from an official .zip, a Maven .aar, a .tar.gz or a directory"
    )
    p.add_argument("source", metavar="ARCHIVE_OR_DIR", type=Path)
    p.add_argument("--name", help="install under this name (default: recognised known model or folder name)")
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("verify", help="recompute the sha256 of every file of an installed model")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "build-graph",
        help="compose an installed lookahead model's static decoding graph (HCLG.fst; about half the CPU)",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="model name or directory (default: asr.model)")
    p.add_argument("--force", action="store_true", help="build again even if an up-to-date graph is there")
    p.set_defaults(func=cmd_build_graph)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _store(args: argparse.Namespace, settings: Settings) -> ModelStore:
    from asr.model_manifest import load_manifest
    from asr.offline.model_store import ModelStore

    manifest = load_manifest(args.manifest) if args.manifest else None
    return ModelStore.from_settings(settings, manifest)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args, settings)
    entries = store.list()
    width = max([len(e.name) for e in entries] + [4])
    print(f"{'NAME':<{width}}  {'LANG':<6}  {'STATE':<13}  DESCRIPTION")
    for e in entries:
        if not e.installed:
            state = "-"
        elif e.problems:
            state = "INCOMPLETE"
        else:
            state = "installed"
        lang = e.spec.lang if e.spec else "?"
        desc = e.spec.description if e.spec else "(not in the manifest)"
        print(f"{e.name:<{width}}  {lang:<6}  {state:<13}  {desc}")
        if e.problems:
            print(f"{'':<{width}}  problems: {'; '.join(e.problems)}")
    print(f"model directory: {store.model_dir}")
    return 0


def cmd_install(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args, settings)
    record = store.install(args.source, args.name)
    size = sum(d.size or 0 for d in record.files.values())
    checked = (
        "checked against the manifest" if record.manifest_checked else "not in the manifest, not checked"
    )
    print(
        f"installed {record.name} into {store.model_dir / record.name}"
        f" ({len(record.files)} files, {size / 1e6:.1f} MB; {checked})"
    )
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args, settings)
    result = store.verify(args.name)
    print(
        f"{result.name}: OK, {result.files_checked} files, {result.bytes_checked / 1e6:.1f} MB"
        f" match the {result.against}"
    )
    return 0


def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from asr.offline.model_fetch import fetch

    store = _store(args, settings)
    record = fetch(store, args.name, allow_unpinned=args.allow_unpinned, force=args.force)
    if record is None:
        print(f"{args.name} is already installed and verified in {store.model_dir / args.name}")
        return 0
    print(
        f"installed {record.name} into {store.model_dir / record.name}"
        f" (archive sha256 {record.archive_sha256})"
    )
    return 0


def cmd_build_graph(args: argparse.Namespace, settings: Settings) -> int:
    from asr.model_path import resolve_model_path
    from asr.offline.static_graph import build_static_graph

    path = resolve_model_path(settings, args.name)
    result = build_static_graph(path, force=args.force)
    if result.directory is None:
        print(f"{path} ships its own graph/HCLG.fst: nothing to build")
    elif result.built:
        print(
            f"built the static graph of {path} in {result.directory}"
            f" ({result.bytes / 1e6:.0f} MB HCLG.fst, {result.cpu_s:.1f} s CPU)"
        )
    else:
        print(f"the static graph of {path} in {result.directory} is up to date (--force rebuilds it)")
    return 0
