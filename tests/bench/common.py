"""What the service benchmarks (load.py, rasa_latency.py) share. Standard library only at import
time: load.py also runs in the Rasa environment (to draw its plots)."""

from __future__ import annotations

import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def held_out_texts() -> list[str]:
    """The held-out NLU texts (tests/nlu/test_nlu.yml), entity markup removed."""
    import yaml

    data = yaml.safe_load((ROOT / "tests" / "nlu" / "test_nlu.yml").read_text())
    texts = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip().removeprefix("- ")
            if line:  # "[71042388](order_id)" -> "71042388"
                texts.append(
                    line.replace("[", "").replace("]", "").split("(")[0] if "](" in line else line
                )
    return texts


def percentile(values: list[float], share: float) -> float | None:
    """The value below which `share` of `values` lie (nearest rank); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_environment(var: Path) -> dict[str, str]:
    """The end-to-end tests' environment for the three processes, for a benchmark."""
    from tests.e2e.conftest import stack_environment

    return stack_environment(var) | {"DEMO_DESK_PASSWORD": secrets.token_urlsafe(12)}
