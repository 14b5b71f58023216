"""Copy the GE2E speaker-encoder weights into the BentoML model store so the Bento ships them.

The weights come from the PyPI package Resemblyzer==0.1.4 (Apache-2.0), installed with
`pip install --no-deps Resemblyzer==0.1.4`; they are read without torch at run time.

    python scripts/import_speaker_encoder.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transcrevai.diarization.ge2e import STORE_MODEL_NAME, GE2EEncoder  # noqa: E402
from transcrevai.errors import ModelError  # noqa: E402


def main() -> int:
    import importlib.util

    spec = importlib.util.find_spec("resemblyzer")
    locations = list(spec.submodule_search_locations or []) if spec else []
    src = next(
        (Path(d) / "pretrained.pt" for d in locations if (Path(d) / "pretrained.pt").is_file()),
        None,
    )
    if src is None:
        print(
            "error: install the weights first: pip install --no-deps Resemblyzer==0.1.4",
            file=sys.stderr,
        )
        return 2
    try:
        GE2EEncoder.load(src)  # refuse to pack weights we cannot read
    except ModelError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    import bentoml

    with bentoml.models.create(
        STORE_MODEL_NAME,
        labels={"origin": "resemblyzer-0.1.4", "licence": "apache-2.0"},
        metadata={
            "format": "ge2e-torch-checkpoint",
            "read_with": "transcrevai.diarization.torch_checkpoint",
        },
    ) as model:
        shutil.copy2(src, Path(model.path) / "pretrained.pt")
    print(f"Imported GE2E speaker encoder as {model.tag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
