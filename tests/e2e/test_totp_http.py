"""Two-factor sign-in (TOTP) over HTTP and Socket.IO against a real server process: enrolling,
signing in with a code or a recovery code, replay, the admin's and the CLI's reset, the
permission matrix of the reset, and auth.require_totp limiting a session to enrolling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import socketio

from server.app import create_app
from server.config.settings import load_settings
from server.domain.permissions import SCOPES, Action, Ownership, allowed
from server.domain.staff import Role
from tests.e2e.test_chat_http import assert_error
from tests.support.clients import Api, Harness, SocketClient, connect_error_code, query_database
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

STEP = timedelta(seconds=30)
REQUIRED = {"KINLINE_AUTH__REQUIRE_TOTP": "true"}
# What a session limited to enrolling may still use; every other staff route refuses it.
ENROLLMENT_ROUTES = {
    ("GET", "/api/me"),
    ("GET", "/api/auth/totp"),
    ("POST", "/api/auth/totp/enroll"),
    ("POST", "/api/auth/totp/confirm"),
}
STAFF_NAMESPACES = ("/counsellor", "/escalations")


def code_at(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + steps_from_now * STEP)


def credentials(username: str, **second_factor: str) -> dict[str, str]:
    return {"username": username, "password": DEFAULT_PASSWORD, **second_factor}


async def enroll(api: Api) -> tuple[str, list[str]]:
    """Enrolls the signed-in account of ``api``; returns the secret and the recovery codes."""
    started = await api.request("POST", "/api/auth/totp/enroll")
    assert started.status == 200, started.body
    secret = started.body["secret"]
    confirmed = await api.request("POST", "/api/auth/totp/confirm", json={"code": code_at(secret)})
    assert confirmed.status == 200, confirmed.body
    return secret, confirmed.body["recovery_codes"]


async def login(api: Api, username: str, **second_factor: str) -> tuple[int, Any]:
    result = await api.request("POST", "/api/auth/login", json=credentials(username, **second_factor))
    return result.status, result.body


async def socket_answer(url: str, namespace: str, cookie: dict[str, str]) -> str:
    socket = SocketClient(url, namespace)
    try:
        await socket.connect(headers=dict(cookie))  # the client empties the dict it is given
    except socketio.exceptions.ConnectionError:
        return f"refused {connect_error_code(socket.connect_errors[-1] if socket.connect_errors else None)}"
    finally:
        await socket.close()
    return "connected"


async def test_enrolling_then_signing_in_with_a_code_or_a_recovery_code(server_factory: Any) -> None:
    # Six failures in a row here; the slowdown after repeated failures is tested in test_login_throttle.
    server: ServerProcess = server_factory({"KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": "100"})
    async with Harness(server) as h:
        await h.add_staff("alice")
        alice = await h.sign_in("alice", connect=False)

        status = await alice.api.request("GET", "/api/auth/totp")
        assert status.body == {"enabled": False, "required": False, "recovery_codes_left": 0}
        started = await alice.api.request("POST", "/api/auth/totp/enroll")
        assert started.status == 200
        assert set(started.body) == {"secret", "otpauth_uri", "qr_svg"}
        uri = urlparse(started.body["otpauth_uri"])
        assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Kinline:alice")
        assert parse_qs(uri.query)["issuer"] == ["Kinline"]
        assert parse_qs(uri.query)["secret"] == [started.body["secret"]]
        assert started.body["qr_svg"].startswith("data:image/svg+xml")
        assert "http://" not in started.body["qr_svg"].replace("http%3A%2F%2Fwww.w3.org", "")

        secret = started.body["secret"]
        wrong = await alice.api.request("POST", "/api/auth/totp/confirm", json={"code": code_at(secret, -3)})
        assert wrong.status == 422
        assert_error(wrong.body, "totp_invalid_code")
        confirmed = await alice.api.request("POST", "/api/auth/totp/confirm", json={"code": code_at(secret)})
        assert confirmed.status == 200
        codes = confirmed.body["recovery_codes"]
        assert len(set(codes)) == 10 and all(re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", c) for c in codes)
        status = await alice.api.request("GET", "/api/auth/totp")
        assert status.body == {"enabled": True, "required": False, "recovery_codes_left": 10}

        api = h.api()
        wrong_password_status, wrong_password = await login(api, "alice", password="wrong-password-123")
        assert wrong_password_status == 401
        for attempt in ({}, {"totp": ""}, {"totp": "12345x"}, {"recovery_code": "NOPE-NOPE-NOPE-NOPE"}):
            status_code, body = await login(api, "alice", **attempt)
            assert (status_code, body) == (401, wrong_password), attempt
        next_code = code_at(secret, 1)
        assert (await login(api, "alice", totp=next_code))[0] == 200
        assert await login(h.api(), "alice", totp=next_code) == (401, wrong_password)
        assert (await login(h.api(), "alice", recovery_code=codes[0]))[0] == 200
        assert await login(h.api(), "alice", recovery_code=codes[0]) == (401, wrong_password)
        after = await api.request("GET", "/api/auth/totp")
        assert after.body["recovery_codes_left"] == 9

    log = server.log()
    for secret_text in (secret, next_code, *codes):
        assert secret_text not in log


async def test_the_cli_resets_a_lost_phone_and_leaves_an_audit_row(server: ServerProcess) -> None:
    async with Harness(server) as h:
        await h.add_staff("alice")
        alice = await h.sign_in("alice", connect=False)
        await enroll(alice.api)
        assert (await login(h.api(), "alice"))[0] == 401

        reset = server.cli("user", "totp-reset", "alice")
        assert reset.returncode == 0, reset.stderr
        assert (await login(h.api(), "alice"))[0] == 200
        unknown = server.cli("user", "totp-reset", "nobody")
        assert unknown.returncode != 0 and "no user nobody" in unknown.stderr
    assert query_database(
        server, "SELECT actor_id, object_id FROM audit_log WHERE action = 'staff.totp_reset'"
    ) == [(None, str(alice.id))]


async def test_the_reset_route_allows_exactly_what_the_permission_table_allows(server: ServerProcess) -> None:
    """Every role x ownership of staff.totp_reset: "own" is the actor's account, "other" a
    colleague's. Each target has enrolled; a permitted reset removes it and is audited."""
    names = {role: f"reset-{role.value.replace('_', '-')}" for role in Role}
    async with Harness(server) as h:
        for role, name in names.items():
            extra = ("--route", "spanga-tensta") if role is Role.SOCIAL_SERVICES else ()
            server.add_user(name, role.value, DEFAULT_PASSWORD, *extra)
        actors = {role: await h.sign_in(name, connect=False) for role, name in names.items()}
        wrong = []
        for role, actor in actors.items():
            for ownership in sorted(SCOPES[Action.STAFF_TOTP_RESET]):
                target = (
                    names[role] if ownership is Ownership.OWN else f"target-{role.value.replace('_', '-')}"
                )
                if ownership is Ownership.OTHER:
                    server.add_user(target)
                    target_api = (await h.sign_in(target, connect=False)).api
                else:
                    target_api = actor.api
                if not (await target_api.request("GET", "/api/auth/totp")).body["enabled"]:
                    await enroll(target_api)
                result = await actor.api.request("DELETE", f"/api/staff/accounts/{target}/totp")
                answer = "ok" if result.status == 200 else f"{result.status} {result.body['error']['code']}"
                expected = "ok" if allowed(role, Action.STAFF_TOTP_RESET, ownership) else "403 forbidden"
                # Read from the database: a reset also ended the target's sessions.
                still_on = query_database(
                    server, "SELECT totp_enabled_at IS NOT NULL FROM staff_users WHERE username = ?", target
                ) == [(1,)]
                if answer != expected or still_on is (expected == "ok"):
                    wrong.append(f"{role.value} {ownership.value}: {answer}, enabled after: {still_on}")
        unauthenticated = await h.api().request("DELETE", "/api/staff/accounts/reset-admin/totp")
    assert not wrong, "\n".join(wrong)
    assert unauthenticated.status == 401
    assert query_database(
        server,
        "SELECT count(*) FROM audit_log WHERE action = 'staff.totp_reset' AND actor_id = ?",
        actors[Role.ADMIN].id,
    ) == [(1,)]


async def test_with_totp_required_an_unenrolled_session_can_only_enroll(
    server_factory: Any,
) -> None:
    server: ServerProcess = server_factory(REQUIRED)
    async with Harness(server) as h:
        await h.add_staff("alice")
        api = h.api()
        assert (await login(api, "alice"))[0] == 200
        cookie = {"Cookie": f"kinline_session={api.session_cookie()}"}

        status = await api.request("GET", "/api/auth/totp")
        assert status.body == {"enabled": False, "required": True, "recovery_codes_left": 0}
        assert (await api.request("GET", "/api/me")).status == 200
        refused = await api.request("GET", "/api/staff/settings")
        assert refused.status == 403
        assert_error(refused.body, "totp_enrollment_required")
        for namespace in STAFF_NAMESPACES:
            assert await socket_answer(server.url, namespace, cookie) == "refused totp_enrollment_required"

        await enroll(api)
        assert (await api.request("GET", "/api/staff/settings")).status == 200
        assert await socket_answer(server.url, "/counsellor", cookie) == "connected"


async def test_with_totp_required_every_staff_route_refuses_an_unenrolled_session(
    server_factory: Any,
) -> None:
    """Generated from the router: each route that answers 401 without a session answers 403
    totp_enrollment_required to a session limited to enrolling, except the enrolling routes."""
    server: ServerProcess = server_factory(REQUIRED)
    app = create_app(load_settings())
    routes = sorted(
        {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource
            and route.resource.canonical.startswith("/api/")
            and route.method not in {"HEAD", "OPTIONS"}
        }
    )
    async with Harness(server) as h:
        await h.add_staff("alice")
        limited = h.api()
        assert (await login(limited, "alice"))[0] == 200
        anonymous = h.api()
        staff_routes, wrong = [], []
        for method, path in routes:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            body = None if method in {"GET", "DELETE"} else {}
            if (await anonymous.request(method, concrete, json=body)).status != 401:
                continue
            staff_routes.append((method, path))
            result = await limited.request(method, concrete, json=body)
            code = result.body.get("error", {}).get("code") if isinstance(result.body, dict) else None
            answer = f"{result.status} {code}"
            if (method, path) in ENROLLMENT_ROUTES:
                if answer == "403 totp_enrollment_required":
                    wrong.append(f"{method} {path} is needed to enroll but answered {answer}")
            elif answer != "403 totp_enrollment_required":
                wrong.append(f"{method} {path} answered {answer}")
    assert not wrong, "\n".join(wrong)
    assert {("GET", "/api/staff/settings"), ("GET", "/api/escalations")} <= set(staff_routes)
    assert set(staff_routes) >= ENROLLMENT_ROUTES


@pytest.mark.parametrize("env", [{}, REQUIRED], ids=["default", "required"])
async def test_an_account_without_totp_signs_in_with_username_and_password(
    server_factory: Any, env: dict[str, str]
) -> None:
    """The public contract: ``kinline user add`` then POST /api/auth/login with the two fields."""
    server: ServerProcess = server_factory(env)
    async with Harness(server) as h:
        await h.add_staff("alice")
        result = await h.api().request(
            "POST", "/api/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
        )
    assert result.status == 200
    assert result.body["user"]["username"] == "alice"
    assert "kinline_session=" in result.headers.get("Set-Cookie", "")
