"""The document model every loader maps onto, and the identity rules behind it."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field


class SourceFormat(StrEnum):
    """Record shapes the loaders understand (see SDE.md, 'Record shapes seen in the wild')."""

    crawler = "crawler"
    indexer = "indexer"
    sinequa = "sinequa"
    cosmos = "cosmos"
    beir = "beir"
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


class Document(BaseModel):
    """One SDE page or corpus entry as the workspace stores it."""

    doc_id: str = Field(description="BEIR _id, or the normalized URL")
    url: str | None = None
    title: str = ""
    text: str
    division: str | None = None
    document_type: str | None = None
    collection: str | None = None
    tree_path: str | None = None
    taxonomy_flags: list[str] = Field(default_factory=list)
    source_format: SourceFormat
    source_file: str | None = None
    source_line: int | None = None
    content_hash: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


_DEFAULT_PORTS = {"http": 80, "https": 443}
_SIMPLE_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\[\]]*)(?=[/?#]|$)([^?#]*)(?:\?([^#]*))?")


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


def content_hash(title: str, text: str) -> str:
    """Hash of what retrievers and judges read; metadata changes do not make results stale."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(title.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def retrieval_text(title: str, text: str) -> str:
    """What a retriever reads of a document, when embedding it and when training on it: title, then text."""
    return f"{title}\n\n{text}" if title else text
