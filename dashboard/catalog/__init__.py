"""The built-in indicator catalogue (indicators.yaml)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=1)
def builtin_indicators() -> list[dict]:
    text = resources.files(__name__).joinpath("indicators.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["indicators"]
