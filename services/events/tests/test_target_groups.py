"""Counts by target group for the BNE figures, and the event's own start on EventCompleted."""

from __future__ import annotations

from datetime import datetime


async def test_target_group_counts_and_the_events_start_are_announced_for_reporting(events):
    event = await events.published_event(topics=["bne"])
    counts = {"schueler": 24, "lehrkraefte": 3, "erwachsene": 0, "multiplikatoren": 2}
    recorded = await events.client.put(
        f"/api/v1/events/{event['id']}/attendance/target-groups", json=counts, headers=events.editor
    )
    assert recorded.status_code == 204, recorded.text
    attendance = (await events.announced("attendance_recorded"))[-1]["data"]
    assert attendance["by_target_group"] == counts
    refused = await events.client.put(
        f"/api/v1/events/{event['id']}/attendance/target-groups",
        json={"schueler": -1},
        headers=events.editor,
    )
    assert refused.status_code == 422 and refused.json()["invalid_params"][0]["name"].endswith("schueler")
    assert (
        await events.client.put(f"/api/v1/events/{event['id']}/attendance/target-groups", json=counts)
    ).status_code == 401
    await events.client.post(f"/api/v1/events/{event['id']}/complete", headers=events.editor)
    [done] = await events.announced("event_completed")
    assert done["data"]["topics"] == ["bne"]
    # the same instant as the event's start (the API shows it in Berlin time, the event in UTC)
    assert datetime.fromisoformat(done["data"]["starts_at"]) == datetime.fromisoformat(event["starts_at"])
