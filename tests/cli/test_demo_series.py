"""The demo's initiative circle is a series that ends, as the events service will take it."""

from nzr_cli.demo.loader import DEMO_STEPS
from nzr_events.series.rules import occurrences
from nzr_events.series.schemas import SeriesCreate
from nzr_events.times import to_berlin, to_utc


def test_the_demo_initiative_circle_meets_nine_times_on_second_wednesdays_without_august():
    (step,) = [s for s in DEMO_STEPS if s.name == "series"]
    assert step.service == "events" and step.path == "/api/v1/series"
    (item,) = step.items()
    body = SeriesCreate.model_validate({k: v for k, v in item.items() if k != "key"})
    starts = occurrences(body.rrule, to_utc(body.starts_at), exdates={to_utc(d) for d in body.exdates})
    assert [f"{to_berlin(s):%Y-%m-%d %H:%M}" for s in starts] == [
        "2027-01-13 18:00",
        "2027-02-10 18:00",
        "2027-03-10 18:00",
        "2027-04-14 18:00",
        "2027-05-12 18:00",
        "2027-06-09 18:00",
        "2027-07-14 18:00",
        "2027-09-08 18:00",
        "2027-10-13 18:00",
    ]
    assert body.title == "Initiativkreis Energiewende Mittelsachsen" and body.publish
