"""Districts (AGS codes with population) and regions as configuration.

The 13 Saxon districts ship with the project (``reference/sachsen-kreise.csv``, source:
Statistisches Bundesamt, Gemeindeverzeichnis, Gebietsstand 31.12.2023); other states' districts
are added by pointing ``DISTRICTS_FILE`` at a CSV with the same columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from nzr_common.settings import ServiceSettings

DISTRICTS_SOURCE = (
    "Statistisches Bundesamt (Destatis), Gemeindeverzeichnis, Kreisfreie Städte und Landkreise "
    "nach Fläche, Bevölkerung und Bevölkerungsdichte, Gebietsstand 31.12.2023"
)


@dataclass(frozen=True)
class District:
    ags: str
    name: str
    kind: str
    seat: str
    area_km2: float
    population: int
    population_date: str
    source_url: str


def _read(text: str) -> dict[str, District]:
    rows = csv.DictReader(text.splitlines())
    return {
        row["ags"]: District(
            ags=row["ags"],
            name=row["name"],
            kind=row["kind"],
            seat=row["seat"],
            area_km2=float(row["area_km2"]),
            population=int(row["population"]),
            population_date=row["population_date"],
            source_url=row["source_url"],
        )
        for row in rows
    }


@cache
def load_districts(extra_file: Path | None = None) -> dict[str, District]:
    """All known districts by AGS: the packaged Saxon ones plus those of ``extra_file``."""
    packaged = resources.files("nzr_common.reference").joinpath("sachsen-kreise.csv")
    districts = _read(packaged.read_text(encoding="utf-8"))
    if extra_file is not None:
        districts.update(_read(Path(extra_file).read_text(encoding="utf-8")))
    return districts


@dataclass(frozen=True)
class Region:
    """A regional network: its id (also its NATS subject token) and the districts it covers."""

    id: str
    districts: dict[str, District]


def region_from_settings(settings: ServiceSettings) -> Region:
    """The service's region; without ``REGION_DISTRICTS`` it covers every known district."""
    known = load_districts(settings.districts_file)
    codes = settings.region_districts or list(known)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValueError(f"REGION_DISTRICTS has unknown AGS codes: {', '.join(unknown)}")
    return Region(id=settings.region, districts={code: known[code] for code in codes})
