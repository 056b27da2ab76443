"""An optional copy of every backup in an S3-compatible bucket (BACKUP_S3_URL=s3://bucket/prefix).

Layout in the bucket, under the prefix:
    files/ab/cd/<sha256><suffix>     each stored file once, shared by every backup (content-addressed)
    backups/<name>/database.*        the database of one backup
    backups/<name>/manifest.json     written last: a backup whose manifest is there is complete
    backups/<name>/verified.json
Only files the bucket does not have yet are uploaded, and each upload is checked against the
size in the manifest. The same retention applies in the bucket: backups not kept are deleted,
then files no kept manifest lists. Credentials come from the usual AWS settings (environment,
shared files or instance role) through boto3; BACKUP_S3_ENDPOINT points at a non-AWS server.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from flask import current_app

from app.backups.layout import MANIFEST, VERIFIED, Backup, BackupError, list_backups


@dataclass(frozen=True)
class Bucket:
    client: object
    name: str
    prefix: str

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)


def bucket() -> Bucket | None:
    """The configured bucket, or None when BACKUP_S3_URL is empty."""
    raw = (current_app.config.get("BACKUP_S3_URL") or "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise BackupError(f"BACKUP_S3_URL must look like s3://bucket/prefix (got {raw!r}).")
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=current_app.config.get("BACKUP_S3_ENDPOINT") or None,
                          region_name=current_app.config.get("BACKUP_S3_REGION") or None,
                          config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    prefix = parsed.path.strip("/")
    return Bucket(client, parsed.netloc, prefix + "/" if prefix else "")


def _listing(target: Bucket, under: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    pages = target.client.get_paginator("list_objects_v2").paginate(Bucket=target.name, Prefix=target.key(under))
    for page in pages:
        for item in page.get("Contents", []):
            sizes[item["Key"]] = item["Size"]
    return sizes


def copy_to_bucket(backup: Backup) -> dict:
    """Upload what the bucket lacks of this backup; check sizes; return counts."""
    target = bucket()
    if target is None:
        return {}
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _upload(target, backup)
    except (BotoCoreError, ClientError) as exc:
        raise BackupError(f"The copy to {current_app.config['BACKUP_S3_URL']} failed: {exc}") from None


def _upload(target: Bucket, backup: Backup) -> dict:
    manifest = backup.manifest()
    have = _listing(target, "files/")
    uploaded = skipped = sent = 0
    for relpath, size in manifest["files"]["list"]:
        key = target.key("files", relpath)
        if have.get(key) == size:
            skipped += 1
            continue
        target.client.upload_file(str(backup.path / "files" / relpath), target.name, key)
        uploaded, sent = uploaded + 1, sent + size
    for name in (manifest["database"]["file"], VERIFIED, MANIFEST):  # the manifest last
        target.client.upload_file(str(backup.path / name), target.name, target.key("backups", backup.name, name))
    _check(target, backup, manifest)
    return {"bucket": f"s3://{target.name}/{target.prefix}", "uploaded": uploaded, "uploaded_bytes": sent,
            "already_there": skipped}


def _check(target: Bucket, backup: Backup, manifest: dict) -> None:
    files = _listing(target, "files/")
    wrong = [r for r, size in manifest["files"]["list"] if files.get(target.key("files", r)) != size]
    own = _listing(target, f"backups/{backup.name}/")
    database = target.key("backups", backup.name, manifest["database"]["file"])
    if own.get(database) != manifest["database"]["size"]:
        wrong.append(manifest["database"]["file"])
    if wrong:
        raise BackupError(f"The copy in the bucket is incomplete: {len(wrong)} object(s) missing or of the wrong "
                          f"size ({', '.join(wrong[:3])}).")


def prune_bucket(kept: list[str]) -> dict:
    """Delete backups not in `kept` from the bucket, then files no kept backup lists."""
    target = bucket()
    if target is None:
        return {}
    keys = _listing(target, "backups/")
    names = {k[len(target.key("backups/")):].split("/", 1)[0] for k in keys}
    doomed = [k for k in keys if k[len(target.key("backups/")):].split("/", 1)[0] not in kept]
    wanted = set()
    for backup in list_backups():
        if backup.name in kept:
            wanted |= {target.key("files", r) for r, _ in backup.manifest()["files"]["list"]}
    doomed += [k for k in _listing(target, "files/") if k not in wanted]
    for start in range(0, len(doomed), 1000):
        target.client.delete_objects(Bucket=target.name, Delete={
            "Objects": [{"Key": k} for k in doomed[start:start + 1000]], "Quiet": True})
    return {"backups_removed": len(names - set(kept)), "objects_removed": len(doomed)}


def bucket_manifest(name: str) -> dict:
    """A backup's manifest as stored in the bucket (for checks and tests)."""
    target = bucket()
    if target is None:
        raise BackupError("BACKUP_S3_URL is not set.")
    body = target.client.get_object(Bucket=target.name, Key=target.key("backups", name, MANIFEST))["Body"].read()
    return json.loads(body)


def fetch_backup(name: str, into: Path) -> Backup:
    """Download one backup from the bucket into `into`/<name> (to verify or restore it locally)."""
    target = bucket()
    if target is None:
        raise BackupError("BACKUP_S3_URL is not set.")
    folder = into / name
    (folder / "files").mkdir(parents=True, exist_ok=True)
    manifest = bucket_manifest(name)
    for item in (manifest["database"]["file"], VERIFIED, MANIFEST):
        target.client.download_file(target.name, target.key("backups", name, item), str(folder / item))
    for relpath, _size in manifest["files"]["list"]:
        (folder / "files" / relpath).parent.mkdir(parents=True, exist_ok=True)
        target.client.download_file(target.name, target.key("files", relpath), str(folder / "files" / relpath))
    return Backup(folder)
