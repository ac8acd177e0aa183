"""`tieout serve`: the local web interface on the project's store."""

from __future__ import annotations

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
def serve(project_dir: Path, host: str, port: int, idle_minutes: int) -> None:
    """Serve the web interface: the queue, each exception's story, entities, the timeline and ownership.

    \b
    Sign-in required: create users first with `tieout users add`. The workflow (ack, assign,
    comment, resolve, suppress, approve) writes to the state database; the store is only read.
    Pages: http://HOST:PORT/   JSON: /api/exceptions, /api/exceptions/ID[/actions], /api/entities/ID
    Serve it behind HTTPS (a reverse proxy) if it listens beyond this machine.
    """
    import uvicorn  # only this command needs the server

    from tieout.web.app import create_app

    app = create_app(open_project(project_dir), idle_minutes=idle_minutes)
    click.echo(f"tieout serving {app.state.project.root} on http://{host}:{port}/ (Ctrl+C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
