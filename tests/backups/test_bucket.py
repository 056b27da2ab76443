"""The copy in an S3-compatible bucket, against a local S3 server (moto's server mode)."""
from __future__ import annotations

import pytest

from app.backups import archive, remote, services
from app.backups.statuses import RunKind, RunStatus
from app.backups.verify import verify_backup
from app.core import storage


@pytest.fixture
def bucket_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def with_bucket(app, bucket_server):
    import boto3

    boto3.client("s3", endpoint_url=bucket_server, region_name="us-east-1").create_bucket(Bucket="stockroom-backups")
    app.config.update(BACKUP_S3_URL="s3://stockroom-backups/site-a", BACKUP_S3_ENDPOINT=bucket_server,
                      BACKUP_S3_REGION="us-east-1")
    return remote.bucket()


def _keys(target, under: str) -> set[str]:
    return set(remote._listing(target, under))


def test_each_backup_is_copied_and_files_are_uploaded_once(app, full_instance, with_bucket, tmp_path):
    first = services.run_now(kind=RunKind.BACKUP, by="test")
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert first.report["remote"]["uploaded"] == 9 and first.report["remote"]["already_there"] == 0
    storage.save_bytes(b"a new photo")
    second = services.run_now(kind=RunKind.BACKUP, by="test")
    assert second.report["remote"]["uploaded"] == 1 and second.report["remote"]["already_there"] == 9
    assert len(_keys(with_bucket, "files/")) == 10
    assert {k.rsplit("/", 1)[1] for k in _keys(with_bucket, f"backups/{second.report['name']}/")} == \
        {"manifest.json", "verified.json", second.report["method"] == "sqlite" and "database.sqlite3"
         or ("database.pgdump" if second.report["method"] == "pg_dump" else "database.json.gz")}
    fetched = remote.fetch_backup(second.report["name"], tmp_path / "from-bucket")
    assert verify_backup(fetched.path).ok


def test_retention_applies_in_the_bucket_too(app, full_instance, with_bucket):
    app.config.update(BACKUP_KEEP_DAILY=1, BACKUP_KEEP_WEEKLY=0, BACKUP_KEEP_MONTHLY=0)
    first = services.run_now(kind=RunKind.BACKUP, by="test")
    for sha_file in list(storage.iter_files())[:1]:
        sha_file.path.unlink()  # a file gone from the store is gone from the next backup
    second = services.run_now(kind=RunKind.BACKUP, by="test")
    assert second.report["removed"] == [first.report["name"]]
    names = {k.split("/")[2] for k in _keys(with_bucket, "backups/")}
    assert names == {second.report["name"]}
    assert len(_keys(with_bucket, "files/")) == 8


def test_a_bucket_that_cannot_be_reached_is_reported_and_the_local_backup_kept(app, org):
    app.config.update(BACKUP_S3_URL="s3://nowhere/x", BACKUP_S3_ENDPOINT="http://127.0.0.1:9")
    run = services.run_now(kind=RunKind.BACKUP, by="test")
    assert run.status == RunStatus.SUCCEEDED
    assert "COPY TO THE BUCKET FAILED" in run.summary and run.report["remote_error"]


def test_a_malformed_bucket_url_is_refused_with_its_form(app, org):
    app.config.update(BACKUP_S3_URL="https://example.com/bucket")
    made = archive.backup_create()
    with pytest.raises(remote.BackupError, match="s3://bucket/prefix"):
        remote.copy_to_bucket(made.backup)
