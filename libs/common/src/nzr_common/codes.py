"""Codes that name reference data — district, municipality, topic — as validated types.

An unknown code in a filter used to answer 200 with an empty list; with these types it is
refused with 422 problem+json naming the parameter (``invalid_params[].name``), in query
parameters and request bodies alike, before the route runs::

    from nzr_common.codes import DistrictCode, TopicCode

    district: Annotated[list[DistrictCode] | None, Query()] = None   # ?district=14612000
    topic: TopicCode | None = None                                     # ?topic=bne
    class ListCreate(BaseModel):
        topics: list[TopicCode] = []

What is known comes from one ``Vocabulary`` per process: the districts of the reference data
(``nzr_common/reference/sachsen-kreise.csv`` plus ``DISTRICTS_FILE``) and the topics of
``TOPICS`` (default: the platform's topics, ``nzr_common.reference.vocabulary``).
``create_service_app`` installs it from the settings at start-up; until then (unit tests, CLI)
the defaults hold. One process serves one deployment, and the code lists are the deployment's
reference data, so this is the one process-wide setting (like the telemetry provider).

Kinds, sectors, legal forms and resource kinds are ``Literal`` types of the contracts
(``nzr_common.contracts.actors``); pydantic refuses unknown values of those by itself.
Whether a *known* district belongs to the service's region is a rule of the use case, not of
the type (a state-wide query may name any district).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

from nzr_common.reference.vocabulary import PLATFORM_TOPICS
from nzr_common.regions import load_districts

_AGS = re.compile(r"\d{8}")


@dataclass(frozen=True)
class Vocabulary:
    """The codes a deployment knows."""

    districts: frozenset[str]
    topics: tuple[str, ...]


def default_vocabulary() -> Vocabulary:
    """The packaged districts and the platform's topics."""
    return Vocabulary(districts=frozenset(load_districts()), topics=PLATFORM_TOPICS)


_installed: list[Vocabulary] = []


def install_vocabulary(*, districts: Iterable[str], topics: Iterable[str]) -> Vocabulary:
    """Make these the known codes of this process (called once at start-up)."""
    vocabulary = Vocabulary(districts=frozenset(districts), topics=tuple(topics))
    _installed[:] = [vocabulary]
    return vocabulary


def vocabulary() -> Vocabulary:
    """The installed vocabulary, or the defaults before start-up."""
    if not _installed:
        _installed.append(default_vocabulary())
    return _installed[0]


def check_district(value: str) -> str:
    """``value`` if it is the AGS code of a known district (``14612000``), else ValueError."""
    if not _AGS.fullmatch(value):
        raise ValueError(f"{value!r} is not a district code (8-digit AGS, e.g. 14612000)")
    if value not in vocabulary().districts:
        raise ValueError(f"unknown district {value} (not in the reference list of districts)")
    return value


def check_municipality(value: str) -> str:
    """``value`` if it is an 8-digit municipality AGS inside a known district, else ValueError.

    There is no municipality reference list in the project: the code is checked by its format
    and its district prefix (the first five digits), not against the list of Gemeinden.
    """
    if not _AGS.fullmatch(value):
        raise ValueError(f"{value!r} is not a municipality code (8-digit AGS, e.g. 14522180)")
    if f"{value[:5]}000" not in vocabulary().districts:
        raise ValueError(f"unknown municipality {value}: {value[:5]} is not a known district")
    return value


def check_topic(value: str) -> str:
    """``value`` if it is a configured topic code, else ValueError listing the known ones."""
    known = vocabulary().topics
    if value not in known:
        raise ValueError(f"unknown topic {value!r} (known: {', '.join(known)})")
    return value


#: AGS code of a known district (Kreis or kreisfreie Stadt), e.g. ``14612000``.
DistrictCode = Annotated[
    str,
    Field(description="AGS code of a district (8 digits, e.g. 14612000)", examples=["14612000"]),
    AfterValidator(check_district),
]
#: AGS code of a municipality in a known district (format and district prefix are checked).
MunicipalityCode = Annotated[
    str,
    Field(description="AGS code of a municipality (8 digits)", examples=["14522180"]),
    AfterValidator(check_municipality),
]
#: A topic code of the network (``TOPICS``), e.g. ``bne``.
TopicCode = Annotated[
    str,
    Field(description="topic code of the network, e.g. bne", examples=["bne"]),
    AfterValidator(check_topic),
]
