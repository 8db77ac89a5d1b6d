"""The scenario vocabulary of the procedure tests: find a user's task, complete it, read an instance."""
from __future__ import annotations


def task_of(api, user: str, element_id: str, instance_id: int | None = None) -> dict:
    """The one open task ``user`` may act on at ``element_id`` (of ``instance_id``)."""
    params = {"instance_id": instance_id} if instance_id else {}
    found = [t for t in api.tasks(user, **params) if t["element_id"] == element_id]
    assert len(found) == 1, (user, element_id, [t["element_id"] for t in api.tasks(user, **params)])
    return found[0]


def complete(api, user: str, element_id: str, data: dict, instance_id: int | None = None) -> dict:
    task = task_of(api, user, element_id, instance_id)
    response = api.complete(user, task["id"], data)
    assert response.status_code == 200, response.text
    return response.json()


def open_elements(api, instance_id: int) -> list[str]:
    body = api.get(f"/api/process-instances/{instance_id}", "admin").json()
    return sorted(t["element_id"] for t in body["tasks"])


def instance(api, instance_id: int) -> dict:
    return api.get(f"/api/process-instances/{instance_id}", "admin").json()


def events(api, instance_id: int, kind: str | None = None) -> list[dict]:
    items = api.get(f"/api/process-instances/{instance_id}/events", "admin").json()["items"]
    return [e for e in items if kind is None or e["kind"] == kind]
