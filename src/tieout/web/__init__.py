"""`tieout serve`: the local web interface over a project's store (FastAPI, server-rendered HTML, htmx).

`create_app(project)` builds the application; `pages` holds the screens people use, `api` the JSON other
tools read, `reads` the one place both get their data from the library (cached per store version), `auth` the
dependencies every route goes through to learn who is asking (and, for a POST, to check its CSRF token), and
`flow` sign-in, sign-out, the workflow's actions and the audit page.
"""

from __future__ import annotations

from tieout.web.app import create_app

__all__ = ["create_app"]
