"""What runs inside the Rasa server: the linear intent classifier over n-grams and sentence
embeddings (linear.py), the multilingual e5 encoder (e5.py) and the MiniLM one run with numpy
(encoder.py), each message's language (language.py), and `rasa` with the action server's answers
checked once (rasa_run.py).

Imports Rasa and numpy, never rasa-sdk or bot/. This folder is a training input: editing it gives
a new model (bot/ops/launcher.py's fingerprint), and its code is part of each component's
fingerprint in Rasa's training cache (source_digest), so a changed component is trained again
rather than restored from the cache.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


@cache
def source_digest() -> str:
    """A digest of this folder's code."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
