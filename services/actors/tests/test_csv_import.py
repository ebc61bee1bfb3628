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
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    without_ids = (
        "name,kind,sector,district,municipality\n"
        + f"Tafel {tag} e.V.,verein,zivilgesellschaft,14612000,Dresden\n"
    )
    by_name = (await import_csv(actors, without_ids.encode())).json()
    assert (by_name["created"], by_name["updated"], by_name["unchanged"]) == (0, 0, 1)
    assert (await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)).json()[
        "total"
    ] == 2


async def search(actors, tag: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    found = await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)
    return {a["external_id"] or a["name"]: a for a in found.json()["items"]}


async def test_reimporting_a_changed_file_updates_the_known_actors_and_counts_each_outcome(actors):
    tag = uuid.uuid4().hex[:6]
    await import_csv(actors, rows(tag).encode())
    before = await search(actors, tag)
    changed = (
        HEADER
        + f"{tag}-1;Tafel {tag} e.V.;verein;zivilgesellschaft;14612000;Dresden;soziales|kultur;nein;raeume\n"
        + f"{tag}-2;Stadtwerke {tag};unternehmen;wirtschaft;14713000;Leipzig;energie_klimaschutz;nein;geld\n"
        + f"{tag}-6;Neu {tag};initiative;zivilgesellschaft;14612000;Dresden;bne;ja;\n"
    )
    report = (await import_csv(actors, changed.encode())).json()
    assert (report["created"], report["updated"], report["unchanged"], report["invalid"]) == (1, 1, 1, 0)
    after = await search(actors, tag)
    tafel = after[f"{tag}-1"]
    assert report["updated_ids"] == [tafel["id"]] and tafel["id"] == before[f"{tag}-1"]["id"]
    assert tafel["topics"] == ["soziales", "kultur"] and tafel["public_profile"] is False
    assert [(r["kind"], r["direction"]) for r in tafel["resources"]] == [("raeume", "offered")]
    assert tafel["version"] == before[f"{tag}-1"]["version"] + 1
    assert after[f"{tag}-2"]["version"] == before[f"{tag}-2"]["version"]
    assert sorted(after) == [f"{tag}-1", f"{tag}-2", f"{tag}-6"]
    updated = await actors.events(
        expected=lambda es: any(
            e["type"] == "nzr.actors.actor_updated.v1" and e["subject"] == tafel["id"] for e in es
        )
    )
    updated = [e for e in updated if e["subject"] == tafel["id"]]
    assert [e["data"]["topics"] for e in updated if e["type"].endswith("actor_updated.v1")] == [
        ["soziales", "kultur"]
    ]


async def test_a_file_without_ids_updates_the_actor_with_the_same_name_in_the_same_place(actors):
    tag = uuid.uuid4().hex[:6]
    first = (
        "name;kind;sector;district;municipality;description\n"
        f"Bündnis {tag};verein;zivilgesellschaft;14612000;Pirna;alt\n"
    )
    await import_csv(actors, first.encode())
    # Same name key (case, umlauts, legal form ignored) and place; the empty cell keeps the value.
    second = (
        "name;kind;sector;district;municipality;description;website\n"
        f"BUENDNIS {tag} e.V.;initiative;zivilgesellschaft;14612000;Pirna;;https://{tag}.example.org\n"
    )
    report = (await import_csv(actors, second.encode())).json()
    assert (report["created"], report["updated"]) == (0, 1), report
    (actor,) = (await search(actors, tag)).values()
    assert actor["kind"] == "initiative" and actor["description"] == "alt"
    assert actor["website"] == f"https://{tag}.example.org/" and actor["name"] == f"BUENDNIS {tag} e.V."


async def test_an_all_or_nothing_reimport_with_an_invalid_row_updates_nothing(actors):
    tag = uuid.uuid4().hex[:6]
    await import_csv(actors, rows(tag).encode())
    changed = rows(tag).replace("soziales|bne", "kultur")
    report = (await import_csv(actors, changed.encode(), all_or_nothing="true")).json()
    assert (report["created"], report["updated"], report["invalid"]) == (0, 0, 3)
    assert (await search(actors, tag))[f"{tag}-1"]["topics"] == ["soziales", "bne"]
    dry = (await import_csv(actors, changed.encode(), dry_run="true")).json()
    assert (dry["updated"], dry["updated_ids"] != [], dry["dry_run"]) == (1, True, True)
    assert (await search(actors, tag))[f"{tag}-1"]["topics"] == ["soziales", "bne"]


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
    assert (dry["created"], dry["created_ids"], dry["dry_run"]) == (2, [], True)
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


async def test_rows_like_a_stored_actor_or_an_earlier_row_are_reported_and_imported_only_when_confirmed(
    actors,
):
    tag = uuid.uuid4().hex[:6]
    stored = await actors.create(
        name=f"Bürgerenergie Zschopau {tag} eG", municipality="Zschopau", district="14521000"
    )
    content = (
        "name;kind;sector;district;municipality;legal_form\n"
        + f"Buergerenergie Zschopau {tag};unternehmen;wirtschaft;14521000;Gornau;eg\n"
        + f"Repair-Café Marienberg {tag};initiative;zivilgesellschaft;14521000;Marienberg;keine\n"
        + f"Repair Café Marienberg {tag} e.V.;verein;zivilgesellschaft;14521000;Pobershau;ev\n"
    ).encode()

    report = (await import_csv(actors, content)).json()
    assert (report["created"], report["held_back"]) == (1, 2)
    flagged = {d["line"]: d for d in report["likely_duplicates"]}
    assert sorted(flagged) == [2, 4] and not any(d["imported"] for d in flagged.values())
    [candidate] = flagged[2]["candidates"]
    assert (candidate["actor_id"], candidate["municipality"], candidate["reason"]) == (
        stored["id"],
        "Zschopau",
        "similar_name",
    )
    assert [(c["line"], c["actor_id"]) for c in flagged[4]["candidates"]] == [(3, None)]

    confirmed = (await import_csv(actors, content, confirm_line=[4])).json()
    assert (confirmed["created"], confirmed["held_back"], confirmed["unchanged"]) == (1, 1, 1)
    forced = (await import_csv(actors, content, import_duplicates="true")).json()
    assert (forced["created"], forced["held_back"], forced["unchanged"]) == (1, 0, 2)
    found = (await actors.client.get("/api/v1/actors", params={"q": tag}, headers=actors.editor)).json()
    assert sorted((a["municipality"], a["legal_form"]) for a in found["items"]) == [
        ("Gornau", "eg"),
        ("Marienberg", "keine"),
        ("Pobershau", "ev"),
        ("Zschopau", None),
    ]
