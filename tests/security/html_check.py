"""Does a page hold anything a payload put there? Parsed with the standard library's HTML parser, the way a
browser tokenises it: an element or attribute that came from a payload is a finding, text is not.

A finding is: an element the project's own templates never write; any `on*` attribute; a URL attribute
(or a style) that runs `javascript:`/`vbscript:`/`data:text/html`; an attribute whose name carries the payload
marker; a script that is not one of ours (`/static/…`, no inline code); script or style text holding the marker.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from tests.security.corpus import MARKER

URL_ATTRS = frozenset({"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster",
                       "srcdoc", "content", "hx-get", "hx-post", "hx-push-url"})
_DANGEROUS_URL = re.compile(r"^(javascript|vbscript|data:text/html)", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\u200b-\u200f\u202a-\u202e]")
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")


def tags_written_by(*sources: Path | str) -> set[str]:
    """Every element name the given template files (or texts) write."""
    names: set[str] = set()
    for s in sources:
        text = s.read_text(encoding="utf-8") if isinstance(s, Path) else s
        names |= {t.lower() for t in TAG.findall(text)}
    return names


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.raw_text: list[tuple[str, str]] = []  # (element, text) inside script and style

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        if self.lasttag in ("script", "style") and self.cdata_elem is not None:
            self.raw_text.append((self.lasttag, data))
        else:
            self.text.append(data)


def parse(page: str) -> _Parsed:
    p = _Parsed()
    p.feed(page)
    p.close()
    return p


def findings(page: str, allowed_tags: set[str]) -> list[str]:
    """What in `page` came from a payload; empty when nothing did."""
    p = parse(page)
    out: list[str] = []
    for tag, attrs in p.elements:
        if tag not in allowed_tags:
            out.append(f"element <{tag}> {attrs}")
        for name, value in attrs:
            v = _INVISIBLE.sub("", value or "")
            if name.startswith("on"):
                out.append(f"<{tag} {name}={value!r}>: an event handler")
            if MARKER in name.lower():
                out.append(f"<{tag} {name}=…>: an attribute named by a payload")
            if name in URL_ATTRS and _DANGEROUS_URL.match(v.split(";url=")[-1]):
                out.append(f"<{tag} {name}={value!r}>: a script URL")
            if name == "style" and re.search(r"javascript|expression\(", v, re.IGNORECASE):
                out.append(f"<{tag} style={value!r}>: script in a style")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                out.append(f"<script {attrs}>: not one of ours")
    out += [f"<{tag}> text holds a payload: {text[:80]!r}" for tag, text in p.raw_text
            if MARKER in text.lower() or (tag == "script" and text.strip())]
    return out


def text_of(page: str) -> str:
    """The page's text as a reader sees it (entities decoded), script and style left out."""
    return "".join(parse(page).text)
