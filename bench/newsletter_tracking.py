"""What opt-in open/click counting costs per recipient: building N personalised campaign mails
with counting on (links rewritten to the click redirect, the counting image added) against the
same campaign with counting off, in the same run.

Counting is per campaign, not per recipient: the rewriting happens once when the campaign is
prepared and every recipient's mail carries the same counting URLs. What remains per recipient is
the encoding of a slightly larger HTML part (the counting URLs are longer than most links). The
target: that extra time per mail stays ≤ 5 % of what delivering a mail takes (about 1,050 µs at
the ~950 mails/s that ``bench/newsletter_delivery.py`` measured). Also printed: the plain ratio of
the two building rates and the one-off cost of the rewriting. Nothing is asserted.
``.venv/bin/python bench/newsletter_tracking.py``
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import uuid

from nzr_newsletter import sandbox, templates
from nzr_newsletter.tracking import rules

#: Per-mail time of a delivered campaign mail (bench/newsletter_delivery.py: ~950 mails/s).
DELIVERY_MICROSECONDS = 1_050
TARGET_SHARE = 0.05
BODY = (
    "Hallo {{ name }},\n\n"
    + "\n".join(
        f"- [Beitrag {i}: Neues aus dem Netzwerk](https://www.example.org/beitrag/{i}?quelle=newsletter&nr={i})"
        for i in range(40)
    )
    + "\n\nViele Grüße\n"
)


def prepared(*, counted: bool) -> tuple[templates.PreparedMessage, float]:
    campaign_id = str(uuid.uuid4())
    rendered = sandbox.render_in_sandbox(
        subject="Energie & Klima im Dezember",
        body=BODY,
        context={"list_names": ["Liste"], "region": "demo", "items": []},
    )
    started = time.perf_counter()
    if counted:
        page, _ = rules.rewrite_links(
            rendered.html, lambda i: f"https://nzr.example/api/v1/newsletter/t/{campaign_id}/links/{i}"
        )
        page += rules.pixel(f"https://nzr.example/api/v1/newsletter/t/{campaign_id}/open.gif")
        rendered = dataclasses.replace(rendered, html=page)
    rewrite_seconds = time.perf_counter() - started
    message = templates.build_message(
        rendered,
        campaign_id=campaign_id,
        sender="Netzwerk <newsletter@nzr.example>",
        list_id_header="<l.demo.nzr.invalid>",
    )
    return message, rewrite_seconds


def personalise_all(message: templates.PreparedMessage, n: int) -> float:
    started = time.perf_counter()
    for index in range(n):
        subscriber = f"{index:08d}-0000-4000-8000-000000000000"
        message.personalise(
            to=f"person{index}@example.org",
            subscriber_id=subscriber,
            name=f"Person {index}",
            unsubscribe_url=f"https://nzr.example/api/v1/newsletter/unsubscribe?token=tok{index}",
            preferences_url=f"https://nzr.example/api/v1/newsletter/preferences?token=pref{index}",
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=30_000, help="recipients per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    plain, _ = prepared(counted=False)
    counted, rewrite_seconds = prepared(counted=True)
    baseline, ours = [], []
    for _ in range(args.rounds):  # interleaved, so machine load hits both alike
        baseline.append(args.n / personalise_all(plain, args.n))
        ours.append(args.n / personalise_all(counted, args.n))
    best_base, best_ours = max(baseline), max(ours)
    ratio = best_ours / best_base
    pairs = sorted(o / b for o, b in zip(ours, baseline, strict=True))
    sizes = [
        len(
            m.personalise(
                to="a@example.org", subscriber_id="s", name="n", unsubscribe_url="u", preferences_url="p"
            )
        )
        for m in (plain, counted)
    ]
    print(f"campaign with 40 links, {args.n} recipients per round, {args.rounds} interleaved rounds")
    print(f"baseline (counting off): {best_base:,.0f} mails/s (best round), {sizes[0]:,} bytes per mail")
    print(f"counting on:             {best_ours:,.0f} mails/s (best round), {sizes[1]:,} bytes per mail")
    print(
        f"ratio of the best rounds: {ratio:.2f}; "
        f"median ratio of the paired rounds: {pairs[len(pairs) // 2]:.2f}"
    )
    extra = (1 / best_ours - 1 / best_base) * 1e6
    share = extra / DELIVERY_MICROSECONDS
    verdict = "met" if share <= TARGET_SHARE else "NOT met"
    print(f"extra per mail: {extra:.1f} µs = {share:.1%} of a delivered mail's ~{DELIVERY_MICROSECONDS} µs")
    print(f"target ≤ {TARGET_SHARE:.0%} → {verdict}")
    print(f"one-off rewriting of the campaign's 40 links and the image: {rewrite_seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()
