"""Small corpora and retriever set-ups shared by the retrieval tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from curation.core import Workspace
from curation.ingest import ingest

TOPICS = [
    ("Earth Science", "Data", "sea surface temperature from satellite radiometers over the Pacific"),
    ("Earth Science", "Documentation", "soil moisture retrievals and drought monitoring in agriculture"),
    ("Heliophysics", "Data", "solar wind plasma measurements at the first Lagrange point"),
    ("Heliophysics", "Missions and Instruments", "coronal mass ejections observed by a coronagraph"),
    ("Astrophysics", "Images", "infrared images of a star forming region in the galactic plane"),
    ("Astrophysics", "Software and Tools", "a pipeline that reduces exoplanet transit light curves"),
    ("Planetary Science", "Data", "radar sounding of ice deposits below the martian polar caps"),
    ("Planetary Science", "Images", "mosaics of lunar craters from a narrow angle camera"),
    ("Biological and Physical Sciences", "Data", "plant growth experiments on the space station"),
    ("Biological and Physical Sciences", "Documentation", "fluid physics of boiling in microgravity"),
]


def corpus_rows(copies: int = 1) -> list[dict[str, Any]]:
    """Documents with distinct text, a division, a document type and a collection each."""
    rows = []
    for n in range(copies):
        for i, (division, doc_type, text) in enumerate(TOPICS):
            rows.append(
                {
                    "doc_id": f"doc-{n}-{i}",
                    "url": f"https://science.nasa.gov/{n}/{i}",
                    "title": f"Page {n}-{i}",
                    "text": f"{text}, record {n}.",
                    "division": division,
                    "document_type": doc_type,
                    "collection": f"collection_{i % 3}",
                }
            )
    return rows


def load_rows(ws: Workspace, rows: list[dict[str, Any]], path: Path) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    ingest(ws, [path])


def add_retriever(ws: Workspace, name: str, model_dir: Path, **spec: Any) -> None:
    """Register a dense retriever that loads from a local folder (the tiny random model in tests)."""
    ws.update_settings("retrievers", name, {"model": str(model_dir), "max_seq_length": 128, **spec})


def passage_text(row: dict[str, Any]) -> str:
    """What the retriever reads of a one-passage document (see curation.core.retrieval_text)."""
    return f"{row['title']}\n\n{row['text']}"
