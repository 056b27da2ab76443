"""Live-event fan-out: one gunicorn gevent process, N open event streams, M published events.

Prints connect time, delivery counts and latency percentiles, the process's memory and the number
of Redis connections it holds. Figures, not assertions.

    python bench/events.py [clients=500] [events=20]
"""
from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 500
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="stockroom-bench-events-"))
    env = dict(os.environ, STOCKROOM_INSTANCE=str(tmp), FLASK_APP="wsgi")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    py = sys.executable
    from app.core import redis_server

    env["REDIS_URL"] = redis_server.ensure_running(tmp, stop_at_exit=True)
    subprocess.run([py, "-m", "flask", "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([py, "-m", "flask", "users", "create", "--email", "bench@example.com", "--password",
                    "bench-password-1", "--role", "admin", "--org", "Bench"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = free_port()
    web = subprocess.Popen([py, "-m", "gunicorn", "-k", "gevent", "--worker-connections", "4000", "-w", "1",
                            "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        opener.open(base + "/login", urllib.parse.urlencode(
            {"email": "bench@example.com", "password": "bench-password-1", "csrf_token": token}).encode())
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        request = (f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()

        sel = selectors.DefaultSelector()
        started = time.perf_counter()
        socks = []
        for _ in range(CLIENTS):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, bytearray())
            socks.append(s)
        connected = set()
        deadline = time.monotonic() + 60
        while len(connected) < CLIENTS and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                key.data.extend(key.fileobj.recv(65536))
                if b": connected" in key.data:
                    connected.add(key.fileobj)
        connect_s = time.perf_counter() - started

        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        org_id = 1
        sent_at: dict[int, float] = {}
        latencies: list[float] = []

        def drain(until: float) -> None:
            while time.monotonic() < until:
                for key, _ in sel.select(timeout=0.05):
                    chunk = key.fileobj.recv(65536)
                    now = time.perf_counter()
                    for m in re.finditer(rb'"i": (\d+)', chunk):
                        latencies.append((now - sent_at[int(m.group(1))]) * 1000)
                if len(latencies) >= CLIENTS * len(sent_at):
                    return

        for i in range(EVENTS):  # one event at a time, each read by every client before the next
            sent_at[i] = time.perf_counter()
            client.publish(f"stockroom:events:{org_id}", f'{{"event": "bench", "data": {{"i": {i}}}}}')
            drain(time.monotonic() + 10)
        delivered = len(latencies)
        rss_kb = int(Path(f"/proc/{_child_pid(web.pid)}/status").read_text().split("VmRSS:")[1].split()[0])
        redis_conns = client.info("clients")["connected_clients"]
        print(f"clients: {len(connected)}/{CLIENTS} connected in {connect_s:.2f} s")
        print(f"events: {delivered}/{CLIENTS * EVENTS} delivered")
        if latencies:
            q = statistics.quantiles(latencies, n=100)
            print(f"latency ms: p50 {q[49]:.1f}, p95 {q[94]:.1f}, max {max(latencies):.1f}")
        print(f"web worker RSS: {rss_kb / 1024:.0f} MB; Redis connections in total: {redis_conns}")
        for s in socks:
            s.close()
    finally:
        os.killpg(web.pid, signal.SIGKILL)  # open streams would hold a graceful stop for its full timeout
        web.wait(10)


def _child_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


if __name__ == "__main__":
    main()
