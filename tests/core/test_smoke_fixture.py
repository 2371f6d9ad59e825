from pathlib import Path

from sentence_transformers import SentenceTransformer


def test_tiny_model_loads_from_a_local_folder(tiny_model_dir: Path) -> None:
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    vectors = model.encode(["sea surface temperature", "solar wind"])
    assert vectors.shape == (2, 32)
    assert not (vectors[0] == vectors[1]).all()
