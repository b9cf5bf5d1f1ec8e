"""``kartoteka serve``: gunicorn in production, Flask's reloading server with ``--dev``.
On the embedded default (no Redis) each web process also runs the in-process job worker."""

from __future__ import annotations

import importlib.util


def _start_jobs(kernel) -> None:
    if kernel.settings.redis_url or importlib.util.find_spec("core.jobs") is None:
        return
    from core import jobs
    starter = getattr(jobs, "start_inprocess_worker", None)
    if starter is not None:
        starter(kernel)


def serve(kernel, bind: str = "127.0.0.1:8000", workers: int = 2, dev: bool = False) -> None:
    from core.web.app import create_app
    if dev:
        host, _, port = bind.rpartition(":")
        _start_jobs(kernel)
        create_app(kernel).run(host=host or "127.0.0.1", port=int(port or 8000), debug=True,
                               use_reloader=True)
        return
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_fork", lambda server, worker: _start_jobs(kernel))

        def load(self):
            kernel.db.dispose()               # no connections shared across forks
            return create_app(kernel)

    App().run()
