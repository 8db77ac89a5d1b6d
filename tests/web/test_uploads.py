"""Files attached to forms: stored under var/uploads by an opaque id, checked by type and size."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from service.web.uploads import UploadRejected, UploadStore

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


def test_files_of_a_start_form_are_linked_to_the_new_instance(store):
    stored = store.save(upload(b"%PDF-1.7", "a.pdf"), user_id=1, instance_id=None)
    store.link([stored.id], 42)
    assert store.get(stored.id).instance_id == 42
