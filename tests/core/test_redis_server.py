"""The embedded Redis keeps queued work across a stop and start."""
import redis

from app.core import redis_server


def test_embedded_redis_keeps_data_across_restart(tmp_path, monkeypatch):
    # Keep the test session's own embedded server registered as the one to stop at the end.
    monkeypatch.setattr(redis_server, "_started", redis_server._started)
    url = redis_server.ensure_running(tmp_path, stop_at_exit=False)
    try:
        client = redis.Redis.from_url(url)
        client.rpush("rq:queue:probe", "job-1")
        client.shutdown(nosave=False)
    except redis.exceptions.ConnectionError:
        pass  # shutdown closes the connection it was sent on
    url = redis_server.ensure_running(tmp_path, stop_at_exit=False)
    client = redis.Redis.from_url(url)
    try:
        assert client.lrange("rq:queue:probe", 0, -1) == [b"job-1"]
    finally:
        try:
            client.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass
