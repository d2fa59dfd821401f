"""Renderer processes for batch exports (issue 11 §5: "the job uses both cores").

The export task prepares each record's HTML in its own process (it holds the database
session) and hands it to EXPORT_RENDERERS renderer processes (`render_worker.py`), each with
one job in flight and the next one prepared; the results come back in order, so the ZIP is
written as they come and at most a few PDFs are in memory at once. The renderers are plain
subprocesses talking over pipes (multiprocessing's Connection framing), not a
multiprocessing pool: Huey's process workers are daemonic and may not have pool children."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection, wait

STARTUP_SECONDS = 60  # a renderer creates the app before its first job


class RenderFailed(Exception):
    def __init__(self, meta, reason: str):
        super().__init__(reason)
        self.meta = meta
        self.reason = reason


class _Renderer:
    def __init__(self, env: dict):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "intranet.archive.render_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, **env})
        self.send = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.recv = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.started = False

    def stop(self) -> None:
        self.send.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.recv.close()


class RendererPool:
    """`map(jobs)`: jobs are (meta, html, data_json, number); yields (meta, pdf) in the jobs'
    order. `env` adds to the renderers' environment (the database URL)."""

    def __init__(self, size: int = 2, timeout: float = 60, env: dict | None = None, tick=None):
        self.timeout = timeout
        self.tick = tick  # called about every second while waiting (the task's heartbeat)
        self.renderers = [_Renderer(env or {}) for _ in range(max(1, size))]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for renderer in self.renderers:
            renderer.stop()
        self.renderers = []

    def render(self, html: str, data_json: bytes, number: str) -> bytes:
        return next(iter(self.map([(None, html, data_json, number)])))[1]

    def map(self, jobs):
        jobs = iter(jobs)
        idle = deque(self.renderers)
        busy: dict[_Renderer, int] = {}
        metas: dict[int, object] = {}
        ready: dict[int, bytes] = {}
        prepared: deque = deque()
        sent = emitted = 0
        exhausted = False
        while True:
            # keep one prepared job per renderer, so a renderer that finishes gets work at once
            while not exhausted and len(prepared) < len(self.renderers):
                try:
                    prepared.append(next(jobs))
                except StopIteration:
                    exhausted = True
            while idle and prepared:
                meta, *job = prepared.popleft()
                renderer = idle.popleft()
                renderer.send.send((sent, *job))
                busy[renderer], metas[sent] = sent, meta
                sent += 1
            while emitted in ready:
                yield metas.pop(emitted), ready.pop(emitted)
                emitted += 1
            if not busy:
                if exhausted and not prepared:
                    return
                continue
            try:
                answered = self._wait(busy)
            except TimeoutError:
                raise RenderFailed(metas[min(busy.values())], "timeout") from None
            for renderer in [r for r in busy if r.recv in answered]:
                try:
                    seq, ok, payload = renderer.recv.recv()
                except EOFError:
                    raise RenderFailed(metas[busy[renderer]], "renderer stopped") from None
                renderer.started = True
                del busy[renderer]
                idle.append(renderer)
                if not ok:
                    raise RenderFailed(metas[seq], payload)
                ready[seq] = payload

    def _wait(self, busy: dict) -> list:
        limit = self.timeout + (0 if all(r.started for r in busy) else STARTUP_SECONDS)
        deadline = time.monotonic() + limit
        while True:
            answered = wait([r.recv for r in busy], min(1.0, max(0, deadline - time.monotonic())))
            if answered:
                return answered
            if time.monotonic() >= deadline:
                raise TimeoutError()
            if self.tick is not None:
                self.tick()
