"""`make run`: migrate, seed the demo organisation, start Redis (embedded unless REDIS_URL is set),
the web server and one worker; print the URL and the sign-in; stop everything on Ctrl-C.

It keeps them running: a process that exits is started again with backoff, and an embedded Redis
that dies is started again from its append-only file, so a crash never takes the app down."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from app.config import PROJECT_ROOT


def _prepare() -> tuple[str, list]:
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import seed_demo_accounts, seed_demo_data

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        accounts = seed_demo_accounts()
        for line in seed_demo_data():
            print(f"Demo warehouse: {line}", flush=True)
    return app.config["REDIS_URL"], accounts


def _wait_http(url: str, deadline: float = 60) -> bool:
    from urllib.parse import urlsplit

    from app.core import http

    # Our own server on the operator's HOST: named explicitly, the only address this probe may call.
    own = http.Policy.parse(hosts=urlsplit(url).hostname or "")
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if http.request("GET", url, timeout=2, policy=own).status < 400:
                return True
        except http.HttpFailure:
            pass
        time.sleep(0.3)
    return False


class Child:
    """A process the supervisor keeps running: restarted with backoff (1 s doubling to 30 s) when it
    exits, the backoff reset once it has run for a minute."""

    SETTLED_SECONDS = 60
    LONGEST_WAIT = 30

    def __init__(self, name: str, argv: list[str], env: dict):
        self.name, self.argv, self.env = name, argv, env
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.backoff = 1.0
        self.restart_at: float | None = None

    def start(self) -> None:
        # A new session: Ctrl-C reaches only the supervisor, which stops children in order.
        self.proc = subprocess.Popen(self.argv, cwd=PROJECT_ROOT, env=self.env, start_new_session=True)
        self.started, self.restart_at = time.monotonic(), None

    def check(self, now: float) -> None:
        """Notice an exit and schedule the restart; restart when its time has come."""
        if self.restart_at is None and self.proc is not None and self.proc.poll() is not None:
            if now - self.started > self.SETTLED_SECONDS:
                self.backoff = 1.0
            print(f"{self.name} exited (code {self.proc.returncode}); starting it again in {self.backoff:.0f} s.",
                  flush=True)
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, self.LONGEST_WAIT)
        if self.restart_at is not None and now >= self.restart_at:
            self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, seconds: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _children(env: dict, host: str, port: str) -> list[Child]:
    web_workers = os.environ.get("WEB_WORKERS", "2")
    # gevent workers: event streams are cheap greenlets, so open tabs never block page requests.
    web = Child("The web server", [sys.executable, "-m", "gunicorn", "-k", "gevent", "--worker-connections", "1000",
                                   "-w", web_workers, "-b", f"{host}:{port}", "--graceful-timeout", "5",
                                   "--access-logfile", "-", "wsgi:app"], env)
    count = int(os.environ.get("WORKERS", "1"))
    workers = [Child(f"Worker {n + 1}", [sys.executable, "worker.py"], env) for n in range(count)]
    return [web, *workers]


def _keep_redis(folder) -> None:
    """The embedded Redis died: start it again from its append-only file."""
    from app.core import redis_server

    if not redis_server.answers(folder):
        print("The embedded Redis stopped; starting it again from its append-only file.", flush=True)
        try:
            redis_server.start(folder, detach=True)
        except RuntimeError as exc:
            print(f"Redis did not start ({exc}); trying again.", flush=True)


def main() -> int:
    from app.core import redis_server

    port = os.environ.get("PORT", "5000")
    host = os.environ.get("HOST", "127.0.0.1")
    own_redis = not os.environ.get("REDIS_URL")
    folder = None
    if own_redis:  # one embedded server for the web processes and the workers, stopped in _stop
        from app.config import instance_path

        folder = instance_path()
        os.environ["REDIS_URL"] = redis_server.ensure_running(folder, stop_at_exit=False, detach=True)
    redis_url, accounts = _prepare()
    env = dict(os.environ, REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    children = _children(env, host, port)
    for child in children:
        child.start()

    def _stop(*_):
        for child in children:  # the web server first, then the workers (each finishes its job)
            child.stop()
        for child in children:
            child.wait(20)
        if own_redis:
            _stop_embedded(redis_url)
        sys.exit(0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    url = f"http://{host}:{port}"
    if _wait_http(url + "/login"):
        print("\n" + "=" * 72)
        print(f"  Stockroom is running at {url}")
        print("  Sign in with one of the demo accounts (organisation 'Demo Warehouse'):")
        for role, email, password in accounts:
            print(f"    {role:8} {email:28} {password}")
        print("  Press Ctrl-C to stop the web server, the worker and the embedded Redis.")
        print("=" * 72 + "\n", flush=True)
    else:
        print(f"The web server did not answer on {url}; see the log above.", flush=True)
    while True:
        if own_redis:
            _keep_redis(folder)
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(1)


def _stop_embedded(redis_url: str) -> None:
    """Ask the embedded server to save and shut down."""
    import redis

    try:
        redis.Redis.from_url(redis_url).shutdown(save=True)
    except redis.exceptions.ConnectionError:
        pass  # it is gone: that is what we wanted


if __name__ == "__main__":
    raise SystemExit(main())
