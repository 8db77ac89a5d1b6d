"""HTTP lifecycle throughput against the production server (gunicorn, several workers).

A lifecycle is what a client does for one call handled locally: start an instance, list its
task, fetch the task with its form, complete it, fetch the next task, complete it. Measured on
SQLite and PostgreSQL with 1 and 4 concurrent clients for a fixed time; prints lifecycles/s and
p50/p95 of the complete call.

    .venv/bin/python -m bench.http [seconds-per-run] [gunicorn-workers]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: this file is named http.py, so bench/ must not stay on sys.path where it
    # would shadow the standard library's http package; put the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import requests  # noqa: E402

from bench._setup import PASSWORD, ROOT, database_urls, fresh_core  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                                "--workers", str(workers), "--log-level", "warning", "service.wsgi:app"],
                               cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return process, base
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def lifecycle(http: requests.Session, base: str, headers: dict, complete_ms: list) -> None:
    r = http.post(f"{base}/api/process-instances", headers=headers,
                  json={"process_key": "simple_call", "data": {"title": "压测"}})
    r.raise_for_status()
    instance_id = r.json()["id"]
    for data in ({"call_county": False, "description": "本地可处理"}, {"result": "已自行处理"}):
        tasks = http.get(f"{base}/api/tasks", headers=headers, params={"instance_id": instance_id}).json()["items"]
        task = http.get(f"{base}/api/tasks/{tasks[0]['id']}", headers=headers).json()
        assert task["form"]["schema"]
        started = time.perf_counter()
        r = http.post(f"{base}/api/tasks/{task['id']}/complete", headers=headers, json={"data": data})
        complete_ms.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()


def run(base: str, clients: int, seconds: float) -> tuple[float, list]:
    token = requests.post(f"{base}/api/auth/token", json={"username": "t01_office", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    counts, complete_ms, errors = [0] * clients, [], []
    deadline = time.monotonic() + seconds

    def client(n):
        http = requests.Session()
        while time.monotonic() < deadline:
            try:
                lifecycle(http, base, headers, complete_ms)
                counts[n] += 1
            except Exception as err:  # noqa: BLE001 - count and report, keep measuring
                errors.append(repr(err))

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if errors:
        print(f"    {len(errors)} failed lifecycles, e.g. {errors[0][:200]}")
    return sum(counts) / elapsed, complete_ms


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    sys.stdout.reconfigure(line_buffering=True)
    print(f"gunicorn --workers {workers}; {seconds:.0f} s per run; machine: {os.cpu_count()} cores")
    for label, url in database_urls().items():
        fresh_core(url).close()
        server, base = start_gunicorn(url, workers)
        try:
            for clients in (1, 4):
                rate, ms = run(base, clients, seconds)
                q = statistics.quantiles(ms, n=20) if len(ms) > 1 else [0] * 19
                print(f"{label:10s} clients={clients}  {rate:6.1f} lifecycles/s   complete p50={statistics.median(ms):5.1f} ms"
                      f"  p95={q[18]:5.1f} ms  (n={len(ms)})")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
