"""The replies mailbox: where email replies are read from, and the address they go to.

Either one address, ``LINKLINE_IMAP_URL=imaps://user:password@imap.example.org/INBOX``, or
the parts (``LINKLINE_IMAP_HOST``, ``_USER``, ``_PASSWORD``, ``_PORT``, ``_FOLDER``).
TLS is required except for a mailbox on this machine; ``mailbox()`` says what is wrong in
a sentence that never repeats the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class MailboxParts:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str
    tls: bool


class MailInSettings(BaseSettings):
    imap_url: SecretStr | None = Field(None, validation_alias=AliasChoices("LINKLINE_IMAP_URL"))
    imap_host: str | None = Field(None, validation_alias=AliasChoices("LINKLINE_IMAP_HOST"))
    imap_port: int | None = Field(
        None, ge=1, le=65535, validation_alias=AliasChoices("LINKLINE_IMAP_PORT")
    )
    imap_user: str | None = Field(None, validation_alias=AliasChoices("LINKLINE_IMAP_USER"))
    imap_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("LINKLINE_IMAP_PASSWORD")
    )
    imap_folder: str = Field(
        "INBOX", validation_alias=AliasChoices("LINKLINE_IMAP_FOLDER"), max_length=200
    )
    # Plain IMAP only for a mailbox on this machine (a test server, a local relay).
    imap_tls: bool = Field(True, validation_alias=AliasChoices("LINKLINE_IMAP_TLS"))
    # The mailbox's own address. Outbound email says "reply to" it, with a token after a
    # "+" (replies+token@...) so a reply finds its way back even from another address.
    mail_reply_to: str | None = Field(
        None, validation_alias=AliasChoices("LINKLINE_MAIL_REPLY_TO"), max_length=200
    )

    @field_validator("imap_host", "imap_user", "mail_reply_to", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def replies_detail(self) -> str:
        """For the start-up line about email: whether replies are read, and from where."""
        try:
            parts = self.mailbox()
        except ValueError:
            return "; the replies mailbox settings are not right, so replies are not read"
        if parts is None:
            return "; email replies are not read (set LINKLINE_IMAP_URL)"
        return f"; replies read from {parts.host} every minute"

    def mailbox(self) -> MailboxParts | None:
        """The mailbox to read, None when none is set; raises ValueError with the fix."""
        url = self.imap_url.get_secret_value().strip() if self.imap_url else ""
        if url:
            return _from_url(url)
        if not self.imap_host:
            return None
        password = self.imap_password.get_secret_value() if self.imap_password else ""
        if not self.imap_user or not password:
            raise ValueError(
                "LINKLINE_IMAP_HOST is set but LINKLINE_IMAP_USER or LINKLINE_IMAP_PASSWORD "
                "is not: set all three, or LINKLINE_IMAP_URL instead"
            )
        host = self.imap_host.strip()
        return _checked(
            MailboxParts(
                host=host,
                port=self.imap_port or (993 if self.imap_tls else 143),
                user=self.imap_user.strip(),
                password=password,
                folder=self.imap_folder.strip() or "INBOX",
                tls=self.imap_tls,
            ),
            "LINKLINE_IMAP_TLS=false",
        )


def _from_url(url: str) -> MailboxParts:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError(
            "LINKLINE_IMAP_URL must look like imaps://user:password@imap.example.org/INBOX "
            "(imap:// only for a mailbox on this machine)"
        )
    if not parts.username or not parts.password:
        raise ValueError(
            "LINKLINE_IMAP_URL has no user name or password: "
            "imaps://user:password@imap.example.org/INBOX (write @ in them as %40)"
        )
    tls = parts.scheme == "imaps"
    return _checked(
        MailboxParts(
            host=parts.hostname,
            port=port or (993 if tls else 143),
            user=unquote(parts.username),
            password=unquote(parts.password),
            folder=unquote(parts.path.strip("/")) or "INBOX",
            tls=tls,
        ),
        "imap:// in LINKLINE_IMAP_URL",
    )


def _checked(parts: MailboxParts, plain: str) -> MailboxParts:
    if not parts.tls and parts.host.lower() not in LOCAL_HOSTS:
        raise ValueError(
            f"the replies mailbox would be read without TLS ({plain}), so the password and "
            "people's replies would cross the network in clear: use imaps:// (port 993); "
            "plain IMAP is only for a mailbox on this machine"
        )
    return parts
