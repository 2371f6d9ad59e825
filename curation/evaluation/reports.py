"""An evaluation read by people: per-query drill-down, results per division, and the metrics table with
significance letters as CSV, Markdown or LaTeX (as in ranx's reports)."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from curation.core import natural_key
from curation.evaluation.errors import EvaluationError
from curation.evaluation.metrics import Evaluation
from curation.evaluation.settings import TEST_NAMES

ReportFormat = Literal["csv", "markdown", "latex"]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SUPERSCRIPTS = dict(zip(_LETTERS, "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖ۹ʳˢᵗᵘᵛʷˣʸᶻ", strict=True))
_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def drill_down(evaluation: Evaluation, a: str, b: str, metric: str) -> pd.DataFrame:
    """Per query: A's and B's score on `metric`, B minus A, and whether B did better, worse or the same."""
    if a == b:
        raise EvaluationError("pick two different retrievers to compare")
    queries = list(evaluation.query_text)
    frame = pd.DataFrame(
        {
            "query_id": queries,
            "query": [evaluation.query_text[q] for q in queries],
            "division": [evaluation.divisions[q] for q in queries],
            a: [evaluation.per_query[a][metric][q] for q in queries],
            b: [evaluation.per_query[b][metric][q] for q in queries],
        }
    )
    frame["delta"] = frame[b] - frame[a]
    frame["change"] = ["better" if d > 1e-12 else "worse" if d < -1e-12 else "same" for d in frame["delta"]]
    order = sorted(range(len(frame)), key=lambda i: (frame["delta"].iloc[i], natural_key(frame["query_id"].iloc[i])))
    return frame.iloc[order].reset_index(drop=True)


def by_division(evaluation: Evaluation) -> pd.DataFrame:
    """Mean of every metric per division and retriever, with the number of queries behind each mean."""
    rows = []
    for retriever, scores in evaluation.per_query.items():
        frame = pd.DataFrame(scores)
        frame["division"] = [evaluation.divisions[q] for q in frame.index]
        grouped = frame.groupby("division")
        means = grouped.mean()
        means.insert(0, "queries", grouped.size())
        means.insert(0, "retriever", retriever)
        rows.append(means.reset_index())
    return pd.concat(rows, ignore_index=True).sort_values(["division", "retriever"], ignore_index=True)


def better_than(evaluation: Evaluation, retriever: str, metric: str) -> list[str]:
    """The retrievers this one beats on `metric` with a significant difference."""
    beaten = []
    for s in evaluation.significance:
        if s.metric != metric or not s.significant or retriever not in (s.a, s.b):
            continue
        other = s.b if s.a == retriever else s.a
        if evaluation.metrics[retriever][metric] > evaluation.metrics[other][metric]:
            beaten.append(other)
    return beaten


def marked_table(evaluation: Evaluation, *, latex: bool = False) -> pd.DataFrame:
    """Retrievers by metrics; each retriever has a letter, and a score carries the letters of the
    retrievers it is significantly better than, as in ranx's reports (superscripts, or `$^{ab}$` in LaTeX)."""
    retrievers = list(evaluation.metrics)
    letter = {r: _LETTERS[i] for i, r in enumerate(retrievers)}
    metrics = list(evaluation.metrics[retrievers[0]])
    escape = _latex_escape if latex else str

    def cell(retriever: str, metric: str) -> str:
        value = f"{evaluation.metrics[retriever][metric]:.4f}"
        beaten = "".join(letter[o] for o in better_than(evaluation, retriever, metric))
        if not beaten:
            return value
        return value + (f"$^{{{beaten}}}$" if latex else "".join(_SUPERSCRIPTS[c] for c in beaten))

    return pd.DataFrame(
        [[letter[r], escape(r), *(cell(r, m) for m in metrics)] for r in retrievers],
        columns=[escape("#"), "Retriever", *(escape(m) for m in metrics)],
    )


def report(evaluation: Evaluation, fmt: ReportFormat) -> str:
    """The metrics table as CSV (one row per retriever and metric), or as Markdown or LaTeX with letters."""
    if fmt == "csv":
        rows = [
            {
                "retriever": r,
                "metric": m,
                "value": value,
                "significantly_better_than": ";".join(better_than(evaluation, r, m)),
            }
            for r, values in evaluation.metrics.items()
            for m, value in values.items()
        ]
        return pd.DataFrame(rows).to_csv(index=False)
    note = describe(evaluation)
    if fmt == "markdown":
        return marked_table(evaluation).to_markdown(index=False) + f"\n\n{note}\n"
    table = marked_table(evaluation, latex=True)
    return table.to_latex(index=False, escape=False, caption=_latex_escape(note), label="tab:evaluation")


def describe(evaluation: Evaluation) -> str:
    """What a report's table rests on: queries evaluated, judgments, the test, and every warning."""
    scope = f"{evaluation.query_set}" + (f" (split {', '.join(evaluation.splits)})" if evaluation.splits else "")
    runs = "; ".join(
        f"{name}: run {used.run}" + (" (frozen)" if used.frozen else "") for name, used in evaluation.runs.items()
    )
    tested = [s for s in evaluation.significance if s.p_value is not None]
    if tested or not evaluation.significance:
        letters = f"letters mark a significant win ({TEST_NAMES[evaluation.test]}, p <= {evaluation.max_p})."
    else:
        letters = f"significance n/a ({evaluation.significance[0].note.removeprefix('n/a: ')})."  # type: ignore[union-attr]
    parts = [
        f"{evaluation.queries} of {evaluation.set_queries} queries of {scope} evaluated, judgments "
        f"{evaluation.judgments}; {letters} Runs: {runs}.",
        *(f"Warning: {w}." for w in evaluation.warnings),
    ]
    return " ".join(parts)


def _latex_escape(text: str) -> str:
    return "".join(_LATEX.get(char, char) for char in text)
