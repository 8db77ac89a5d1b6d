"""Files attached to task forms, stored under ``settings.var_dir/uploads`` and referenced in the
process data by an opaque id.

A file is stored as soon as its form is posted — a rejected submission keeps its files so the
re-shown form need not ask for them again — and is *attached* once a submission carrying it is
accepted. Files never attached (the form was abandoned) are pruned after a retention period, so
no personal data lingers in files nobody can reach.

The stored name never comes from the user, the type is checked by extension *and* by the file's
first bytes (a renamed HTML page is not a PDF), and the size is limited. Downloads are served as
attachments with the type we decided, never the one the browser guesses.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Extension → (content type, accepted leading bytes; empty: any content without NUL bytes).
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".ofd": ("application/ofd", (b"PK\x03\x04",)),          # 版式文件 (GB/T 33190), a zip container
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".zip": ("application/zip", (b"PK\x03\x04",)),
    ".txt": ("text/plain; charset=utf-8", ()),
    ".csv": ("text/csv; charset=utf-8", ()),
}
_ID = re.compile(r"^u[0-9a-f]{32}$")


def is_upload_id(value) -> bool:
    return isinstance(value, str) and _ID.match(value) is not None


class UploadRejected(Exception):
    """A file that may not be stored (type, size); the message is shown next to the field."""


@dataclass
class StoredFile:
    id: str
    name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: int | None
    instance_id: int | None
    uploaded_at: str
    # False until an accepted submission carries the file; None: stored before this was tracked.
    attached: bool | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _extension(filename: str) -> str:
    return os.path.splitext(filename or "")[1].lower()


def _clean_name(filename: str) -> str:
    """The original name, for display and download only (never part of a path)."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name[:120] or "file"


class UploadStore:
    def __init__(self, var_dir: Path, max_bytes: int):
        self.root = Path(var_dir) / "uploads"
        self.max_bytes = max_bytes

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not is_upload_id(upload_id):
            raise KeyError(upload_id)
        folder = self.root / upload_id[1:3]
        return folder / f"{upload_id}.bin", folder / f"{upload_id}.json"

    def save(self, upload, *, user_id: int | None, instance_id: int | None, accept: str | None = None) -> StoredFile:
        """Store a werkzeug ``FileStorage``; raises UploadRejected with a Chinese reason."""
        name = _clean_name(upload.filename)
        ext = _extension(name)
        allowed = set(ALLOWED_TYPES)
        if accept:
            allowed &= {e.strip().lower() for e in accept.split(",") if e.strip().startswith(".")}
        if ext not in allowed:
            raise UploadRejected(f"不支持的文件类型「{ext or '无扩展名'}」，允许：{' '.join(sorted(allowed))}")
        content = upload.stream.read(self.max_bytes + 1)
        if len(content) > self.max_bytes:
            raise UploadRejected(f"文件「{name}」超过 {self.max_bytes // (1024 * 1024)} MB")
        if not content:
            raise UploadRejected(f"文件「{name}」是空文件")
        content_type, signatures = ALLOWED_TYPES[ext]
        if signatures and not content.startswith(signatures):
            raise UploadRejected(f"文件「{name}」的内容与扩展名「{ext}」不符")
        if not signatures and b"\x00" in content:
            raise UploadRejected(f"文件「{name}」不是文本文件")
        stored = StoredFile(id="u" + uuid.uuid4().hex, name=name, size=len(content), content_type=content_type,
                            sha256=hashlib.sha256(content).hexdigest(), uploaded_by=user_id,
                            instance_id=instance_id, uploaded_at=datetime.now(timezone.utc).isoformat(),
                            attached=False)
        data_path, meta_path = self._paths(stored.id)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(data_path, content)
        self._write_meta(stored)
        return stored

    def get(self, upload_id: str) -> StoredFile | None:
        try:
            _, meta_path = self._paths(upload_id)
            return StoredFile(**json.loads(meta_path.read_text(encoding="utf-8")))
        except (KeyError, OSError, ValueError, TypeError):
            return None

    def attach(self, upload_ids, instance_id: int) -> None:
        """Files of an accepted submission belong to its instance (a start form's files were
        stored before the instance existed) and are kept from now on."""
        for upload_id in upload_ids:
            stored = self.get(upload_id)
            if stored is None or (stored.attached is not False and stored.instance_id is not None):
                continue
            stored.attached = True
            stored.instance_id = stored.instance_id or instance_id
            self._write_meta(stored)

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete files never attached and stored longer than ``older_than`` ago; returns how many."""
        cutoff = (now or datetime.now(timezone.utc)) - older_than
        pruned = 0
        for meta_path in sorted(self.root.glob("??/u*.json")):
            stored = self.get(meta_path.stem)
            if stored is None or stored.attached is not False:
                continue
            if datetime.fromisoformat(stored.uploaded_at) >= cutoff:
                continue
            data_path, _ = self._paths(stored.id)
            data_path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            pruned += 1
        return pruned

    def _write_meta(self, stored: StoredFile) -> None:
        _write_atomically(self._paths(stored.id)[1], json.dumps(stored.as_dict(), ensure_ascii=False).encode("utf-8"))

    def content_path(self, upload_id: str) -> Path:
        return self._paths(upload_id)[0]


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(content)
    os.replace(temporary, path)
