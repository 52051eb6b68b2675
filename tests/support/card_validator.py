"""Adaptive Cards checked by Microsoft's own `adaptivecards` library, in Node (tests/cards/validate.js).

`validate_cards(cards)` runs Node once for the whole batch and returns, for each card, the problems the
library reports when it parses the card for Teams' limit (schema 1.5) and validates its properties.
An empty list means the library found nothing wrong.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

CARDS_DIR = Path(__file__).resolve().parents[1] / "cards"
SCRIPT = "validate.js"


class CardValidatorUnavailable(RuntimeError):
    """The Node side cannot run: the message says how to set it up."""


def validate_cards(cards: list[dict[str, Any]]) -> list[list[str]]:
    """The library's problems for each card, in the order given (one Node process per distinct batch)."""
    payload = json.dumps(cards, ensure_ascii=False, sort_keys=True)
    return [list(problems) for problems in _run(payload, len(cards))]


@lru_cache(maxsize=32)
def _run(payload: str, count: int) -> tuple[tuple[str, ...], ...]:
    if not (CARDS_DIR / "node_modules" / "adaptivecards").is_dir():
        raise CardValidatorUnavailable(
            f"{CARDS_DIR / 'node_modules'} is missing: run `make test`, which installs it "
            "(or `npm ci --prefix tests/cards --no-audit --no-fund`)")
    node = shutil.which("node")
    if node is None:
        raise CardValidatorUnavailable("`node` is not on PATH: the card tests need Node.js 20 or later")
    done = subprocess.run([node, SCRIPT], input=payload, capture_output=True, text=True, encoding="utf-8",
                          cwd=CARDS_DIR, timeout=120, check=False)
    if done.returncode != 0:
        raise CardValidatorUnavailable(f"node {SCRIPT} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    results = json.loads(done.stdout)
    if not isinstance(results, list) or len(results) != count:
        raise CardValidatorUnavailable(f"node {SCRIPT} answered for {len(results)} cards, not {count}")
    return tuple(tuple(str(problem) for problem in problems) for problems in results)
