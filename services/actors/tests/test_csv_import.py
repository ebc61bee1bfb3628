"""CSV import: valid rows in, invalid rows reported by line, no duplicates on re-import."""

import uuid

HEADER = "external_id;name;kind;sector;district;municipality;topics;public_profile;resources_offered\n"


def rows(tag: str) -> str:
    return (
        HEADER
        + f"{tag}-1;Tafel {tag} e.V.;verein;zivilgesellschaft;14612000;Dresden;soziales|bne;ja;sachleistung\n"
        + f"{tag}-2;Stadtwerke {tag};unternehmen;wirtschaft;14713000;Leipzig;energie_klimaschutz;nein;geld\n"
        + f"{tag}-3;Falsch {tag};partei;zivilgesellschaft;14612000;Dresden;;ja;\n"
        + f"{tag}-4;Bayern {tag};verein;zivilgesellschaft;09162000;München;;ja;\n"
        + f"{tag}-5;Thema {tag};verein;zivilgesellschaft;14612000;Dresden;astrologie;ja;\n"
    )


async def import_csv(actors, content: bytes, **params):  # type: ignore[no-untyped-def]
    return await actors.client.post(
        "/api/v1/actors/import",
        content=content,
        params=params,
        headers={**actors.editor, "content-type": "text/csv"},
    )


async def test_valid_rows_are_imported_and_each_invalid_row_is_reported_with_line_and_field(actors):
    tag = uuid.uuid4().hex[:6]
    report = (await import_csv(actors, rows(tag).encode())).json()
    assert report["rows"] == 5 and report["imported"] == 2 and report["invalid"] == 3
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (4, "kind"),
        (5, "district"),
        (6, "topics"),
    ]
    found = (await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)).json()
    assert sorted(a["external_id"] for a in found["items"]) == [f"{tag}-1", f"{tag}-2"]
    tafel = next(a for a in found["items"] if a["external_id"] == f"{tag}-1")
    assert tafel["topics"] == ["soziales", "bne"] and tafel["public_profile"] is True
    assert tafel["resources"][0]["kind"] == "sachleistung"


async def test_reimporting_the_same_file_creates_no_duplicates(actors):
    tag = uuid.uuid4().hex[:6]
    content = rows(tag).encode()
    await import_csv(actors, content)
    again = (await import_csv(actors, content)).json()
    assert again["imported"] == 0 and again["skipped_existing"] == 2
    without_ids = (
        "name,kind,sector,district,municipality\n"
        + f"Tafel {tag} e.V.,verein,zivilgesellschaft,14612000,Dresden\n"
    )
    by_name = (await import_csv(actors, without_ids.encode())).json()
    assert by_name["imported"] == 0 and by_name["skipped_existing"] == 1
    assert (await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)).json()[
        "total"
    ] == 2


async def test_comma_separated_files_with_a_bom_are_read_too(actors):
    tag = uuid.uuid4().hex[:6]
    content = (
        "\ufeffname,kind,sector,district,topics\n"
        f'Verein {tag},verein,zivilgesellschaft,14612000,"bne,kultur"\n'
    ).encode()
    report = (await import_csv(actors, content)).json()
    assert report["imported"] == 1, report


async def test_a_file_that_is_not_utf8_is_refused_naming_the_file(actors, assert_problem):
    content = (HEADER + "x;Müller Stiftung;stiftung;zivilgesellschaft;14612000;Dresden;;ja;\n").encode(
        "latin-1"
    )
    assert_problem(await import_csv(actors, content), 422, "file")


async def test_a_file_with_wrong_columns_is_refused_naming_the_columns(actors, assert_problem):
    body = assert_problem(await import_csv(actors, b"name;art;sektor\nA;verein;x\n"), 422, "columns")
    assert "missing columns: kind, sector, district" in body["detail"]


async def test_all_or_nothing_and_dry_run_imports_write_nothing(actors):
    tag = uuid.uuid4().hex[:6]
    strict = (await import_csv(actors, rows(tag).encode(), all_or_nothing="true")).json()
    assert strict["imported"] == 0 and strict["invalid"] == 3
    dry = (await import_csv(actors, rows(tag).encode(), dry_run="true")).json()
    assert dry["imported"] == 0 and dry["dry_run"] is True
    assert (await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)).json()[
        "total"
    ] == 0


async def test_repeated_rows_in_one_file_are_reported_not_imported_twice(actors):
    tag = uuid.uuid4().hex[:6]
    line = f"Initiative {tag};initiative;zivilgesellschaft;14612000;Meißen\n"
    report = (
        await import_csv(actors, ("name;kind;sector;district;municipality\n" + line + line).encode())
    ).json()
    assert report["imported"] == 1 and report["errors"] == [
        {"line": 3, "field": "row", "reason": "repeats line 2"}
    ]
