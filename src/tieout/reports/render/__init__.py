"""Renderers: one Document (tieout.reports.sections) to Markdown, HTML or Excel."""
