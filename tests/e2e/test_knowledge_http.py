"""The knowledge bank's contract against a real server (docs/protocol.md, docs/knowledge.md): the
shipped content at first start, the public shapes, a coordinator's resource in Somali sent by a
counsellor into a Somali conversation as a card, hostile Markdown through the API, clear 4xx for
bad input, and the CLI's import and export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.clients import Harness, Staff, new_client_id
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

DISTRICT = "spanga-tensta"
PUBLIC_FIELDS = {
    "id",
    "language",
    "title",
    "summary",
    "body_html",
    "perspectives",
    "districts",
    "languages",
    "updated_at",
}


async def signed_in(harness: Harness, name: str, role: str, connect: bool = False) -> Staff:
    harness.server.add_user(name, role, DEFAULT_PASSWORD)
    return await harness.sign_in(name, connect=connect)


SOMALI_RESOURCE: dict[str, Any] = {
    "perspectives": ["support_relatives"],
    "districts": [DISTRICT],
    "contact": {
        "phone": "08-000 00 00",
        "url": "https://example.org/hooyo",
        "address": "",
        "hours": "Isniin",
    },
    "texts": {
        "so": {"title": "Shabakadda waalidiinta", "summary": "Taageero waalidiinta", "body": "**Kaalay**"},
        "sv": {"title": "Föräldranätverket", "summary": "Stöd till föräldrar", "body": ""},
    },
}


async def test_a_fresh_server_serves_the_shipped_knowledge_in_the_public_shapes(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        api = h.api()
        resources = await api.request("GET", f"/api/resources?language=fa&district={DISTRICT}")
        articles = await api.request("GET", "/api/articles?language=ti")
    assert resources.status == 200, resources.body
    phones = {item["contact"]["phone"] for item in resources.body["resources"]}
    assert phones == {"112", "1177", "114 14"}
    for item in resources.body["resources"]:
        assert set(item) == PUBLIC_FIELDS | {"contact"}
        assert set(item["contact"]) == {"phone", "url", "address", "hours"}
        assert item["language"] == "fa"
        assert "EXAMPLE" not in item["title"]
    assert articles.status == 200
    keys = [set(item) for item in articles.body["articles"]]
    assert keys and all(fields == PUBLIC_FIELDS for fields in keys)
    assert all(item["language"] == "ti" for item in articles.body["articles"])
    assert all(
        "<li>" in item["body_html"] or "<p>" in item["body_html"] for item in articles.body["articles"]
    )


async def test_a_somali_resource_goes_from_the_coordinator_to_a_somali_relative_as_a_card(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        coordinator = await signed_in(h, "cora", "coordinator")
        created = await coordinator.api.request("POST", "/api/staff/resources", json=SOMALI_RESOURCE)
        assert created.status == 201, created.body
        resource_id = created.body["item"]["id"]
        public = await h.api().request("GET", f"/api/resources?language=so&district={DISTRICT}")
        assert resource_id not in [item["id"] for item in public.body["resources"]]  # a draft
        published = await coordinator.api.request("POST", f"/api/staff/resources/{resource_id}/publish")
        assert published.status == 200 and published.body["item"]["published"] is True
        public = await h.api().request("GET", f"/api/resources?language=so&district={DISTRICT}")
        (mine,) = [item for item in public.body["resources"] if item["id"] == resource_id]
        assert public.body["resources"][0]["id"] == resource_id or mine["language"] == "so"
        assert (
            mine["title"] == "Shabakadda waalidiinta"
            and mine["body_html"] == "<p><strong>Kaalay</strong></p>\n"
        )
        assert mine["contact"] == SOMALI_RESOURCE["contact"]
        other = await h.api().request("GET", "/api/resources?language=so&district=rinkeby-kista")
        assert resource_id not in [item["id"] for item in other.body["resources"]]

        counsellor = await signed_in(h, "cole", "counsellor", connect=True)
        found = await counsellor.api.request("GET", "/api/staff/knowledge/search?q=waalidiin")
        assert [item["id"] for item in found.body["items"]] == [resource_id]
        started = await h.start_conversation(language="so")
        relative = await h.relative(started.token)
        assert (await counsellor.socket.claim(started.conversation_id))["ok"]
        client_id = new_client_id()
        payload = {
            "conversation_id": started.conversation_id,
            "client_id": client_id,
            "resource_id": resource_id,
        }
        ack = await counsellor.socket.call("send_resource", payload)
        assert ack["ok"], ack
        card = {
            "id": resource_id,
            "title": "Shabakadda waalidiinta",
            "summary": "Taageero waalidiinta",
            "contact": SOMALI_RESOURCE["contact"],
        }
        assert ack["message"]["resource"] == card
        assert ack["message"]["text"] == (
            "Shabakadda waalidiinta\nTaageero waalidiinta\n08-000 00 00\nhttps://example.org/hooyo\nIsniin"
        )
        again = await counsellor.socket.call("send_resource", payload)
        assert again["message"]["seq"] == ack["message"]["seq"]  # a repeat is the same message
        seen = await relative.log.wait_for("message", lambda m: m.get("client_id") == client_id)
        assert seen["resource"] == card
        history = await relative.call("history", {"after_seq": 0})
        assert [m["resource"] for m in history["messages"] if "resource" in m] == [card]

        unpublished = await coordinator.api.request("POST", f"/api/staff/resources/{resource_id}/unpublish")
        assert unpublished.status == 200
        refused = await counsellor.socket.call("send_resource", {**payload, "client_id": new_client_id()})
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"
        await relative.close()


async def test_versions_keep_every_earlier_text_with_its_author(server: ServerProcess) -> None:
    async with Harness(server) as h:
        coordinator = await signed_in(h, "cora", "coordinator")
        body = {"audience": "internal", "texts": {"sv": {"title": "Första", "body": "ett"}}}
        created = await coordinator.api.request("POST", "/api/staff/articles", json=body)
        item_id = created.body["item"]["id"]
        body["texts"]["en"] = {"title": "First", "body": "one"}
        body["texts"]["sv"] = {"title": "Andra", "body": "två"}
        changed = await coordinator.api.request("PUT", f"/api/staff/articles/{item_id}", json=body)
        assert changed.status == 200 and changed.body["item"]["texts"]["sv"]["version"] == 2
        versions = await coordinator.api.request("GET", f"/api/staff/articles/{item_id}/versions")
        summary = sorted((v["language"], v["version"], v["title"]) for v in versions.body["versions"])
        assert summary == [("en", 1, "First"), ("sv", 1, "Första"), ("sv", 2, "Andra")]
        assert {v["changed_by_name"] for v in versions.body["versions"]} == {"cora"}
        public = await h.api().request("GET", "/api/articles?language=sv")
        assert item_id not in [item["id"] for item in public.body["articles"]]  # internal
        gone = await coordinator.api.request("DELETE", f"/api/staff/articles/{item_id}")
        assert gone.status == 204
        missing = await coordinator.api.request("GET", f"/api/staff/articles/{item_id}")
        assert missing.status == 404


async def test_hostile_markdown_is_stored_as_written_and_served_harmless(server: ServerProcess) -> None:
    hostile = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[a](javascript:alert(1)) [b](data:text/html,x)\n\n<a href='javascript:alert(1)'>c</a>"
    )
    async with Harness(server) as h:
        coordinator = await signed_in(h, "cora", "coordinator")
        body = {"audience": "public", "published": True, "texts": {"sv": {"title": "Test", "body": hostile}}}
        created = await coordinator.api.request("POST", "/api/staff/articles", json=body)
        assert created.status == 201, created.body
        assert created.body["item"]["texts"]["sv"]["body"] == hostile
        public = await h.api().request("GET", "/api/articles?language=sv")
    (item,) = [a for a in public.body["articles"] if a["title"] == "Test"]
    html = item["body_html"].lower()
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;" in html


async def test_bad_input_gets_a_clear_error_and_changes_nothing(server: ServerProcess) -> None:
    async with Harness(server) as h:
        coordinator = await signed_in(h, "cora", "coordinator")
        cases: list[tuple[str, str, Any, int, str]] = [
            ("POST", "/api/staff/resources", {"texts": {}}, 422, "missing_text"),
            ("POST", "/api/staff/resources", {"texts": {"xx": {"title": "x"}}}, 422, "unknown_language"),
            (
                "POST",
                "/api/staff/resources",
                {"contact": {"url": "javascript:alert(1)"}, "texts": {"sv": {"title": "x"}}},
                422,
                "invalid_url",
            ),
            (
                "POST",
                "/api/staff/resources",
                {"districts": ["mars"], "texts": {"sv": {"title": "x"}}},
                422,
                "",
            ),
            ("POST", "/api/staff/canned-answers", {"texts": {"sv": {"title": "x"}}}, 422, "invalid_key"),
            ("POST", "/api/staff/resources", "not json", 400, "invalid_json"),
            ("PUT", "/api/staff/resources/abc", {"texts": {"sv": {"title": "x"}}}, 422, "invalid_request"),
            ("GET", "/api/staff/resources/999999", None, 404, "not_found"),
        ]
        before = await coordinator.api.request("GET", "/api/staff/resources")
        for method, path, body, status, code in cases:
            if isinstance(body, str):
                answer = await coordinator.api.request(method, path, data=body)
            else:
                answer = await coordinator.api.request(method, path, json=body)
            assert answer.status == status, (path, body, answer.body)
            if code:
                assert answer.body["error"]["code"] == code, (path, body, answer.body)
        after = await coordinator.api.request("GET", "/api/staff/resources")
        assert after.body == before.body
        for query in ("language=xx", "district=mars"):
            answer = await h.api().request("GET", f"/api/resources?{query}")
            assert answer.status == 422, query


def test_the_cli_exports_the_bank_and_imports_only_into_an_empty_one(
    server: ServerProcess, tmp_path: Path
) -> None:
    exported = server.cli("knowledge", "export", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == sorted(
        ["articles.toml", "resources.toml", *(f"{c}.toml" for c in ["sv", "en", "ar", "so", "fa", "ti"])]
    )
    refused = server.cli("knowledge", "import", str(tmp_path / "out"))
    assert refused.returncode != 0 and "not empty" in refused.stderr
