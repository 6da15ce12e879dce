"""Who may see the ward: `crsmon dashboard` over real HTTP on 127.0.0.1, with no broker at all.

The dashboard must serve (and refuse) even while Kafka is down, so these tests point it at a
port where nothing listens.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from crsmon.local_kafka import free_port
from tests.support.dashboard import Dashboard, dashboard_env, started_dashboard

TOKEN_PROTECTED = [
    ("GET", "/"),
    ("GET", "/events"),
    ("GET", "/api/session"),
    ("POST", "/api/acknowledgements"),
    ("POST", "/api/assessments"),
    ("GET", "/static/js/main.js"),
    ("GET", "/api/patients/MRN-1/course"),
    ("GET", "/api/observations"),
]


def request(
    dashboard: Dashboard, method: str, path: str, headers: dict | None = None, body: bytes | None = None
) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", dashboard.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        headers_out = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers_out, response.read() if path != "/events" or response.status != 200 else b""
    finally:
        connection.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """One server for the module: these tests only read, so they cannot disturb each other."""
    env = dashboard_env(f"127.0.0.1:{free_port()}", uuid.uuid4().hex[:8])  # nothing listens there
    with started_dashboard(env, tmp_path_factory.mktemp("dashboard") / "dashboard.log") as started:
        started.wait_for_output("the ward is at")
        yield started


@pytest.mark.parametrize(("method", "path"), TOKEN_PROTECTED)
def test_every_endpoint_without_the_token_is_refused_and_says_what_to_do(dashboard, method, path) -> None:
    status, headers, body = request(dashboard, method, path)
    assert status == 401
    assert "Open the link that `crsmon dashboard` printed" in json.loads(body)["message"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"path": "/?token=nope"},
        {"headers": {"Authorization": "Bearer nope"}},
        {"headers": {"Cookie": "crsmon_dashboard_{port}=0123abcd"}},
    ],
)
def test_a_wrong_token_is_refused(dashboard, credentials) -> None:
    headers = {name: value.format(port=dashboard.port) for name, value in credentials.get("headers", {}).items()}
    status, _, body = request(dashboard, "GET", credentials.get("path", "/api/session"), headers)
    assert status == 401
    assert "is not this dashboard's token" in json.loads(body)["message"]


def test_a_browser_gets_a_page_that_explains_instead_of_json(dashboard) -> None:
    status, headers, body = request(dashboard, "GET", "/", {"Accept": "text/html,*/*"})
    assert status == 401 and headers["content-type"].startswith("text/html")
    assert b"Access token needed" in body


def test_the_token_in_the_link_becomes_an_httponly_cookie_and_leaves_the_address(dashboard) -> None:
    status, headers, _ = request(dashboard, "GET", f"/?token={dashboard.token}&ward=5-West")
    assert status == 303 and headers["location"] == "/?ward=5-West"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    name, value = cookie.split(";")[0].split("=", 1)
    assert name == f"crsmon_dashboard_{dashboard.port}" and dashboard.token not in value

    status, headers, body = request(dashboard, "GET", "/", {"Cookie": f"{name}={value}"})
    assert status == 200 and b"<title>crsmon" in body
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    status, _, _ = request(dashboard, "GET", "/api/session", {"Cookie": f"{name}={value}"})
    assert status == 204


def test_programs_may_send_a_bearer_token(dashboard) -> None:
    status, _, _ = request(dashboard, "GET", "/api/session", {"Authorization": f"Bearer {dashboard.token}"})
    assert status == 204


def test_health_and_metrics_need_no_token_and_name_no_patient(dashboard) -> None:
    status, _, body = request(dashboard, "GET", "/healthz")
    assert status == 200 and json.loads(body)["kafka_reachable"] is False
    status, _, body = request(dashboard, "GET", "/metrics")
    assert status == 200 and b"crsmon_dashboard_kafka_reachable 0.0" in body
    assert b"MRN" not in body


@pytest.mark.parametrize(
    ("query", "expected_status", "says"),
    [
        ("?hours=24", 404, "has no course for that patient"),
        ("?hours=all", 404, "has no course for that patient"),
        ("?hours=soon", 400, "hours must be a number of hours"),
        ("?hours=0", 400, "hours must be a number of hours"),
    ],
)
def test_a_course_that_cannot_be_shown_says_why(dashboard, query, expected_status, says) -> None:
    status, _, answer = request(
        dashboard, "GET", f"/api/patients/MRN-1/course{query}", {"Authorization": f"Bearer {dashboard.token}"}
    )
    assert status == expected_status and says in json.loads(answer)["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected_status", "says"),
    [
        (b"{not json", "application/json", 400, "must be a JSON object"),
        (b'{"episode_id": "E1"}', "application/json", 400, "your name or initials"),
        (b'{"episode_id": "E1", "by": "   "}', "application/json", 400, "your name or initials"),
        (b'{"by": "rn-4411"}', "application/json", 400, "episode_id is required"),
        (b'{"episode_id": "E1", "by": "rn-4411"}', "application/json", 404, "no longer open"),
        (b"episode_id=E1&by=rn", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
def test_an_acknowledgement_that_cannot_be_recorded_says_why(
    dashboard, body, content_type, expected_status, says
) -> None:
    status, _, answer = request(
        dashboard,
        "POST",
        "/api/acknowledgements",
        {"Authorization": f"Bearer {dashboard.token}", "Content-Type": content_type},
        body,
    )
    assert status == expected_status
    assert says in json.loads(answer)["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected_status", "says"),
    [
        (b"[1, 2]", "application/json", 400, "must be a JSON object"),
        (b'{"patient_id": "MRN-1", "arousal": "alert"}', "application/json", 400, "your name or initials"),
        (b'{"patient_id": "MRN-1", "by": "rn-4411"}', "application/json", 400, "nothing was assessed"),
        (
            b'{"patient_id": "MRN-1", "by": "rn-4411", "arousal": "sleepy"}',
            "application/json",
            400,
            "arousal 'sleepy': input should be 'alert', 'spontaneous'",
        ),
        (
            b'{"patient_id": "MRN-1", "by": "rn", "ice_items": {"orientation": 4, "naming": 3}}',
            "application/json",
            400,
            "commands, writing, attention not scored",
        ),
        # Valid in every way, but this dashboard (no broker: no patients) does not know the patient.
        (b'{"patient_id": "MRN-1", "by": "rn", "arousal": "alert"}', "application/json", 404, "does not monitor"),
        (b"patient_id=MRN-1&by=rn", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
def test_an_assessment_that_cannot_be_charted_says_why(dashboard, body, content_type, expected_status, says) -> None:
    status, _, answer = request(
        dashboard,
        "POST",
        "/api/assessments",
        {"Authorization": f"Bearer {dashboard.token}", "Content-Type": content_type},
        body,
    )
    assert status == expected_status
    assert says in json.loads(answer)["message"]


def test_without_a_configured_token_one_is_made_up_and_printed_in_the_link(unique: str, tmp_path: Path) -> None:
    env = dashboard_env(f"127.0.0.1:{free_port()}", unique)
    del env["CRSMON_DASHBOARD_TOKEN"]
    port = free_port()
    with started_dashboard(dict(env, CRSMON_DASHBOARD_TOKEN=""), tmp_path / "dashboard.log", port) as started:
        started.wait_for_output("?token=")
        link = re.search(r"http://(\S+):(\d+)/\?token=(\S+)", started.output())
        assert link is not None, started.output()
        host, printed_port, token = link.groups()
        assert host == "127.0.0.1" and int(printed_port) == port  # localhost unless configured
        assert len(token) >= 32
        started.token = token
        status, _, _ = request(started, "GET", "/api/session", {"Authorization": f"Bearer {token}"})
        assert status == 204


def test_wrong_kafka_security_settings_stop_it_at_start_with_the_fix(unique: str, tmp_path: Path) -> None:
    env = dashboard_env(f"127.0.0.1:{free_port()}", unique)
    env.update(CRSMON_KAFKA_SECURITY_PROTOCOL="SSL", CRSMON_KAFKA_SSL_CAFILE=str(tmp_path / "nowhere.pem"))
    with started_dashboard(env, tmp_path / "dashboard.log") as started:
        assert started.process.wait(30) == 2
        assert "CRSMON_KAFKA_SSL_CAFILE" in started.output() and "point it at" in started.output()
        assert "the ward is at" not in started.output()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CRSMON_DASHBOARD_PORT", "eighty", "is not a number"),
        ("CRSMON_DASHBOARD_FLUSH_MS", "0", "must be at least 10"),
    ],
)
def test_a_setting_that_is_not_a_usable_number_stops_it_with_what_to_change(
    unique, tmp_path, variable, value, says
) -> None:
    env = dict(dashboard_env(f"127.0.0.1:{free_port()}", unique), **{variable: value})
    with started_dashboard(env, tmp_path / "dashboard.log") as started:
        assert started.process.wait(30) != 0
        assert f"{variable}={value!r}" in started.output() and says in started.output()
