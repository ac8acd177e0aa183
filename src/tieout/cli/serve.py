"""`tieout serve`: the local web interface on the project's store."""

from __future__ import annotations

import os
from pathlib import Path

import click

from tieout.cli.common import open_project, project_option


@click.command("serve")
@project_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default serves this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--idle-minutes", default=30, show_default=True, type=click.IntRange(1, 24 * 60),
              help="A session ends after this long without a request.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes answering on the same port: 2 or more for a team (about one per core); "
                   "each holds its own copy of the readings in memory.")
def serve(project_dir: Path, host: str, port: int, idle_minutes: int, workers: int) -> None:
    """Serve the web interface: the queue, each exception's story, entities, the timeline and ownership.

    \b
    Sign-in required: create users first with `tieout users add`. The workflow (ack, assign,
    comment, resolve, suppress, approve) writes to the state database; the store is only read.
    Pages: http://HOST:PORT/   JSON: /api/exceptions, /api/exceptions/ID[/actions], /api/entities/ID
    Serve it behind HTTPS (a reverse proxy) if it listens beyond this machine.
    """
    import uvicorn  # only this command needs the server

    project = open_project(project_dir)
    if workers == 1:
        from tieout.web.app import create_app

        app = create_app(project, idle_minutes=idle_minutes)
        click.echo(f"tieout serving {app.state.project.root} on http://{host}:{port}/ (Ctrl+C stops it)", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return

    from tieout.store import stored_days
    from tieout.web.app import SERVE_IDLE_MINUTES, SERVE_PROJECT

    # A store written by an older tieout is converted here, once, before any worker reads it (each worker's
    # create_app then finds it current). The workers are new processes (uvicorn spawns them and imports the app
    # factory by name): they learn the project and the idle timeout from the environment they inherit, the
    # project as an absolute path so that no working directory matters.
    stored_days(project)
    os.environ[SERVE_PROJECT] = str(project.root.absolute())
    os.environ[SERVE_IDLE_MINUTES] = str(idle_minutes)
    click.echo(f"tieout serving {project.root} on http://{host}:{port}/ with {workers} worker processes "
               "(Ctrl+C stops them all)", err=True)
    uvicorn.run("tieout.web.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level="warning")
