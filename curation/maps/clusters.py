"""Clusters of a map: k-means on the 2-D points (the groups a curator sees), named by their top terms.

A cluster's label is its three most distinctive terms: those whose TF-IDF weight over a sample of its
documents (titles and openings) most exceeds their weight in the other clusters' documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel

from curation.maps.errors import MapError
from store import documents as document_store
from store import maps as map_store

if TYPE_CHECKING:
    from curation.core import Workspace

DOCS_PER_LABEL = 200  # documents of a cluster read to name it
CHARS_PER_DOC = 1_000
TERMS_PER_LABEL = 3


class MapCluster(BaseModel):
    cluster: int
    label: str
    size: int


def cluster_map(ws: Workspace, retriever: str, k: int | None = None) -> list[MapCluster]:
    """Cluster `retriever`'s map into `k` groups (default `[maps] clusters`), label and save them.

    Points placed on the map later join the nearest cluster; clustering again replaces the clusters.
    """
    from sklearn.cluster import KMeans

    points = map_store.points(ws.db, retriever)
    if points.empty:
        raise MapError(f"retriever {retriever!r} has no map yet; run `sde-workbench map --retriever {retriever}`")
    k = min(k or ws.settings.maps.clusters, len(points))
    xy = points[["x", "y"]].to_numpy(dtype=np.float64)
    model = KMeans(n_clusters=k, n_init=3, random_state=ws.settings.maps.seed).fit(xy)
    labels = _labels(ws, points["doc_id"], model.labels_, k)
    centres = model.cluster_centers_
    clusters = pd.DataFrame({"cluster": range(k), "label": labels, "x": centres[:, 0], "y": centres[:, 1]})
    assigned = pd.DataFrame({"doc_id": points["doc_id"], "cluster": model.labels_})
    map_store.save_clusters(ws.db, retriever, clusters, assigned)
    return [MapCluster(**row) for row in map_store.clusters(ws.db, retriever).to_dict("records")]


def _labels(ws: Workspace, doc_ids: pd.Series, assignment: np.ndarray, k: int) -> list[str]:
    """The top terms of each cluster: TF-IDF weights higher in its documents than in the others'.

    Read from a sample of each cluster; words in more than half the sampled documents name no cluster.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = np.random.default_rng(ws.settings.maps.seed)
    sampled: dict[str, int] = {}
    for cluster in range(k):
        members = doc_ids.to_numpy()[assignment == cluster]
        for doc_id in rng.permutation(members)[:DOCS_PER_LABEL]:
            sampled[str(doc_id)] = cluster
    fields = document_store.document_fields(ws.db, list(sampled), ("title", "text"))
    pairs = zip(fields["title"].fillna(""), fields["text"].fillna(""), strict=True)
    texts = [f"{title} {text[:CHARS_PER_DOC]}" for title, text in pairs]
    clusters = fields["doc_id"].map(sampled).to_numpy()
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, max_df=0.5, token_pattern=r"(?u)\b[^\W\d_]{3,}\b"
    )
    try:
        weights = vectorizer.fit_transform(texts)
    except ValueError:  # no word left (empty texts, stop words only, or every word everywhere)
        return [f"cluster {cluster}" for cluster in range(k)]
    terms = vectorizer.get_feature_names_out()
    labels = []
    for cluster in range(k):
        inside, outside = clusters == cluster, clusters != cluster
        if not inside.any():
            labels.append(f"cluster {cluster}")
            continue
        lift = np.asarray(weights[inside].mean(axis=0)).ravel()
        if outside.any():
            lift -= np.asarray(weights[outside].mean(axis=0)).ravel()
        top = [terms[i] for i in np.argsort(-lift, kind="stable")[:TERMS_PER_LABEL] if lift[i] > 0]
        labels.append(" · ".join(top) or f"cluster {cluster}")
    return labels


def saved_clusters(ws: Workspace, retriever: str) -> pd.DataFrame:
    """The clusters kept for a retriever's map: cluster, label, size and centre (empty before clustering)."""
    return map_store.clusters(ws.db, retriever)
