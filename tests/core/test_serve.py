"""`make run` keeps the app up: its embedded Redis killed (kill -9) comes back from its append-only
file, and the web server and the worker are still there and answering afterwards."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

import pytest
import redis
from rq import Worker

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(fn, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = fn()
        except (OSError, redis.exceptions.RedisError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")


def _login_page(url: str) -> bool:
    with urllib.request.urlopen(url + "/login", timeout=5) as response:
        return response.status == 200


@pytest.fixture
def supervisor(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(STOCKROOM_INSTANCE=str(tmp_path / "instance"), PORT=str(port), WORKERS="1", WEB_WORKERS="1",
               PYTHONUNBUFFERED="1", REDIS_NAMESPACE="serve-test")
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "app.serve"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    proc.url, proc.instance, proc.log_path = f"http://127.0.0.1:{port}", tmp_path / "instance", tmp_path / "serve.log"
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    log.close()
    client = redis.Redis(unix_socket_path=str(tmp_path / "instance" / "redis" / "redis.sock"))
    try:
        client.shutdown(nosave=True)
    except (redis.exceptions.RedisError, OSError):
        pass


def test_the_app_stays_up_when_its_redis_is_killed(supervisor):
    _wait(lambda: _login_page(supervisor.url), 120)
    client = redis.Redis(unix_socket_path=str(supervisor.instance / "redis" / "redis.sock"), socket_timeout=2)
    _wait(lambda: Worker.all(connection=client), 60)
    client.set("serve-test:probe", "kept")
    time.sleep(1.5)  # the append-only file is written to disk every second
    os.kill(int(client.info("server")["process_id"]), signal.SIGKILL)
    killed_at = datetime.now(UTC)

    _wait(lambda: client.ping(), 30)
    assert client.get("serve-test:probe") == b"kept"  # started again from its append-only file
    assert _login_page(supervisor.url)

    def fresh_worker():
        # Heard from after the kill: a worker that rode out the outage (or its fresh successor).
        return [w for w in Worker.all(connection=client) if w.last_heartbeat and w.last_heartbeat > killed_at]

    _wait(fresh_worker, 90)
    assert supervisor.poll() is None
    assert "starting it again from its append-only file" in supervisor.log_path.read_text()

    os.kill(supervisor.pid, signal.SIGINT)  # Ctrl-C: everything stops, Redis last
    assert supervisor.wait(60) == 0
    with pytest.raises((redis.exceptions.ConnectionError, OSError)):
        redis.Redis(unix_socket_path=str(supervisor.instance / "redis" / "redis.sock"), socket_timeout=2).ping()
