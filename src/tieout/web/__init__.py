"""`tieout serve`: the local web interface over a project's store (FastAPI, server-rendered HTML, htmx).

`create_app(project)` builds the application; `pages` holds the screens people use, `api` the JSON other
tools read, `reads` the one place both get their data from the library (cached per store version), and
`auth` the single dependency every route goes through to learn who is asking.
"""

from __future__ import annotations

from tieout.web.app import create_app

__all__ = ["create_app"]
