"""Live-event fan-out: one gunicorn gevent process, N open event streams, M published events.

Prints connect time, delivery counts and latency percentiles, the process's memory and the number
of Redis connections it holds. Figures, not assertions.

    python bench/events.py [clients=500] [events=20]
"""
from __future__ import annotations

import atexit
import os
import re
import selectors
import shutil
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

from goals import record  # noqa: E402  (bench/goals.py)

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
# The list pages people keep open, requested in turn before the streams are opened.
LIST_PAGES = ("/", "/products/", "/inventory/", "/orders/", "/orders/today", "/batches/", "/inbox/",
              "/inbox/conversations", "/inbox/customers", "/techfiles/", "/admin/audit", "/todo", "/review/",
              "/listings", "/inventory/imports")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="stockroom-bench-events-"))
    atexit.register(shutil.rmtree, tmp, True)  # first registered, so it runs after the embedded Redis stops
    env = dict(os.environ, STOCKROOM_INSTANCE=str(tmp), FLASK_APP="wsgi")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    py = sys.executable
    from app.core import redis_server

    env["REDIS_URL"] = redis_server.ensure_running(tmp, stop_at_exit=True)
    subprocess.run([py, "-m", "flask", "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run([py, "-m", "flask", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True,
                            text=True).stdout  # the demo warehouse: pages with rows in them
    password = re.search(r"admin@demo\.stockroom\s+(\S+)", seeded).group(1)
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
            {"email": "admin@demo.stockroom", "password": password, "csrf_token": token}).encode())
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        worker_pid = _child_pid(web.pid)
        mixed_requests(port, cookie, worker_pid)
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
        # This script's own publisher is one of the server's clients: the web process holds the rest.
        redis_conns = client.info("clients")["connected_clients"] - 1
        print(f"clients: {len(connected)}/{CLIENTS} connected in {connect_s:.2f} s")
        print(f"events: {delivered}/{CLIENTS * EVENTS} delivered")
        if latencies:
            q = statistics.quantiles(latencies, n=100)
            print(f"latency ms: p50 {q[49]:.1f}, p95 {q[94]:.1f}, max {max(latencies):.1f}")
            record(6, f"event latency p95, {len(connected)} streams (limit 150 ms)", q[94], 150, "ms", 1.0)
        record(6, "events lost", CLIENTS * EVENTS - delivered, 1, "events", 0)
        record(6, "Redis connections held by the web process (limit 2)", redis_conns, 2, "conns", 1.0)
        if redis_conns > 2:
            kinds: dict[str, int] = {}
            for c in client.client_list():
                kinds[c.get("cmd", "?")] = kinds.get(c.get("cmd", "?"), 0) + 1
            print(f"  Redis clients by last command: {kinds}")
        record(5, f"web process RSS with {len(connected)} streams open (limit 200 MB)", rss_kb / 1024, 200, "MB", 1.0)
        for s in socks:
            s.close()
    finally:
        os.killpg(web.pid, signal.SIGKILL)  # open streams would hold a graceful stop for its full timeout
        web.wait(10)


def _rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def mixed_requests(port: int, cookie: str, worker_pid: int) -> None:
    """REQUESTS page requests over the list pages in turn (one keep-alive connection, as a browser
    tab): each page's p95 against the 50 ms goal, and the web process's memory afterwards."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: dict[str, list[float]] = {page: [] for page in LIST_PAGES}
    for i in range(REQUESTS):
        page = LIST_PAGES[i % len(LIST_PAGES)]
        started = time.perf_counter()
        conn.request("GET", page, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            times[page].append((time.perf_counter() - started) * 1000)
    conn.close()
    for page, values in times.items():
        if len(values) >= 20:
            p95 = statistics.quantiles(values, n=20)[18]
            record(4, f"{page} p95 (demo data, gunicorn gevent, client-measured)", p95, 50, "ms", 1.0)
        else:
            print(f"  {page}: answered 200 only {len(values)} times")
    record(5, f"web process RSS after {REQUESTS:,} page requests (limit 200 MB)", _rss_mb(worker_pid), 200, "MB", 1.0)


def _child_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


if __name__ == "__main__":
    main()
