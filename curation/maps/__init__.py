"""Maps: a 2-D UMAP map of each retriever's document vectors, kept in step with them, its clusters, a query
placed on it, two maps aligned, and the plotly figure the Map page draws.

The pages and the CLI call these names; they are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["MapSettings"],
        "errors": ["MapError", "MapBusy"],
        "build": ["MapResult", "MapStatus", "mappable_retrievers", "map_status", "project", "map_info", "map_points"],
        "overlay": ["QueryOverlay", "query_overlay", "align"],
        "clusters": ["MapCluster", "cluster_map", "saved_clusters"],
        "figure": [
            "COLOUR_BY",
            "FIXED_COLOURS",
            "HITS",
            "QUERY",
            "colour_groups",
            "filter_points",
            "map_figure",
            "selected_doc_ids",
        ],
    },
)
