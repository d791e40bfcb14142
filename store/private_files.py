"""Linkline's folder and files are for the account that runs it, and nobody else.

The data folder holds the SQLite database (staff password hashes, delivery metadata), the
key that unlocks every personal field, dry-run messages and letters. A copy readable by
another account on the machine undoes the encryption at rest, so start-up refuses or
tightens anything looser than owner-only, and every problem is one line saying what to run.

What is refused and what is tightened, and why:

- the **key file** is refused: if others could read it, it may already have been copied,
  and the person running Linkline must know that (and may want a new key), not have it
  quietly hidden by a chmod;
- the **data folder** is refused: it may not be Linkline's alone (a home folder, a shared
  mount, /tmp) and changing its mode could break something else, so the operator decides;
- the **database file** and its ``-wal``/``-shm`` companions are tightened to 0600, with
  a note: they are Linkline's own files, no other program needs to read them, and a
  restored backup or a database made by an older version should simply become private.
  When the file belongs to someone else and cannot be changed, start-up refuses instead.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from store.errors import CannotStart

OWNER_ONLY_FOLDER = 0o700
OWNER_ONLY_FILE = 0o600
_OTHERS = 0o077  # any permission for the group or for everyone else


def _checks_modes() -> bool:
    """Modes mean something on POSIX systems only."""
    return os.name == "posix"


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def private_folder(folder: Path, *, create: bool) -> None:
    """Make the data folder 0700 if it is missing; refuse one others can open or we cannot
    write to, each with the command that puts it right."""
    try:
        if create:
            folder.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
        elif not folder.exists():
            return
        mode = mode_of(folder)
    except (FileExistsError, NotADirectoryError) as exc:
        raise CannotStart(
            f"the data folder {folder} is a file, or inside one, not a folder: set "
            "LINKLINE_DATA_DIR to a folder"
        ) from exc
    except OSError as exc:
        raise CannotStart(
            f"cannot create the data folder {folder} ({_reason(exc)}): set LINKLINE_DATA_DIR "
            f"to a folder this account can write to, or run `mkdir -m 700 {_q(folder)}` as "
            "someone who may"
        ) from exc
    if _checks_modes() and mode & _OTHERS:
        raise CannotStart(
            f"the data folder {folder} can be opened by other accounts on this machine "
            f"(mode {mode:o}) and it holds the database and the key: run "
            f"`chmod 700 {_q(folder)}` and start again"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CannotStart(
            f"the data folder {folder} is not writable by this account: run Linkline as "
            "its owner, or set LINKLINE_DATA_DIR to a folder this account can write to"
        )


def refuse_if_shared(path: Path, what: str) -> None:
    """Refuse a file others could read or change, saying which chmod to run."""
    if not _checks_modes():
        return
    mode = mode_of(path)
    if mode & _OTHERS:
        raise CannotStart(
            f"the {what} {path} can be read by other accounts on this machine "
            f"(mode {mode:o}): run `chmod 600 {_q(path)}` and start again; if anyone else "
            "could log in here, treat it as copied"
        )


def tighten(path: Path, what: str) -> str | None:
    """Make an existing file owner-only; a note saying so, or None if it already was."""
    if not _checks_modes() or not path.exists():
        return None
    mode = mode_of(path)
    if not mode & _OTHERS:
        return None
    try:
        path.chmod(OWNER_ONLY_FILE)
    except OSError as exc:
        raise CannotStart(
            f"the {what} {path} can be read by other accounts on this machine "
            f"(mode {mode:o}) and cannot be changed by this account ({_reason(exc)}): "
            f"run `chmod 600 {_q(path)}` as its owner and start again"
        ) from exc
    return f"The {what} {path} could be read by other accounts (mode {mode:o}); it is now 600."


def create_private_file(path: Path, what: str) -> None:
    """Create an empty file 0600 unless it exists, so whatever writes into it later (SQLite
    copies the database's mode to its -wal and -shm files) starts private."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    except FileExistsError:
        return
    except OSError as exc:
        raise CannotStart(
            f"cannot create the {what} {path} ({_reason(exc)}): check that its folder "
            "exists and this account can write to it"
        ) from exc
    os.close(fd)
