"""Shared by the deploy checks: the compose file, parsed, and how an image reference is read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
BRIDGE_PORT = 8080
# A tag that names a version: digits, not "latest" (e.g. 1.9.7, 3.11-slim-bookworm, 7-alpine).
PINNED_TAG = re.compile(r"^(?!latest$)[A-Za-z0-9_.-]*\d[A-Za-z0-9_.-]*$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install pyyaml)")
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def image_tag(image: str) -> tuple[str, str]:
    """`repo[:tag]` split into (repo, tag); a registry port is not a tag."""
    repo, _, tag = image.rpartition(":")
    if not repo or "/" in tag:
        return image, ""
    return repo, tag
