"""Grades written as qrels files: BEIR TSV (`query-id corpus-id score`, header first) or TREC (`query 0 doc grade`)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from curation.core import QRELS_HEADER
from curation.evaluation.errors import ExportError
from curation.evaluation.qrels import Qrels, load_qrels

if TYPE_CHECKING:
    from curation.core import Workspace

QrelsFormat = Literal["beir", "trec"]


def write_qrels(path: Path, query_ids: list[str], qrels: Qrels, fmt: QrelsFormat) -> int:
    """The grades of `query_ids` as BEIR TSV (`query-id corpus-id score`, header first) or TREC qrels
    (`query 0 doc grade`); returns the number of judgments written."""
    judged = [(q, d, g) for q in query_ids for d, g in sorted(qrels.grades.get(q, {}).items())]
    if fmt == "beir":
        text = "\t".join(QRELS_HEADER) + "\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in judged)
    else:
        text = "".join(f"{q} 0 {d} {g}\n" for q, d, g in judged)
    path.write_text(text, encoding="utf-8")
    return len(judged)


class QrelsExport(BaseModel):
    """What `judgments export` wrote."""

    query_set: str
    judgments: str
    format: QrelsFormat
    out: str
    queries: int
    rows: int


def export_qrels(
    ws: Workspace, query_set: str, out: Path, *, fmt: QrelsFormat | None = None, judgments: str | None = None
) -> QrelsExport:
    """Write a set's grades in force to one qrels file (format from `fmt`, else `.tsv` BEIR, other names TREC).

    The file is replaced only once it is complete; `judgments` picks whose grades (see `curation.qrels`).
    """
    fmt = fmt or ("beir" if out.suffix.lower() == ".tsv" else "trec")
    qrels = load_qrels(ws, query_set, judgments)
    out = out.expanduser().resolve()
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give a file name such as {out / 'qrels.tsv'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        rows = write_qrels(partial, sorted(qrels.grades), qrels, fmt)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return QrelsExport(
        query_set=query_set, judgments=qrels.source, format=fmt, out=str(out), queries=len(qrels.grades), rows=rows
    )
