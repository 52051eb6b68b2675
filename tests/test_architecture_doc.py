"""docs/architecture.md's layout names every module and package of the code, so that the map a newcomer reads
first matches the tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _named(path: str) -> bool:
    return re.search(rf"(^|[\s(`]){re.escape(path)}", LAYOUT, re.MULTILINE) is not None


def test_the_layout_names_every_module_and_package_of_the_bot() -> None:
    parts = [p for p in sorted((ROOT / "bot").iterdir())
             if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").exists())]
    unnamed = [f"bot/{p.name}" + ("/" if p.is_dir() else "") for p in parts
               if not _named(f"bot/{p.name}" + ("/" if p.is_dir() else ""))]
    assert unnamed == []


def test_the_layout_names_every_top_level_package() -> None:
    packages = [p.name for p in sorted(ROOT.iterdir()) if p.is_dir() and (p / "__init__.py").exists()]
    assert [name for name in packages if not _named(f"{name}/")] == []
