"""The README's settings table names every setting, and only real ones."""

import re

from app.settings import PROJECT_ROOT, Settings


def test_readme_settings_table_matches_settings() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(LOGQUEUE_[A-Z0-9_]+)` \|", readme, re.MULTILINE))
    known = {f"LOGQUEUE_{name.upper()}" for name in Settings.model_fields}
    assert documented == known
