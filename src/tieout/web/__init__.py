"""`tieout serve`: the local web interface over a project's store (FastAPI, server-rendered HTML, htmx).

`app.create_app(project)` builds the application; `pages` holds the screens people use, `api` the JSON other
tools read, `reads` the one place both get their data from the library (cached per store version), `auth` the
dependencies every route goes through to learn who is asking (and, for a POST, to check its CSRF token),
`flow` the workflow's actions and the audit page, `signin` sign-in and sign-out.

The package imports none of its modules: they import each other, and `tieout.web.app` imports them all.
"""
