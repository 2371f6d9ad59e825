"""The checkpoint table across benchmarks (as in the INDUS-SDE-ST paper's Stage-2 table): one row per retriever,
one group of metric columns per benchmark (a query set, or some of its splits), the best value of each column
marked. A dense float retriever can add its 1-bit variant as a row (sign bits, Hamming search, see
`curation.retrieval` mode `binary`) with its index size next to the float one.

Rows are anything `evaluate_runs` accepts (retrievers, `NAME/MODE`, stored runs), so a table of fine-tuning
checkpoints is the same table with checkpoint retrievers as rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.evaluation.errors import EvaluationError
from curation.evaluation.metrics import evaluate_runs, parse_metrics
from curation.evaluation.qrels import parse_splits
from curation.retrieval import SIGN_MODE, has_sign_variant, index_bytes

if TYPE_CHECKING:
    from curation.core import Workspace

LEADERBOARD_METRICS = ("mrr@1", "mrr@5", "ndcg@1", "ndcg@5")
LeaderboardFormat = Literal["markdown", "latex", "csv"]
_TIE = 1e-12


class Benchmark(BaseModel):
    """A column group: a query set, or some of its splits."""

    query_set: str
    splits: list[str] | None = None

    @property
    def label(self) -> str:
        return self.query_set + (f":{'+'.join(self.splits)}" if self.splits else "")


class LeaderboardRow(BaseModel):
    """One row: what was asked, the retriever behind it, whether it is a 1-bit variant, its index size."""

    name: str
    retriever: str
    binary: bool
    index_bytes: int | None
    runs: dict[str, str]


class Leaderboard(BaseModel):
    """Values per row, benchmark and metric, with the best rows of each column."""

    metrics: list[str]
    benchmarks: list[str]
    judgments: dict[str, str]
    queries: dict[str, int]
    rows: list[LeaderboardRow]
    values: dict[str, dict[str, dict[str, float]]]
    best: dict[str, dict[str, list[str]]]
    warnings: list[str]


def parse_benchmarks(ws: Workspace, text: str | list[str]) -> list[Benchmark]:
    """`SET[:SPLIT[+SPLIT]]` entries, comma-separated (or a list), checked against the sets' own splits."""
    entries = [e.strip() for e in (text.split(",") if isinstance(text, str) else text) if e.strip()]
    if not entries:
        raise EvaluationError("name at least one benchmark: SET or SET:SPLIT")
    found = []
    for entry in entries:
        query_set, _, splits = entry.partition(":")
        found.append(Benchmark(query_set=query_set, splits=parse_splits(ws, query_set, splits.replace("+", ","))))
    return found


def leaderboard(
    ws: Workspace,
    retrievers: list[str],
    benchmarks: list[Benchmark],
    *,
    metrics: list[str] | None = None,
    judgments: str | None = None,
    binary: bool = False,
    progress: ProgressCallback | None = None,
) -> Leaderboard:
    """Evaluate every row on every benchmark (runs made where needed); with `binary`, each dense float
    retriever is followed by its 1-bit variant."""
    metrics = parse_metrics(metrics, list(LEADERBOARD_METRICS))
    names = list(dict.fromkeys(r.strip() for r in retrievers if r.strip()))
    rows = []
    for name in names:
        rows.append(_row(ws, name, binary=False))
        if binary and "/" not in name and name in ws.settings.retrievers and has_sign_variant(ws, name):
            rows.append(_row(ws, f"{name}/{SIGN_MODE}", binary=True))
    values: dict[str, dict[str, dict[str, float]]] = {row.name: {} for row in rows}
    judged: dict[str, str] = {}
    queries: dict[str, int] = {}
    warnings: list[str] = []
    for bench in benchmarks:
        result = evaluate_runs(
            ws, [r.name for r in rows], bench.query_set,
            judgments=judgments, metrics=metrics, splits=bench.splits, progress=progress,
        )  # fmt: skip
        judged[bench.label] = result.judgments
        queries[bench.label] = result.queries
        warnings += [f"{bench.label}: {w}" for w in result.warnings]
        for row in rows:
            values[row.name][bench.label] = result.metrics[row.name]
            row.runs[bench.label] = result.runs[row.name].run
    labels = [b.label for b in benchmarks]
    best = {
        label: {m: _best({row.name: values[row.name][label][m] for row in rows}) for m in metrics} for label in labels
    }
    return Leaderboard(
        metrics=metrics,
        benchmarks=labels,
        judgments=judged,
        queries=queries,
        rows=rows,
        values=values,
        best=best,
        warnings=list(dict.fromkeys(warnings)),
    )


def leaderboard_frame(board: Leaderboard) -> pd.DataFrame:
    """Rows by `BENCHMARK METRIC` columns (numbers), with the index size; the table pages show."""
    records = []
    for row in board.rows:
        record: dict[str, object] = {"Retriever": row.name, "Index size": _size(row.index_bytes)}
        for bench in board.benchmarks:
            for metric in board.metrics:
                record[f"{bench} {metric}"] = board.values[row.name][bench][metric]
        records.append(record)
    return pd.DataFrame(records)


def render_leaderboard(board: Leaderboard, fmt: LeaderboardFormat) -> str:
    """The table as Markdown (best in bold), LaTeX (best in \\textbf, a column group per benchmark) or CSV."""
    frame = leaderboard_frame(board)
    if fmt == "csv":
        return frame.to_csv(index=False)
    latex = fmt == "latex"
    for bench in board.benchmarks:
        for metric in board.metrics:
            column = f"{bench} {metric}"
            winners = set(board.best[bench][metric])
            frame[column] = [
                _mark(f"{value:.4f}", latex) if name in winners else f"{value:.4f}"
                for name, value in zip(frame["Retriever"], frame[column], strict=True)
            ]
    queries = ", ".join(f"{b}: {board.queries[b]} queries, judgments {board.judgments[b]}" for b in board.benchmarks)
    if not latex:
        note = f"Best per column in bold. {queries}." + "".join(f"\nWarning: {w}." for w in board.warnings)
        return frame.to_markdown(index=False) + f"\n\n{note}\n"
    return _latex(board, frame, f"Best per column in bold. {queries}.")


def _row(ws: Workspace, name: str, *, binary: bool) -> LeaderboardRow:
    retriever = name.partition("/")[0]
    registered = retriever in ws.settings.retrievers
    size = index_bytes(ws, retriever, binary=binary) if registered else None
    return LeaderboardRow(name=name, retriever=retriever, binary=binary, index_bytes=size or None, runs={})


def _best(scores: dict[str, float]) -> list[str]:
    top = max(scores.values())
    return [name for name, value in scores.items() if value >= top - _TIE]


def _size(count: int | None) -> str:
    if not count:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return "-"


def _mark(text: str, latex: bool) -> str:
    return f"\\textbf{{{text}}}" if latex else f"**{text}**"


def _latex(board: Leaderboard, frame: pd.DataFrame, caption: str) -> str:
    escape = {"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"}

    def esc(text: str) -> str:
        return "".join(escape.get(c, c) for c in text)

    width = len(board.metrics)
    lines = [
        "\\begin{table}",
        "\\centering",
        f"\\caption{{{esc(caption)}}}",
        "\\label{tab:leaderboard}",
        "\\begin{tabular}{l r " + " ".join("r" * width for _ in board.benchmarks) + "}",
        "\\toprule",
        " & & " + " & ".join(f"\\multicolumn{{{width}}}{{c}}{{{esc(b)}}}" for b in board.benchmarks) + " \\\\",
        "Retriever & Index size & " + " & ".join(esc(m) for _ in board.benchmarks for m in board.metrics) + " \\\\",
        "\\midrule",
    ]
    for record in frame.itertuples(index=False):
        lines.append(" & ".join([esc(str(record[0])), esc(str(record[1])), *map(str, record[2:])]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"
