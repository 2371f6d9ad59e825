"""The demo workspace `make run` opens, built from the demo corpus the package ships (see `demo/`)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={"build": ["DemoBuild", "DEMO_QUERY_SET", "DEMO_ANNOTATOR", "DEMO_RETRIEVER", "build_demo"]},
)
