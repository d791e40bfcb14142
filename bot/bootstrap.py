"""The one place where settings become an engine, channels, a dispatcher and a worker.

Nothing is built at import time; tests and the demo build their own pieces through here
with a different clock or folder.
"""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channel_setup import build_channels, build_mailbox
from bot.services.listening import Listening
from bot.services.listening.mail_poll import MailPoll
from bot.services.privacy.leavers import erase_leavers
from bot.services.staff.sign_in import Passwords, production_hasher
from bot.settings import Settings
from channels.mail_in import ImapConfig, ImapMailbox
from channels.registry import ChannelRegistry
from scheduling.clock import Clock, SystemClock
from scheduling.maintenance import Maintenance, MaintenanceConfig
from scheduling.people.reply_escalation import AckLimits, ReplyEscalation
from scheduling.people.staff_alerts import StaffAlerts
from scheduling.rules.distress import DistressWords
from scheduling.rules.frequency import FrequencyCap
from scheduling.rules.plan import PlanOffsets
from scheduling.rules.support_lines import load_support_lines
from scheduling.sending.dispatcher import DispatchConfig, Dispatcher, EventSink
from scheduling.sending.gate import Gate
from scheduling.text.rendering import Renderer
from scheduling.worker import Worker
from store import migrate
from store.crypto import Cipher, load_or_create_key
from store.engine import (
    DatabaseError,
    check_connection,
    create_engine,
    is_sqlite,
    normalise_url,
    prepare_sqlite_file,
    session_factory,
    verify_key,
)
from store.errors import CannotStart
from store.private_files import private_folder


class StartupError(CannotStart):
    """Linkline cannot start; the message says what to do."""


@dataclass
class App:
    settings: Settings
    cipher: Cipher
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    channels: ChannelRegistry
    renderer: Renderer
    clock: Clock
    offsets: PlanOffsets
    passwords: Passwords
    notices: list[str] = field(default_factory=list)
    mailbox: ImapConfig | None = None  # the replies mailbox, when one is set
    _listening: Listening | None = field(default=None, repr=False)

    def dispatcher(self, on_event: EventSink | None = None) -> Dispatcher:
        config = DispatchConfig(
            worker=f"{socket.gethostname()}:{os.getpid()}",
            batch_size=self.settings.dispatch_batch_size,
            lease=timedelta(seconds=self.settings.lease_seconds),
            concurrency=16,
            cap=FrequencyCap(self.settings.cap_per_day, self.settings.cap_per_week),
        )
        return Dispatcher(self.sessions, self.channels, self.renderer, self.clock, config, on_event)

    def worker(self, on_event: EventSink | None = None) -> Worker:
        every = self.settings.dispatch_interval_seconds
        return Worker(
            self.dispatcher(on_event),
            dispatch_every=every,
            sweep_every=self.settings.sweep_interval_seconds,
            maintenance=self.maintenance(),
            jobs=(
                # An urgent alert must reach a person within a minute, whatever the pace of
                # ordinary sending.
                (self.staff_alerts().send_due, min(every, 5.0)),
                (self.reply_escalation().run, 60.0),
                (self.maintenance().escalate_promises, 300.0),
                *self._mail_jobs(),
                (self.maintenance().alert_unpaid_payments, 3600.0),
            ),
        )

    def _mail_jobs(self) -> tuple[tuple[Callable[[], Awaitable[object]], float], ...]:
        """The replies mailbox is read every minute, like a webhook that comes to us late."""
        poll = self.mail_poll()
        return ((poll.read_mailbox, 60.0),) if poll is not None else ()

    def mail_poll(self) -> MailPoll | None:
        """Reading the replies mailbox, when one is set: every minute in the worker, or
        once by `linkline mail poll`."""
        config = self.mailbox
        if config is None:
            return None
        listening = self.listening()
        return MailPoll(
            self.engine,
            self.sessions,
            lambda: ImapMailbox(config),
            self.listening,
            Gate(self.channels, listening.blocked),
            self.clock,
        )

    def staff_alerts(self) -> StaffAlerts:
        return StaffAlerts(
            self.sessions, self.channels, self.renderer, self.clock, self.settings.public_url
        )

    def ack_limits(self) -> AckLimits:
        return AckLimits(
            working_days=self.settings.ack_working_days,
            urgent=timedelta(minutes=self.settings.urgent_ack_minutes),
            office_tz=self.settings.default_time_zone,
        )

    def reply_escalation(self) -> ReplyEscalation:
        return ReplyEscalation(self.sessions, self.clock, self.ack_limits())

    def listening(self) -> Listening:
        """The rules for understanding replies; the word list and support lines are read
        once, and a broken file stops start-up rather than a crisis reply."""
        if self._listening is None:
            self._listening = Listening(
                cipher=self.cipher,
                renderer=self.renderer,
                distress=DistressWords.load(),
                support_lines=tuple(load_support_lines()),
                offsets=self.offsets,
                ack=self.ack_limits(),
                office_tz=self.settings.default_time_zone,
                answer_free_text=self.settings.answer_free_text,
                pastoral_min_days=self.settings.pastoral_min_days,
            )
        return self._listening

    def maintenance(self) -> Maintenance:
        config = MaintenanceConfig(
            pastoral_min_days=self.settings.pastoral_min_days,
            silence_days=self.settings.silence_days,
            retention=timedelta(days=self.settings.retention_days),
        )
        return Maintenance(
            self.sessions,
            self.clock,
            config,
            office_tz=self.settings.default_time_zone,
            erase_leavers=erase_leavers,
        )

    async def aclose(self) -> None:
        await self.channels.aclose()
        await self.engine.dispose()


def standard_passwords() -> Passwords:
    """argon2id at the recommended cost; the test suite swaps in a cheap one here."""
    return Passwords(production_hasher())


def freeze_start_up() -> None:
    """For a long-running process, once it is built: everything loaded at start-up (the
    modules, the mappers, the templates) is moved out of the collector's sight, so each
    full collection no longer walks it again. It saves about a tenth of a worker's CPU
    per message; nothing it holds is freed later anyway."""
    gc.collect()
    gc.freeze()


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    upgrade: bool = False,
    passwords: Passwords | None = None,
) -> App:
    """Build everything, checking key, database and schema before anything is sent."""
    url = normalise_url(settings.resolved_database_url)
    mailbox = build_mailbox(settings)  # a mailbox read without TLS stops start-up here
    notices: list[str] = []
    sqlite = is_sqlite(url)
    # Files before anything reads them: the folder, the key and the database are private
    # to this account, or start-up says which command makes them so. The folder is made
    # whatever the database, since dry-run messages and letters are written there too.
    private_folder(settings.data_dir, create=True)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    loaded = load_or_create_key(secret, settings.key_file, may_create=sqlite)
    if loaded.created_file is not None:
        notices.append(
            f"No LINKLINE_SECRET_KEY was set, so a new key was written to {loaded.created_file} "
            "(readable only by you). Back it up: without it the personal data cannot be read."
        )
    if sqlite:
        notices.extend(prepare_sqlite_file(url))
    cipher = Cipher.from_secret(loaded.secret)
    engine = create_engine(url, cipher)
    try:
        await check_connection(engine)
        if upgrade:
            await migrate.upgrade(engine)
        await _check_schema(engine)
        sessions = session_factory(engine)
        await verify_key(sessions, cipher)
    except BaseException:
        await engine.dispose()
        raise
    clock = clock or SystemClock()
    channels = build_channels(settings, clock.now, mail_key=_mail_key(cipher))
    offsets = settings.plan_offsets()
    return App(
        settings,
        cipher,
        engine,
        sessions,
        channels,
        Renderer(reply_phone=settings.reply_phone),
        clock,
        offsets,
        passwords or standard_passwords(),
        notices,
        mailbox,
    )


def _mail_key(cipher: Cipher) -> bytes:
    """Keys email Message-IDs to this installation's secret, so a reply token cannot be
    guessed (derived: there is still one secret to keep)."""
    return cipher.blind_index("linkline email message ids").encode()


async def _check_schema(engine: AsyncEngine) -> None:
    current, head = await migrate.current_revision(engine), migrate.head_revision()
    if current is None:
        raise DatabaseError("the database has no Linkline tables yet: run `linkline db upgrade`")
    if current != head:
        raise DatabaseError(
            f"the database schema is at revision {current} but this version needs {head}: "
            "run `linkline db upgrade`"
        )
