"""`crsmon webhook-sink`, the demo's pager: prints every page and checks its signature."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from standardwebhooks import Webhook

from crsmon.local_kafka import free_port
from tests.support.processes import Service
from tests.support.webhooks import NEW_SECRET, SECRET


def post(port: int, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ward", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_sink_prints_each_page_and_rejects_a_bad_signature(tmp_path: Path):
    port = free_port()
    sink = Service(["webhook-sink", "--port", str(port), "--secret", SECRET], dict(os.environ), tmp_path / "sink.log")
    try:
        sink.wait_for_output("listening", timeout=30)
        body = b'{"record":"alert","alert_id":"a-1"}'
        now = datetime.now(timezone.utc)
        good = {
            "webhook-id": "a-1",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(SECRET).sign("a-1", now, body.decode()),
        }
        forged = {**good, "webhook-id": "a-2", "webhook-signature": Webhook(NEW_SECRET).sign("a-2", now, body.decode())}
        # Signed with the sink's secret (by the independent package): 200; another secret: 401.
        assert post(port, body, good) == 200
        assert post(port, body, forged) == 401
        assert post(port, body, good) == 200
        sink.wait_for_output("webhook-id=a-2", timeout=10)
        output = sink.output()
        assert "POST /ward webhook-id=a-1 signature ok\n" in output
        assert "webhook-id=a-2 SIGNATURE REJECTED (no signature matches any of the secrets)" in output
        assert "webhook-id=a-1 signature ok (repeat of an id already received here)" in output
        assert output.count('{"record":"alert","alert_id":"a-1"}') == 3  # every request is printed
    finally:
        sink.stop()


def test_the_sink_refuses_a_secret_that_is_not_one(tmp_path: Path):
    sink = Service(
        ["webhook-sink", "--port", str(free_port()), "--secret", "whsec_%%%"], dict(os.environ), tmp_path / "sink.log"
    )
    assert sink.process.wait(30) == 2
    sink.stop()
    assert "must be base64" in sink.output()
