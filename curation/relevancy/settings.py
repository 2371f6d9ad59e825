"""`[rules]` settings: what the cheap first stage of the relevancy filter drops, and SDE's default exclude patterns."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, Field

_BINARY = "pdf|zip|gz|tgz|tar|rar|7z|bz2|exe|dmg|iso|msi|bin|dat|nc|nc4|hdf|h5|he5|fits|fit|grib|grb"
_MEDIA = "jpe?g|png|gif|bmp|tiff?|svg|webp|ico|mp3|mp4|m4v|mov|avi|wmv|wav|ogg|webm|flac"
_CODE = "js|mjs|css|py|ipynb|java|c|cpp|h|sh|f90|r|json|xml|csv|txt|docx?|xlsx?|pptx?"
_END = r"([/.?&#]|$)"

DEFAULT_EXCLUDE_PATTERNS: dict[str, str] = {
    "login": rf"/(wp-login\.php|login|log-in|logout|signin|sign-in|signup|sign-up|register|my-?account){_END}",
    # result lists (`/search`, `/search/`, `?q=`), not every path under /search/ (CMR's dataset landing pages are
    # cmr.earthdata.nasa.gov/search/concepts/<id>.html)
    "search_results": r"/search/?([?#]|$)|[?&](q|query|search|s|keywords?|searchterm)=",
    "tag_archive": r"/tags?/",
    "category_archive": r"/(category|categories)/",
    "author_archive": r"/authors?/",
    "date_archive": r"/(19|20)\d\d/((0?[1-9]|1[0-2])/?)?([?#]|$)",
    "feed": rf"/(feed|feeds|rss|atom){_END}|[?&]feed=",
    "sitemap": r"/sitemap[^/]*$",
    "privacy": rf"/(privacy|privacy-policy|cookies|cookie-policy|terms-of-use|terms-and-conditions){_END}",
    "print_share": rf"/(print|share|email-this){_END}|[?&](print|share|format=print|replytocom)",
    "sort": r"[?&](sort|sortby|order|orderby|dir)=",
    "pagination": r"/page/\d+|[?&](page|paged|pg|start|offset)=\d+",
    "binary_file": rf"\.({_BINARY})([?#]|$)",
    "media_file": rf"\.({_MEDIA})([?#]|$)",
    "code_file": rf"\.({_CODE})([?#]|$)",
    "cms_artifact": r"/(wp-admin|wp-content|wp-includes|wp-json|cgi-bin|_layouts|cdn-cgi|\.well-known)/|"
    r"xmlrpc\.php|/(trackback|embed|amp)/?$|[?&](p|page_id|attachment_id)=\d+",
    "query_string": r"\?.",
}


class RulesSettings(BaseModel):
    """`[rules]`: what the cheap rules drop (URL patterns see the lower-cased path and query)."""

    # Measured on real NASA content: the shortest EJ dataset landing page has 15 words in a collection whose median
    # is 74; the longest planted error page of the demo has 31 words where its collection's median is ~260.
    min_words_fraction: float = Field(
        0.2,
        ge=0,
        le=1,
        description="drop documents with fewer words than this fraction of the median of their own collection "
        "(the workspace median for documents without a collection)",
    )
    min_words_floor: int = Field(
        10, ge=0, description="drop documents with fewer words than this whatever their collection's median"
    )
    path_words: list[str] = Field(
        default_factory=lambda: ["photo", "gallery", "photos", "contact", "figure", "figures"],
        description="drop documents whose URL path contains one of these words",
    )
    exclude_patterns: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_EXCLUDE_PATTERNS),
        description="name = RE2 regex on the URL after the host: the global exclude patterns of provenance "
        "default (`sde-workbench rules` adds per-collection exclude and include patterns)",
    )

    def version(self) -> str:
        """A short hash of the rules, stored with each verdict so a reviewer can tell which rules ran."""
        return hashlib.blake2b(json.dumps(self.model_dump(), sort_keys=True).encode(), digest_size=6).hexdigest()


class DedupSettings(BaseModel):
    """`[dedup]`: near-duplicate clusters (MinHash LSH over word shingles, or a retriever's document vectors)."""

    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity of word shingles that makes a pair")
    shingle_words: int = Field(5, ge=1, le=20, description="words per shingle")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (more: better recall, slower)")
    boilerplate_share: float = Field(
        0.5, gt=0, le=1, description="a line shared by more than this share of a collection's pages is left out"
    )
    boilerplate_min_pages: int = Field(
        4, ge=2, description="collections with fewer pages keep all their lines (too few to tell boilerplate)"
    )
    semantic_threshold: float = Field(0.92, gt=0, le=1, description="cosine of document vectors that makes a pair")
