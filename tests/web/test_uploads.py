"""Files attached to forms: stored under var/uploads by an opaque id, checked by type and size."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.datastructures import FileStorage

from service.uploads import UploadRejected, UploadStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(content: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name)


@pytest.fixture
def store(tmp_path):
    return UploadStore(tmp_path, max_bytes=1024)


def test_a_file_is_stored_under_an_opaque_id_with_its_metadata(store, tmp_path):
    stored = store.save(upload(PNG, "../../现场 照片.PNG"), user_id=7, instance_id=3)
    assert stored.id.startswith("u") and len(stored.id) == 33
    assert stored.name == "现场 照片.PNG"                 # the user's name is kept for display only
    assert stored.content_type == "image/png"
    assert store.content_path(stored.id).read_bytes() == PNG
    assert store.content_path(stored.id).is_relative_to(tmp_path / "uploads")
    assert store.get(stored.id) == stored


def test_wrong_type_disguised_content_oversize_and_empty_files_are_refused(store):
    with pytest.raises(UploadRejected, match="不支持的文件类型「.html」"):
        store.save(upload(b"<html>", "a.html"), user_id=1, instance_id=None)
    with pytest.raises(UploadRejected, match="内容与扩展名「.pdf」不符"):
        store.save(upload(b"<script>alert(1)</script>", "a.pdf"), user_id=1, instance_id=None)
    with pytest.raises(UploadRejected, match="超过"):
        store.save(upload(b"%PDF-" + b"0" * 2000, "big.pdf"), user_id=1, instance_id=None)
    with pytest.raises(UploadRejected, match="空文件"):
        store.save(upload(b"", "a.txt"), user_id=1, instance_id=None)
    with pytest.raises(UploadRejected, match="不是文本文件"):
        store.save(upload(b"a\x00b", "a.txt"), user_id=1, instance_id=None)


def test_a_form_may_narrow_the_accepted_types(store):
    with pytest.raises(UploadRejected, match="允许：.jpg .pdf"):
        store.save(upload(PNG, "a.png"), user_id=1, instance_id=None, accept=".jpg,.pdf")


def test_ids_that_are_not_ours_never_reach_the_file_system(store):
    assert store.get("../../etc/passwd") is None
    assert store.get("u" + "0" * 32) is None


def test_files_of_a_start_form_are_attached_to_the_new_instance(store):
    stored = store.save(upload(b"%PDF-1.7", "a.pdf"), user_id=1, instance_id=None)
    assert stored.attached is False
    store.attach([stored.id], 42)
    assert (store.get(stored.id).instance_id, store.get(stored.id).attached) == (42, True)
    store.attach([stored.id], 43)                       # attached once and for all
    assert store.get(stored.id).instance_id == 42


def test_files_no_accepted_submission_carried_are_pruned_after_the_retention_period(store, tmp_path):
    abandoned = store.save(upload(PNG, "abandoned.png"), user_id=1, instance_id=7)
    kept = store.save(upload(PNG, "kept.png"), user_id=1, instance_id=7)
    store.attach([kept.id], 7)
    legacy = store.save(upload(PNG, "legacy.png"), user_id=1, instance_id=7)
    legacy.attached = None                              # stored before attachment was tracked
    store._write_meta(legacy)
    now = datetime.now(timezone.utc)

    assert store.prune(timedelta(hours=24), now=now + timedelta(hours=23)) == 0     # not old enough yet
    assert store.prune(timedelta(hours=24), now=now + timedelta(hours=25)) == 1
    assert store.get(abandoned.id) is None and not store.content_path(abandoned.id).exists()
    assert store.get(kept.id) is not None and store.content_path(kept.id).read_bytes() == PNG
    assert store.get(legacy.id) is not None
    assert store.prune(timedelta(hours=24), now=now + timedelta(days=30)) == 0


def test_the_prune_command_and_the_worker_delete_abandoned_files(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from service.cli import main
    from service.config import Settings
    from service.core import Core
    from service.worker import TimerWorker

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("SHUDI_VAR_DIR", str(tmp_path))
    store = UploadStore(tmp_path, max_bytes=1024)
    abandoned = store.save(upload(PNG, "a.png"), user_id=1, instance_id=None)

    result = CliRunner().invoke(main, ["uploads", "prune"])          # 24 h by default: too young
    assert result.exit_code == 0 and "已删除 0 个" in result.output
    result = CliRunner().invoke(main, ["uploads", "prune", "--hours", "-1"])
    assert result.exit_code != 0 and "保留时长不能为负数" in result.output
    result = CliRunner().invoke(main, ["uploads", "prune", "--hours", "0"])
    assert result.exit_code == 0 and "已删除 1 个" in result.output and store.get(abandoned.id) is None

    again = store.save(upload(PNG, "b.png"), user_id=1, instance_id=None)
    monkeypatch.setenv("SHUDI_UPLOAD_RETENTION_HOURS", "0")

    core = Core(Settings.from_env())
    try:
        assert TimerWorker(core, name="test").housekeeping() == 1 and store.get(again.id) is None
    finally:
        core.close()


def test_a_retention_that_is_not_a_number_is_a_configuration_error():
    from service.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="SHUDI_UPLOAD_RETENTION_HOURS"):
        Settings.from_env({"DATABASE_URL": "sqlite://", "SECRET_KEY": "s", "SHUDI_UPLOAD_RETENTION_HOURS": "一天"})
