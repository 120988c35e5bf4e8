"""Replacing a directory in one step: ``renameat2(RENAME_EXCHANGE)`` on Linux, else two renames.

With the exchange, readers see either the old or the new directory at the path, never neither;
the fallback (other kernels/systems) leaves a window of one rename without the path and puts the
old directory back if the second rename fails.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path


def swap_into_place(staged: Path, final: Path, aside: Path) -> None:
    """Make ``staged`` appear at ``final`` in one step; an old ``final`` ends up at ``staged``/``aside``."""
    if not final.exists() and not final.is_symlink():
        staged.rename(final)
        return
    if _exchange(staged, final):
        return
    final.rename(aside)
    try:
        staged.rename(final)
    except OSError:
        aside.rename(final)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
