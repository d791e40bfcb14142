"""Reading an email reply: what the person wrote, whoever made the message and however."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.mail_read import RawMail, read_mail
from channels.mail_text import html_to_text, reply_text

HEAD = b"From: Ana <Ana@Example.org>\r\nTo: replies@org.test\r\nMessage-ID: <m1@mail.test>\r\n"


def mail(data: bytes, truncated: bool = False) -> RawMail:
    return RawMail(uid="1", data=data, truncated=truncated)


def test_a_reply_is_what_they_wrote_without_our_message_or_their_signature() -> None:
    body = (
        b"Yes please.\r\n\r\nOn Mon, 12 Jan 2026 at 08:00, Sam\r\n<replies@org.test> wrote:\r\n"
        b"> Can you come to the panel on Thursday?\r\n> I feel hopeless words we wrote\r\n"
    )
    read = read_mail(mail(HEAD + b"Subject: Re: Thursday\r\n\r\n" + body + b"-- \r\nAna\r\n"))
    assert read.text == "Yes please."
    assert (read.sender, read.ref, read.subject) == (
        "ana@example.org",
        "<m1@mail.test>",
        "Re: Thursday",
    )
    assert read.problem is None


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Maybe\n\n-----Original Message-----\nFrom: Sam\nyes?", "Maybe"),
        ("No thanks\nFrom: Sam <r@o.test>\nSent: Monday\nTo: Ana", "No thanks"),
        ("4\n\nSent from my iPhone", "4"),
        ("> only quoted\n> text", "> only quoted\n> text"),  # nothing of theirs: all kept
    ],
)
def test_other_mail_programs_quote_and_sign_differently(written: str, said: str) -> None:
    assert reply_text(written) == said


def test_tokens_and_references_name_the_message_it_answers() -> None:
    head = (
        b"From: a@b.test\r\nTo: Replies <replies+0123456789ABCDEF0123456789abcdef@org.test>\r\n"
        b"In-Reply-To: <ours@org.test>\r\nReferences: <older@org.test> <ours@org.test>\r\n\r\nok"
    )
    read = read_mail(mail(head))
    assert read.tokens == ("0123456789abcdef0123456789abcdef",)
    assert read.references == ("<ours@org.test>", "<older@org.test>")
    assert read.ref.startswith("sha256:")  # no Message-ID: the message itself names it


def test_html_only_mail_is_read_as_text_without_the_quoted_part() -> None:
    html = b"<html><body><p>I am <b>not ok</b></p><blockquote>old words</blockquote></body></html>"
    read = read_mail(mail(HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html))
    assert read.text == "I am not ok"
    assert html_to_text("<p>a &amp; b</p><script>x()</script>") == "a & b"


def test_attachments_are_counted_and_never_kept() -> None:
    body = (
        b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain\r\n\r\n"
        b"Here is my form\r\n--zz\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=form.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n--zz\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--zz--\r\n"
    )
    read = read_mail(mail(HEAD + body))
    assert (read.text, read.attachments) == ("Here is my form", 2)
    assert "JVBERi0x" not in read.text


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff\xfe\x00garbage with no headers", "no sender"),
        (b"To: x@y.test\r\nSubject: hi\r\n\r\nno from", "no sender"),
        (b"From: a@b.test, c@d.test\r\n\r\ntwo senders", "no sender"),
        (HEAD + b"Content-Type: text/plain; charset=klingon\r\n\r\ncaf\xe9", "character set"),
        (
            HEAD + b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\ncut off",
            "not put",
        ),
        (
            HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\nbad \xc3\x28 utf8",
            "character set",
        ),
    ],
)
def test_malformed_mail_is_still_read_and_says_what_was_wrong(data: bytes, problem: str) -> None:
    read = read_mail(mail(data))
    assert read.problem is not None and problem in read.problem
    assert read.text  # whatever was there is kept for a person
    assert "\x00" not in read.text


def test_a_message_read_from_its_start_says_so() -> None:
    read = read_mail(mail(HEAD + b"\r\nI am here " + b"x" * 100, truncated=True))
    assert read.problem == "it was too large, so only its start was read"
    assert read.text.startswith("I am here")


@pytest.mark.parametrize(
    "header",
    [b"Auto-Submitted: auto-replied", b"Precedence: bulk", b"X-Autoreply: yes", b"Return-Path: <>"],
)
def test_out_of_office_and_bounces_are_marked_automatic(header: bytes) -> None:
    assert read_mail(mail(HEAD + header + b"\r\n\r\nI am away")).automatic
    assert not read_mail(mail(HEAD + b"Auto-Submitted: no\r\n\r\nI am here")).automatic


PIECES = [
    b"From: a@b.test\r\n",
    b"From: \r\n",
    b"Message-ID: <x@y>\r\n",
    b"Content-Type: multipart/mixed; boundary=zz\r\n",
    b"Content-Type: text/plain; charset=\xff\r\n",
    b"Content-Type: text/html\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Disposition: attachment; filename*=\xff''\r\n",
    b"\r\n",
    b"--zz\r\n",
    b"--zz--\r\n",
    b"=C3=28 =\r\n",
    b"<p>hi</p><blockquote>",
    b"On Mon, Sam wrote:\r\n> old\r\n",
    b"-- \r\n",
    b"\x00\x1b\xff",
]


@given(st.lists(st.sampled_from(PIECES), max_size=30), st.binary(max_size=200))
@settings(max_examples=150, deadline=None)
def test_no_email_however_it_is_made_stops_reading(pieces: list[bytes], noise: bytes) -> None:
    read = read_mail(mail(b"".join(pieces) + noise))
    assert "\x00" not in read.text and read.ref
