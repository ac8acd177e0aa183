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
def serve(project_dir: Path, host: str, port: int) -> None:
    """Serve the web interface: the queue, each exception's story, entities, the timeline and ownership.

    \b
    It only reads the store, without a lock, so it keeps working while `tieout run` writes.
    Pages: http://HOST:PORT/   JSON: /api/exceptions, /api/exceptions/ID, /api/entities/ID
    Sign-in is not there yet: anyone who can reach the port can read. Keep the default --host.
    """
    import uvicorn  # only this command needs the server

    from tieout.web import create_app

    app = create_app(open_project(project_dir))
    click.echo(f"tieout serving {app.state.project.root} on http://{host}:{port}/ (Ctrl+C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
