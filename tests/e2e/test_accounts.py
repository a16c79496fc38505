"""Staff accounts in the console (issue 14, item 1) against a real server process, with real
socket.io clients: an admin adds an account and its owner chooses a password with the one-time
setup link; the link is spent by its use and expires; disabling, a password reset, a two-factor
reset and a role change each end the account's HTTP sessions and close its open /counsellor socket
at once; a member changes their own password (their other sessions end) and makes new recovery
codes with a current authenticator code."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from tests.e2e.test_staff_session_end import answers_until_closed
from tests.e2e.test_totp_http import code_at, enroll
from tests.support.clients import Api, Harness, Staff, query_database
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

NEW_PASSWORD = "a-new-and-long-enough-password"
ACCOUNTS = "/api/staff/accounts"
EXPIRY_WAIT = 15.0
POLL = 0.1


def setup_token(server: ServerProcess, setup: dict[str, Any]) -> str:
    """The secret of a setup link: it travels in the fragment of the console's setup page."""
    url = urlparse(setup["url"])
    assert f"{url.scheme}://{url.netloc}" == server.url
    assert url.path == "/console/setup.html" and url.query == ""
    assert url.fragment.startswith("token=")
    return url.fragment.removeprefix("token=")


async def admin(h: Harness) -> Staff:
    await h.add_staff("root", role="admin")
    return await h.sign_in("root", connect=False)


async def choose_password(api: Api, token: str, password: str = DEFAULT_PASSWORD) -> tuple[int, Any]:
    result = await api.request("POST", "/api/auth/setup", json={"token": token, "password": password})
    return result.status, result.body


async def login_status(api: Api, username: str, password: str = DEFAULT_PASSWORD) -> int:
    result = await api.request("POST", "/api/auth/login", json={"username": username, "password": password})
    return result.status


def error_code(body: Any) -> str | None:
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


async def test_an_added_account_chooses_its_password_with_the_link_once(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        added = await root.api.request(
            "POST", ACCOUNTS, json={"username": "nina", "role": "counsellor", "display_name": "Nina N"}
        )
        assert added.status == 201, added.body
        assert added.body["user"] | {"id": 0} == {
            "id": 0,
            "username": "nina",
            "display_name": "Nina N",
            "role": "counsellor",
            "route": None,
            "active": True,
        }
        token = setup_token(server, added.body["setup"])
        anonymous = h.api()
        # No password works before one is chosen, not even an empty-looking guess.
        assert await login_status(anonymous, "nina", "!no-password") == 401

        inspected = await anonymous.request("POST", "/api/auth/setup/inspect", json={"token": token})
        assert (inspected.status, inspected.body["username"], inspected.body["display_name"]) == (
            200,
            "nina",
            "Nina N",
        )
        weak = await choose_password(anonymous, token, "short")
        assert (weak[0], error_code(weak[1])) == (422, "weak_password")
        status, body = await choose_password(anonymous, token)
        assert (status, body["user"]["username"]) == (200, "nina")
        again = await choose_password(anonymous, token, NEW_PASSWORD)
        assert (again[0], error_code(again[1])) == (404, "setup_link_used")
        unknown = await choose_password(anonymous, "not-a-link-at-all")
        assert (unknown[0], error_code(unknown[1])) == (404, "setup_link_invalid")
        assert await login_status(anonymous, "nina", NEW_PASSWORD) == 401
        assert await login_status(anonymous, "nina") == 200

        listed = await root.api.request("GET", ACCOUNTS)
        assert listed.status == 200
        nina = next(a for a in listed.body["accounts"] if a["username"] == "nina")
        assert (nina["totp_enabled"], nina["active"], nina["last_login_at"] is not None) == (
            False,
            True,
            True,
        )
        assert [a["username"] for a in listed.body["accounts"]] == ["nina", "root"]
        assert all("password" not in key and "hash" not in key for key in nina)
    rows = query_database(server, "SELECT action, actor_id, object_type, object_id, detail FROM audit_log")
    nina_id = str(nina["id"])
    assert ("staff.add", root.id, "staff_user", nina_id, "counsellor") in rows
    assert ("staff.password_set", nina["id"], "staff_user", nina_id, None) in rows
    stored = query_database(server, "SELECT token_hash, used_at IS NOT NULL FROM staff_setup_links")
    assert len(stored) == 1 and stored[0][0] != token and stored[0][1] == 1


async def test_a_setup_link_expires(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env={"KINLINE_AUTH__SETUP_LINK_LIFETIME": "1s"})
    async with Harness(server) as h:
        root = await admin(h)
        added = await root.api.request("POST", ACCOUNTS, json={"username": "olle", "role": "supervisor"})
        token = setup_token(server, added.body["setup"])
        anonymous = h.api()

        async def inspected() -> str | None:
            result = await anonymous.request("POST", "/api/auth/setup/inspect", json={"token": token})
            return error_code(result.body)

        # Valid until the server's clock passes its lifetime: wait for that, asking the server.
        async with asyncio.timeout(EXPIRY_WAIT):
            while await inspected() != "setup_link_expired":
                await asyncio.sleep(POLL)
        expired = await choose_password(anonymous, token)
        assert (expired[0], error_code(expired[1])) == (404, "setup_link_expired")
        assert await login_status(anonymous, "olle") == 401


async def test_disabling_ends_the_session_and_the_open_socket_at_once(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        (alice,) = await h.counsellors("alice")
        disabled = await root.api.request("PATCH", f"{ACCOUNTS}/alice", json={"active": False})
        assert (disabled.status, disabled.body["user"]["active"]) == (200, False)
        await answers_until_closed(alice.socket, "staff")
        assert (await alice.api.request("GET", "/api/me")).status == 401
        assert await login_status(h.api(), "alice") == 401

        enabled = await root.api.request("PATCH", f"{ACCOUNTS}/alice", json={"active": True})
        assert (enabled.status, enabled.body["user"]["active"]) == (200, True)
        assert await login_status(h.api(), "alice") == 200
    actions = [row[0] for row in query_database(server, "SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("staff.disable") == 1 and actions.count("staff.enable") == 1


async def test_a_password_reset_ends_the_sessions_and_the_old_password(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        (alice,) = await h.counsellors("alice")
        reset = await root.api.request("POST", f"{ACCOUNTS}/alice/password-reset")
        assert reset.status == 200, reset.body
        token = setup_token(server, reset.body["setup"])
        await answers_until_closed(alice.socket, "staff")
        assert (await alice.api.request("GET", "/api/me")).status == 401
        anonymous = h.api()
        assert await login_status(anonymous, "alice") == 401

        second = await root.api.request("POST", f"{ACCOUNTS}/alice/password-reset")
        newer = setup_token(server, second.body["setup"])
        superseded = await choose_password(anonymous, token, NEW_PASSWORD)
        assert (superseded[0], error_code(superseded[1])) == (404, "setup_link_invalid")
        assert (await choose_password(anonymous, newer, NEW_PASSWORD))[0] == 200
        assert await login_status(anonymous, "alice") == 401
        assert await login_status(anonymous, "alice", NEW_PASSWORD) == 200


async def test_a_totp_reset_ends_the_sessions_and_the_socket(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        (alice,) = await h.counsellors("alice")
        await enroll(alice.api)
        reset = await root.api.request("DELETE", f"{ACCOUNTS}/alice/totp")
        assert reset.status == 200, reset.body
        await answers_until_closed(alice.socket, "staff")
        assert (await alice.api.request("GET", "/api/me")).status == 401
        listed = await root.api.request("GET", ACCOUNTS)
        assert not next(a for a in listed.body["accounts"] if a["username"] == "alice")["totp_enabled"]


async def test_a_role_change_ends_the_sessions_and_the_socket(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        (alice,) = await h.counsellors("alice")
        changed = await root.api.request("PATCH", f"{ACCOUNTS}/alice", json={"role": "supervisor"})
        assert (changed.status, changed.body["user"]["role"]) == (200, "supervisor")
        await answers_until_closed(alice.socket, "staff")
        assert (await alice.api.request("GET", "/api/me")).status == 401
        assert (await h.api().login("alice"))["role"] == "supervisor"

        no_route = await root.api.request("PATCH", f"{ACCOUNTS}/alice", json={"role": "social_services"})
        assert (no_route.status, error_code(no_route.body)) == (422, "invalid_route")
        wrong_route = await root.api.request(
            "PATCH", f"{ACCOUNTS}/alice", json={"role": "social_services", "route": "atlantis"}
        )
        assert (wrong_route.status, error_code(wrong_route.body)) == (422, "invalid_route")
        routed = await root.api.request(
            "PATCH", f"{ACCOUNTS}/alice", json={"role": "social_services", "route": "spanga-tensta"}
        )
        assert (routed.status, routed.body["user"]["route"]) == (200, "spanga-tensta")
        back = await root.api.request("PATCH", f"{ACCOUNTS}/alice", json={"role": "counsellor"})
        assert (back.status, back.body["user"]["route"]) == (200, None)
    assert query_database(
        server, "SELECT detail FROM audit_log WHERE action = 'staff.role_change' ORDER BY id"
    ) == [("supervisor",), ("social_services",), ("counsellor",)]


async def test_bad_input_unknown_accounts_and_the_admins_own_account(server: ServerProcess) -> None:
    async with Harness(server) as h:
        root = await admin(h)
        await h.add_staff("alice")
        cases: list[tuple[str, str, Any, int, str]] = [
            ("POST", ACCOUNTS, {"username": "Not Valid", "role": "counsellor"}, 422, "invalid_username"),
            ("POST", ACCOUNTS, {"username": "valid", "role": "king"}, 422, "invalid_request"),
            ("POST", ACCOUNTS, {"username": "alice", "role": "counsellor"}, 409, "user_exists"),
            ("POST", ACCOUNTS, {"username": "lina", "role": "social_services"}, 422, "invalid_route"),
            (
                "POST",
                ACCOUNTS,
                {"username": "carl", "role": "counsellor", "route": "spanga-tensta"},
                422,
                "invalid_route",
            ),
            ("PATCH", f"{ACCOUNTS}/alice", {}, 422, "invalid_request"),
            ("PATCH", f"{ACCOUNTS}/alice", {"active": "maybe"}, 422, "invalid_request"),
            ("PATCH", f"{ACCOUNTS}/nobody", {"active": False}, 404, "not_found"),
            ("POST", f"{ACCOUNTS}/nobody/password-reset", None, 404, "not_found"),
            ("DELETE", f"{ACCOUNTS}/nobody/totp", None, 404, "not_found"),
            ("PATCH", f"{ACCOUNTS}/root", {"active": False}, 403, "forbidden"),
            ("PATCH", f"{ACCOUNTS}/root", {"role": "counsellor"}, 403, "forbidden"),
            ("POST", f"{ACCOUNTS}/root/password-reset", None, 403, "forbidden"),
        ]
        wrong = []
        for method, path, body, status, code in cases:
            result = await root.api.request(method, path, json=body)
            if (result.status, error_code(result.body)) != (status, code):
                wrong.append(f"{method} {path} {body}: {result.status} {result.body}")
        assert not wrong, "\n".join(wrong)
        assert (await root.api.request("GET", "/api/me")).status == 200
    assert query_database(server, "SELECT username FROM staff_users ORDER BY username") == [
        ("alice",),
        ("root",),
    ]


async def test_a_member_changes_their_own_password_and_their_other_sessions_end(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        (here,) = await h.counsellors("alice")
        elsewhere = await h.sign_in("alice")
        wrong = await here.api.request(
            "POST",
            "/api/auth/password",
            json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
        )
        assert (wrong.status, error_code(wrong.body)) == (422, "wrong_password")
        weak = await here.api.request(
            "POST", "/api/auth/password", json={"current_password": DEFAULT_PASSWORD, "new_password": "short"}
        )
        assert (weak.status, error_code(weak.body)) == (422, "weak_password")
        changed = await here.api.request(
            "POST",
            "/api/auth/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status == 204, changed.body
        await answers_until_closed(elsewhere.socket, "staff")
        assert (await elsewhere.api.request("GET", "/api/me")).status == 401
        assert (await here.api.request("GET", "/api/me")).status == 200
        assert (await here.socket.call("staff"))["ok"]
        assert await login_status(h.api(), "alice") == 401
        assert await login_status(h.api(), "alice", NEW_PASSWORD) == 200


async def test_new_recovery_codes_need_a_current_code(server: ServerProcess) -> None:
    async with Harness(server) as h:
        await h.add_staff("alice")
        alice = await h.sign_in("alice", connect=False)
        off = await alice.api.request("POST", "/api/auth/totp/recovery-codes", json={"code": "123456"})
        assert (off.status, error_code(off.body)) == (409, "totp_not_enabled")
        secret, old_codes = await enroll(alice.api)
        wrong = await alice.api.request("POST", "/api/auth/totp/recovery-codes", json={"code": "000000"})
        assert (wrong.status, error_code(wrong.body)) == (422, "totp_invalid_code")
        made = await alice.api.request(
            "POST", "/api/auth/totp/recovery-codes", json={"code": code_at(secret, 1)}
        )
        assert made.status == 200, made.body
        new_codes = made.body["recovery_codes"]
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        anonymous = h.api()
        old = await anonymous.request(
            "POST",
            "/api/auth/login",
            json={"username": "alice", "password": DEFAULT_PASSWORD, "recovery_code": old_codes[0]},
        )
        assert old.status == 401
        new = await anonymous.request(
            "POST",
            "/api/auth/login",
            json={"username": "alice", "password": DEFAULT_PASSWORD, "recovery_code": new_codes[0]},
        )
        assert new.status == 200
    assert query_database(
        server, "SELECT count(*) FROM audit_log WHERE action = 'staff.recovery_codes_new'"
    ) == [(1,)]


async def test_the_cli_resets_a_password_with_a_link(server: ServerProcess) -> None:
    """The operator's way in for the only admin: a setup link printed at the command line."""
    async with Harness(server) as h:
        await h.add_staff("root", role="admin")
        result = await asyncio.to_thread(server.cli, "user", "password-reset", "root")
        assert result.returncode == 0, result.stderr
        url = result.stdout.strip().splitlines()[-1]
        token = setup_token(server, {"url": url})
        anonymous = h.api()
        assert await login_status(anonymous, "root") == 401
        assert (await choose_password(anonymous, token, NEW_PASSWORD))[0] == 200
        assert await login_status(anonymous, "root", NEW_PASSWORD) == 200
