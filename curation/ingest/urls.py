"""Document ids from URLs: one normalised form, so the same page met twice is one document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WEB_SCHEMES = {"http", "https", "ftp", "ftps", "s3", "gs"}
_SIMPLE_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\[\]]*)(?=[/?#]|$)([^?#]*)(?:\?([^#]*))?")


def is_url(value: str) -> bool:
    """A web address (scheme and host, no spaces): what may stand in for a document's id."""
    value = value.strip()
    if any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in _WEB_SCHEMES and bool(parts.netloc)


def normalize_url(url: str) -> str:
    """A stable id for a URL: lower-case scheme and host, no default port, fragment or trailing slash.

    Query strings are kept: on SDE sites they often select different content. The common shape is
    handled by one regular expression (ingest calls this for every row); anything unusual (user
    info, IPv6 hosts) goes through urllib.
    """
    url = url.strip()
    match = _SIMPLE_URL.match(url)
    if match is None:
        parts = urlsplit(url)
        scheme, host, path, query = parts.scheme.lower(), (parts.hostname or "").lower(), parts.path, parts.query
        if ":" in host:
            host = f"[{host}]"
        if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{parts.port}"
    else:
        scheme, host, path, query = match[1].lower(), match[2].lower(), match[3], match[4] or ""
        name, colon, port = host.rpartition(":")
        if colon and (not port or (port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme))):
            host = name
    path = path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, query, ""))
