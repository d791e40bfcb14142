"""A real IMAP server for the mail tests: Debian's Dovecot, with its own configuration in a
temporary folder, listening on 127.0.0.1 only, one user from a password file.

Started once per test process; each test gets its own empty user (a mailbox of its own).
Tests skip, saying why, when Dovecot is not installed (`.ci/run` installs dovecot-imapd).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "test-password"


USERS = 500  # made before start: Dovecot may not notice a password file changed within a second


@dataclass
class Dovecot:
    port: int
    folder: Path
    users: list[str]

    def add_user(self) -> str:
        """A new, empty mailbox; its user name."""
        return self.users.pop()

    def append(self, user: str, data: bytes, flags: str = "") -> None:
        """Deliver one message into the user's INBOX, as a mail server would."""
        with self._login(user) as imap:
            result, _ = imap.append("INBOX", flags or None, None, data)
            assert result == "OK"

    def unseen(self, user: str) -> int:
        with self._login(user) as imap:
            imap.select("INBOX", readonly=True)
            _, found = imap.uid("search", "UNSEEN")
            return len((found[0] or b"").split())

    def count(self, user: str) -> int:
        with self._login(user) as imap:
            _, data = imap.select("INBOX", readonly=True)
            return int(data[0] or 0)

    def _login(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(user, PASSWORD)
        return imap


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int) -> str:
    """As root, Dovecot runs its login and internal processes as its own users and keeps
    the mail as ``dovecot``; otherwise everything runs as whoever runs the tests."""
    if os.geteuid() == 0:
        login, internal, mail_user = "dovenull", "dovecot", "dovecot"
    else:
        login = internal = mail_user = pwd.getpwuid(os.geteuid()).pw_name
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = linkline-test-{port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
log_path = {folder}/dovecot.log
first_valid_uid = 1
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd); .ci/run does it")
    # A short path: Dovecot's sockets live under base_dir, and socket paths are short.
    folder = Path(tempfile.mkdtemp(prefix="lkdv"))
    folder.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (folder / sub).mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder / "mail", "dovecot", "dovecot")
    users = [f"u{uuid.uuid4().hex[:10]}" for _ in range(USERS)]
    (folder / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in users))
    (folder / "passwd").chmod(0o644)
    port = _free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port))
    subprocess.run([str(DOVECOT), "-c", str(folder / "dovecot.conf")], check=True)
    server = Dovecot(port, folder, users)
    try:
        _wait_until_listening(port, folder)
        yield server
    finally:
        pid_file = folder / "run" / "master.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            for _ in range(100):
                if not pid_file.exists():
                    break
                time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_listening(port: int, folder: Path) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
    raise RuntimeError(f"Dovecot did not start: {log[-2000:]}")


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> tuple[Dovecot, str]:
    """The server and a fresh user with an empty INBOX."""
    return dovecot_server, dovecot_server.add_user()
