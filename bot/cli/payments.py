"""`linkline payments`: what people are owed for their time and costs, and paying it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import CLI_ACTOR, console, fail, open_app, run
from bot.services.experts.profile import find_expert
from bot.services.payments import claims, finance, statement, statement_send
from channels.letter import LetterConfig
from scheduling.people import ledger
from scheduling.planning.payment_notices import pay
from scheduling.rules.payments import PaymentChoice, pounds
from scheduling.text.words import label
from store.enums import Channel
from store.models import Expert

app = typer.Typer(
    help="Payments for people's time and costs: what is owed, approving and paying it, the "
    "finance file, and a yearly statement for an expert.",
    no_args_is_help=True,
)


@app.command("owed")
def owed() -> None:
    """List what is owed or approved and not yet paid, oldest first."""

    async def action() -> None:
        async with open_app() as built, built.sessions() as session:
            lines = await ledger.waiting_lines(session)
            table = Table("reference", "what", "for", "engagement", "amount", "status")
            for line in lines:
                expert = line.invitation.expert
                table.add_row(
                    line.reference,
                    label(line.purpose),
                    expert.ref or str(expert.id),
                    line.invitation.engagement.title,
                    pounds(line.amount_pence),
                    label(line.status),
                )
            total = ledger.totals(lines)
            console.print(table if lines else "Nothing is owed.")
            if lines:
                console.print(f"Owed {pounds(total.owed)}; approved {pounds(total.approved)}.")

    run(action)


@app.command("claim")
def claim(
    engagement_id: int = typer.Argument(..., help="The engagement's number."),
    expert: str = typer.Argument(..., help="The expert's reference (or id)."),
    purpose: str = typer.Argument(
        ..., help="time, travel, childcare, carer, meals, other or cancellation-costs."
    ),
    amount: str = typer.Argument(..., help="The amount in pounds, e.g. 12.50."),
    what_for: str = typer.Option("", "--what", help="What it was for, e.g. 'two bus fares'."),
    receipt: bool = typer.Option(False, "--receipt", help="A receipt was seen."),
    reason: str = typer.Option("", "--reason", help="Why an amount already recorded changes."),
) -> None:
    """Record time or an expense someone is owed (or change its amount, with --reason)."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            invitation = await claims.invitation_for(session, engagement_id, expert)
            line = await claims.record_claim(
                session,
                invitation,
                claims.parse_purpose(purpose),
                amount,
                now=built.clock.now(),
                actor=CLI_ACTOR,
                what_for=what_for,
                receipt_seen=receipt,
                reason=reason,
            )
            console.print(f"{line.reference}: {pounds(line.amount_pence)} owed.")

    run(action)


@app.command("approve")
def approve(references: list[str] = typer.Argument(..., help="Payment references.")) -> None:
    """Approve lines for payment (all of them, or none if one cannot be)."""
    _each(references, "approve", "approved")


@app.command("decline")
def decline(
    reference: str = typer.Argument(..., help="The payment's reference."),
    reason: str = typer.Option(..., "--reason", help="The reason the person will be told."),
) -> None:
    """Decline a line; their link worker gets a task to explain it in person."""
    _each([reference], "decline", "declined", reason=reason)


@app.command("paid")
def paid(
    references: list[str] = typer.Argument(None, help="Payment references."),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="The finance file back, with yes in its paid column."
    ),
) -> None:
    """Mark approved lines paid, by reference or from the finance team's file."""
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {from_file}: {exc.__class__.__name__}")

        async def from_csv() -> None:
            async with open_app() as built, built.sessions.begin() as session:
                done = await finance.mark_paid_from_csv(
                    session, text, now=built.clock.now(), actor=CLI_ACTOR
                )
                console.print(f"{len(done)} marked paid.")

        run(from_csv)
        return
    if not references:
        fail("give payment references, or --from-file with the finance file", 2)
    _each(references, "pay", "paid")


def _each(references: list[str], step: str, done: str, reason: str = "") -> None:
    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            now = built.clock.now()
            for reference in references:
                line = await ledger.find_line(session, reference)
                if step == "approve":
                    await ledger.approve(session, line, now=now, actor=CLI_ACTOR)
                elif step == "pay":
                    await pay(session, line, now=now, actor=CLI_ACTOR)
                else:
                    await ledger.decline(session, line, reason, now=now, actor=CLI_ACTOR)
                console.print(f"{line.reference} {done}.")

    run(action)


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="Where to write the CSV file."),
    include_paid: bool = typer.Option(False, "--include-paid", help="Paid lines as well."),
    names: bool = typer.Option(False, "--names", help="Add names (finance rarely needs them)."),
) -> None:
    """Write the finance file: approved lines waiting to be paid, by reference."""

    async def action() -> tuple[int, str]:
        async with open_app() as built, built.sessions() as session:
            lines = await finance.lines_for_finance(session, include_paid=include_paid)
            return len(lines), finance.export_csv(
                lines, built.settings.default_time_zone, names=names
            )

    count, text = run(action)
    _write(out, text.encode("utf-8"))
    console.print(f"{count} lines written to {out}.")


def _write(out: Path, data: bytes) -> None:
    """Private to whoever runs the command: these files hold amounts, perhaps names."""
    try:
        out.touch(mode=0o600)
        out.chmod(0o600)
        out.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.__class__.__name__}")


@app.command("statement")
def statement_command(
    expert: str = typer.Argument(..., help="The expert's reference (or id)."),
    year: int = typer.Argument(..., help="The year, e.g. 2026."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the PDF."),
    send: bool = typer.Option(
        False,
        "--send",
        help="Send it to them: by email (as a PDF) or letter, only where details are safe.",
    ),
) -> None:
    """Write an expert's yearly statement of what we paid them as a PDF letter, or send it
    to them (or both)."""
    if out is None and not send:
        fail("say where to write it (--out FILE), or --send to send it to them")
    if send:
        _send_statement(expert, year)
    if out is not None:
        _write_statement(expert, year, out)


def _send_statement(expert: str, year: int) -> None:
    async def action() -> str:
        async with open_app() as built, built.sessions.begin() as session:
            person = await _expert(session, expert)
            sent = await statement_send.send_statement(
                session, person, year, now=built.clock.now(), actor=CLI_ACTOR
            )
            return sent.sentence

    console.print(run(action))


def _write_statement(expert: str, year: int, out: Path) -> None:
    async def action() -> tuple[int, bytes]:
        async with open_app() as built, built.sessions() as session:
            person = await _expert(session, expert)
            made = await statement.yearly_statement(session, person, year)
            address = next(
                (p.value for p in person.contact_points if p.channel is Channel.LETTER), None
            )
            config = LetterConfig(
                folder=built.settings.letters_dir,
                return_address=built.settings.letter_return_address,
                time_zone=built.settings.default_time_zone,
            )
            data = await statement.statement_pdf(
                person, address, made, config, built.clock.now().date()
            )
            return made.total_pence, data

    total, data = run(action)
    _write(out, data)
    console.print(f"Statement for {year} ({pounds(total)}) written to {out}.")


@app.command("offer")
def offer(
    engagement_id: int = typer.Argument(..., help="The engagement's number."),
    kind: str = typer.Argument(..., help="per-session, per-hour, voucher or none."),
    amount: str = typer.Option("", "--amount", help="The fee or voucher, e.g. 25.00."),
    covers: str = typer.Option("", "--covers", help="Expenses paid back, e.g. travel,childcare."),
    limit: str = typer.Option("", "--limit", help="The most paid for any one expense."),
) -> None:
    """Set what an engagement offers for people's time and which costs it covers."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            engagement = await claims.engagement_for(session, engagement_id)
            made = claims.parse_offer(kind, amount, covers, limit)
            await claims.change_offer(
                session, engagement, made, now=built.clock.now(), actor=CLI_ACTOR
            )
            console.print(" ".join(made.sentences()) or "No payment for time or costs.")

    run(action)


@app.command("choice")
def choice(
    expert: str = typer.Argument(..., help="The expert's reference (or id)."),
    method: str = typer.Argument(..., help="bank-transfer, voucher, no-payment or talk-first."),
    voucher: str = typer.Option("", "--voucher", help="The kind of voucher they chose."),
    note: str = typer.Option("", "--note", help="Anything else they said about it."),
) -> None:
    """Record how an expert chose to be paid, as they told you (kept encrypted)."""

    async def action() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            person = await _expert(session, expert)
            made = PaymentChoice(claims.parse_method(method), voucher.strip(), note.strip())
            await claims.set_choice(session, person, made, now=built.clock.now(), actor=CLI_ACTOR)
            console.print(f"Payment choice recorded: {label(made.method)}.")

    run(action)


async def _expert(session: AsyncSession, key: str) -> Expert:
    person = await find_expert(session, key.strip())
    if person is None:
        fail(f"no expert {key.strip()!r}")
    await session.refresh(person, ["contact_points"])
    return person
