"""Code types of reference data: known codes pass, unknown ones fail with a reason naming them."""

import pytest
from pydantic import TypeAdapter, ValidationError

from nzr_common import codes
from nzr_common.reference.vocabulary import PLATFORM_TOPICS


@pytest.fixture(autouse=True)
def default_vocabulary():  # type: ignore[no-untyped-def]
    codes.install_vocabulary(districts=codes.default_vocabulary().districts, topics=PLATFORM_TOPICS)
    yield
    codes.install_vocabulary(districts=codes.default_vocabulary().districts, topics=PLATFORM_TOPICS)


def test_districts_of_the_reference_list_pass_and_others_fail():
    district = TypeAdapter(codes.DistrictCode)
    assert district.validate_python("14612000") == "14612000"
    for bad in ("09162000", "14612", "abcdefgh"):
        with pytest.raises(ValidationError, match=bad):
            district.validate_python(bad)


def test_municipalities_are_checked_by_format_and_district_prefix():
    municipality = TypeAdapter(codes.MunicipalityCode)
    assert municipality.validate_python("14522180") == "14522180"
    with pytest.raises(ValidationError, match="09162"):
        municipality.validate_python("09162000")


def test_topics_follow_the_installed_vocabulary():
    topics = TypeAdapter(list[codes.TopicCode])
    assert topics.validate_python(["bne"]) == ["bne"]
    with pytest.raises(ValidationError, match="astrologie"):
        topics.validate_python(["bne", "astrologie"])
    codes.install_vocabulary(districts=["14612000"], topics=["astrologie"])
    assert topics.validate_python(["astrologie"]) == ["astrologie"]
    with pytest.raises(ValidationError):
        TypeAdapter(codes.DistrictCode).validate_python("14713000")
