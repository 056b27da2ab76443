"""`make run`: migrate, seed the demo organisation, start Redis (embedded unless REDIS_URL is set),
the web server and one worker; print the URL and the sign-in; stop everything on Ctrl-C."""
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
    from app.cli import seed_demo_accounts

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        accounts = seed_demo_accounts()
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


def main() -> int:
    from app.core import redis_server

    port = os.environ.get("PORT", "5000")
    host = os.environ.get("HOST", "127.0.0.1")
    own_redis = not os.environ.get("REDIS_URL")
    if own_redis:  # one embedded server for the web processes and the workers, stopped in _stop
        from app.config import instance_path

        os.environ["REDIS_URL"] = redis_server.ensure_running(instance_path(), stop_at_exit=False, detach=True)
    redis_url, accounts = _prepare()
    env = dict(os.environ, REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    web_workers = os.environ.get("WEB_WORKERS", "2")
    # gevent workers: event streams are cheap greenlets, so open tabs never block page requests.
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gevent", "--worker-connections", "1000",
                            "-w", web_workers, "-b", f"{host}:{port}", "--graceful-timeout", "5",
                            "--access-logfile", "-", "wsgi:app"], cwd=PROJECT_ROOT, env=env,
                           start_new_session=True)  # Ctrl-C reaches only us; we stop children in order
    workers = [subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=env, start_new_session=True)
               for _ in range(int(os.environ.get("WORKERS", "1")))]
    children = [web, *workers]

    def _stop(*_):
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
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
        for child in children:
            if child.poll() is not None:
                print(f"A process exited (code {child.returncode}); stopping everything.", flush=True)
                _stop()
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
