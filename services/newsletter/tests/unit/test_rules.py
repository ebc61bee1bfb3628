"""Unit tests without I/O: addresses, templates and personalisation, DSN parsing, bounce rules."""

from __future__ import annotations

import email
import email.policy
import time

import pytest

from nzr_newsletter import sandbox, templates
from nzr_newsletter.bounces import dsn
from nzr_newsletter.bounces import rules as bounces
from nzr_newsletter.delivery import rules as delivery
from nzr_newsletter.delivery.smtp import RateLimiter
from nzr_newsletter.subscriptions import rules as addresses
from nzr_newsletter.tokens import Purpose, TokenRefused, Tokens


@pytest.mark.parametrize("raw", ["a@b", "no at", "x@example.org\nBcc: y@example.org", "ü@example.org", ""])
def test_unusable_addresses_are_refused(raw):
    with pytest.raises(addresses.InvalidAddress):
        addresses.normalise_email(raw)


def test_addresses_are_normalised_to_one_lower_case_ascii_form():
    assert addresses.normalise_email(" Anna@Bücher.Example ") == "anna@xn--bcher-kva.example"


def test_the_template_is_rendered_once_and_personalised_per_recipient_into_a_valid_message():
    prepared = sandbox.prepare_message(
        campaign_id="c" * 36,
        subject="Grüße aus {{ region }}",
        body="Hallo {{ name }}!\n\n*Mehr*",
        sender="Netzwerk Zukunft <n@nzr.example>",
        list_id_header="<l.demo.nzr.invalid>",
        context={"region": "Vogtland", "list_names": [], "items": []},
    )
    raw = prepared.personalise(
        to="x@example.org",
        subscriber_id="s" * 36,
        name="<Björn & Co>",
        unsubscribe_url="https://u.example/u?token=a&b",
        preferences_url="https://u.example/p?token=c",
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(message["Subject"]) == "Grüße aus Vogtland"
    assert message["Message-ID"] == f"<{'c' * 36}.{'s' * 36}@nzr.example>"
    assert message["List-Unsubscribe"] == "<https://u.example/u?token=a&b>"
    assert message.get_body(preferencelist=("plain",)).get_content().startswith("Hallo <Björn & Co>!")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hallo &lt;Björn &amp; Co&gt;!" in html and "<em>Mehr</em>" in html
    assert 'href="https://u.example/u?token=a&amp;b"' in html


def test_a_name_cannot_inject_headers_because_it_only_reaches_the_body():
    prepared = sandbox.prepare_message(
        campaign_id="c" * 36,
        subject="S",
        body="{{ name }}",
        sender="n@nzr.example",
        list_id_header="<l>",
        context={},
    )
    raw = prepared.personalise(
        to="x@example.org",
        subscriber_id="s" * 36,
        name="Eve\r\nBcc: victim@example.org",
        unsubscribe_url="https://u",
        preferences_url="https://p",
    )
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Bcc" not in head


@pytest.mark.parametrize(("subject", "body"), [("{{ x", "b"), ("s", "{{ nope }}"), ("s", "{% if %}")])
async def test_templates_that_do_not_render_are_refused(subject, body):
    with pytest.raises(templates.TemplateRefused):
        await sandbox.check_template(subject=subject, body=body)


def test_tokens_are_single_purpose():
    tokens = Tokens("secret-secret-secret-secret-secret", max_age_days=dict.fromkeys(Purpose, 1))
    token = tokens.issue(Purpose.PREFERENCES, {"s": "x"})
    assert tokens.read(Purpose.PREFERENCES, token) == {"s": "x"}
    with pytest.raises(TokenRefused):
        tokens.read(Purpose.UNSUBSCRIBE, token)


def test_delivery_status_notifications_name_failed_and_delayed_recipients():
    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; b@example.org\r\nAction: delayed\r\nStatus: 4.2.2\r\n\r\n"
        b"Final-Recipient: rfc822; c@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        b"--X\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <m@x>\r\nSubject: s\r\n\r\nbody\r\n"
        b"--X--\r\n"
    )
    reports = dsn.parse_delivery_status(raw)
    assert [(r.recipient, r.kind, r.original_message_id) for r in reports] == [
        ("a@example.org", "hard", "<m@x>"),
        ("b@example.org", "soft", "<m@x>"),
    ]
    with pytest.raises(dsn.NotADeliveryReport):
        dsn.parse_delivery_status(b"Subject: hello\r\n\r\nhi")


def test_control_characters_in_a_delivery_report_are_dropped():
    # A NUL would not fit into PostgreSQL text: the bounce would answer 500 and be lost.
    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; a@example.org\x00\r\nAction: failed\r\nStatus: 5.1.1\x01\r\n"
        b"Diagnostic-Code: smtp; 550 no\x00 such\x1b user\r\n\r\n"
        b"--X\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <m\x00@x>\r\n\r\nbody\r\n--X--\r\n"
    )
    [report] = dsn.parse_delivery_status(raw)
    assert (report.recipient, report.status, report.reason) == (
        "a@example.org",
        "5.1.1",
        "smtp; 550 no such user",
    )
    assert report.original_message_id == "<m@x>"


def test_hard_bounces_block_at_once_and_soft_ones_past_the_threshold():
    rules = {"threshold": 3, "hard_action": "block", "soft_action": "unsubscribe"}
    assert bounces.decide_bounce(kind="hard", soft_bounces=0, **rules).block
    assert not bounces.decide_bounce(kind="soft", soft_bounces=2, **rules).unsubscribe
    assert bounces.decide_bounce(kind="soft", soft_bounces=3, **rules).unsubscribe
    assert delivery.retry_delay_seconds(3, 30) == 120 and delivery.retry_delay_seconds(30, 30) == 6 * 3600


async def test_the_hourly_limit_counts_a_rolling_hour_including_mails_sent_before_a_restart():
    limiter = RateLimiter(per_second=0, per_hour=3, sent_in_last_hour=[time.time() - 10] * 2)
    await limiter.acquire()
    assert len(limiter.window) == 3
    limiter.window[0] -= 3600  # the oldest mail leaves the hour
    await limiter.acquire()


async def test_the_per_second_rate_lets_one_mail_through_at_a_time():
    limiter = RateLimiter(per_second=2, per_hour=0)
    assert limiter.spacing is not None and limiter.spacing.has_capacity()
    await limiter.acquire()
    assert not limiter.spacing.has_capacity()  # the next one waits for its slot (half a second)
    assert RateLimiter(per_second=0, per_hour=0).spacing is None
