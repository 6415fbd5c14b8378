"""What the deploy checks share: where the deployment files are, and how an image reference
is read."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
BRIDGE_PORT = 8080
# A tag that names a version: digits, not "latest" (e.g. 1.9.7, 3.11-slim-bookworm, 7-alpine).
PINNED_TAG = re.compile(r"^(?!latest$)[A-Za-z0-9_.-]*\d[A-Za-z0-9_.-]*$")


def image_tag(image: str) -> tuple[str, str]:
    """`repo[:tag]` split into (repo, tag); a registry port is not a tag."""
    repo, _, tag = image.rpartition(":")
    if not repo or "/" in tag:
        return image, ""
    return repo, tag
