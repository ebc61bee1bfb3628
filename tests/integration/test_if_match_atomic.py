"""``If-Match`` through a real service: two changes of one campaign sending the same ETag at
once — exactly one is made (2xx), the other is refused with 412 and the current ETag
(nzr_common.etags holds the URL's lock from the check until the change has answered)."""

import asyncio
import uuid

from nzr_common.testing.services import running_service
from nzr_newsletter.app import create_app
from nzr_newsletter.settings import NewsletterSettings

API = "/api/v1/newsletter"


async def test_two_patches_with_the_same_tag_one_succeeds_the_other_gets_412(nats_url, databases, token_for):
    region = f"r{uuid.uuid4().hex[:8]}"
    settings = NewsletterSettings(
        region=region, nats_url=nats_url, database_url=await databases.new("newsletter")
    )
    editor = token_for("editor", region=region)
    async with running_service(create_app, settings, "nzr_newsletter") as newsletter:
        client = newsletter.client
        listed = await client.post(f"{API}/lists", json={"name": "Energie"}, headers=editor)
        assert listed.status_code == 201, listed.text
        created = await client.post(
            f"{API}/campaigns",
            json={"name": "Herbst", "subject": "Neues", "body": "Hallo", "list_ids": [listed.json()["id"]]},
            headers=editor,
        )
        assert created.status_code == 201, created.text
        url = f"{API}/campaigns/{created.json()['id']}"
        tag = (await client.get(url, headers=editor)).headers["etag"]
        first, second = await asyncio.gather(
            client.patch(url, json={"subject": "Von A"}, headers={**editor, "If-Match": tag}),
            client.patch(url, json={"subject": "Von B"}, headers={**editor, "If-Match": tag}),
        )
        current = await client.get(url, headers=editor)
    assert sorted([first.status_code, second.status_code]) == [200, 412], (first.text, second.text)
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert current.json()["subject"] == winner.json()["subject"]
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.headers["etag"] == current.headers["etag"] != tag
