"""deploy/Dockerfile and its build context, checked statically (no Docker on build machines).

The image: multi-stage from a pinned slim Python, run as a non-root user, healthchecked on
/health, serving on the published port; the context: every COPY source present and not
.dockerignored, and nothing else sent to the builder.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.harness import BRIDGE_PORT, COMPOSE_FILE, PINNED_TAG, image_tag


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass(frozen=True)
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "dangling line continuation"
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name, []))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            arg_name, _, default = args.partition("=")
            global_args[arg_name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return global_args, stages


@pytest.fixture(scope="module")
def build(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec = services["bridge"]["build"]
    assert isinstance(spec, dict)
    return spec


@pytest.fixture(scope="module")
def context_dir(build: dict[str, Any]) -> Path:
    context = (COMPOSE_FILE.parent / str(build["context"])).resolve()
    assert context.is_dir()
    return context


@pytest.fixture(scope="module")
def dockerfile(build: dict[str, Any], context_dir: Path) -> Path:
    path = context_dir / str(build["dockerfile"])
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def stages(dockerfile: Path) -> list[Stage]:
    return parse_dockerfile(dockerfile.read_text(encoding="utf-8"))[1]


def instructions(stage: Stage, keyword: str) -> list[str]:
    return [i.args for i in stage.instructions if i.keyword == keyword]


def copy_sources(args: str) -> tuple[str | None, list[str]]:
    """(`--from` stage or None, sources) of a COPY; the last word is the destination."""
    words = shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    origin = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    return origin, paths[:-1]


def test_the_image_is_built_in_stages_from_a_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "multi-stage: build tools stay out of the image"
    final = stages[-1]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", final.image), final.image
    earlier = {stage.name for stage in stages[:-1]}
    copied_from = {copy_sources(args)[0] for args in instructions(final, "COPY")}
    assert copied_from & earlier, "the final stage takes its artefacts from a build stage"


def test_base_images_are_pinned(stages: list[Stage]) -> None:
    for stage in stages:
        _, tag = image_tag(stage.image)
        assert PINNED_TAG.match(tag), stage.image


def test_the_image_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    users = instructions(stages[-1], "USER")
    assert users, "no USER: the process would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0")
    assert group not in ("root", "0")
    assert not user.isdigit() or int(user) >= 1000, "a uid outside the system range"


def test_the_image_healthcheck_probes_health_on_the_served_port(stages: list[Stage]) -> None:
    final = stages[-1]
    (healthcheck,) = instructions(final, "HEALTHCHECK")
    assert f"http://127.0.0.1:{BRIDGE_PORT}/health" in healthcheck
    for option in ("--interval=", "--timeout=", "--retries="):
        assert option in healthcheck
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")
    assert json.loads(instructions(final, "ENTRYPOINT")[-1]) == ["nomad-bridge"]
    cmd = json.loads(instructions(final, "CMD")[-1])
    assert cmd[0] == "serve"
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0", "reachable through the published port"
    assert cmd[cmd.index("--port") + 1] == str(BRIDGE_PORT)


# --- the build context ----------------------------------------------------------------------


def dockerignore_patterns(dockerfile: Path, context_dir: Path) -> list[str]:
    """BuildKit prefers `<Dockerfile>.dockerignore` beside the Dockerfile to the context's."""
    for candidate in (
        dockerfile.with_name(dockerfile.name + ".dockerignore"),
        context_dir / ".dockerignore",
    ):
        if candidate.is_file():
            lines = candidate.read_text(encoding="utf-8").splitlines()
            return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]
    return []


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        regex = _glob_regex(pattern.strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


def context_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for child in sorted(path.rglob("*")):
        if child.is_file() and "__pycache__" not in child.parts:
            yield child


def test_every_file_the_dockerfile_copies_is_in_the_build_context(
    stages: list[Stage], dockerfile: Path, context_dir: Path
) -> None:
    patterns = dockerignore_patterns(dockerfile, context_dir)
    copied = 0
    for stage in stages:
        for args in instructions(stage, "COPY") + instructions(stage, "ADD"):
            origin, sources = copy_sources(args)
            if origin is not None:
                continue
            for source in sources:
                path = context_dir / source
                assert path.exists(), f"COPY {source}: not in the build context"
                for file in context_files(path):
                    relative = file.relative_to(context_dir).as_posix()
                    assert not is_ignored(relative, patterns), f"{relative} is .dockerignored"
                    copied += 1
    assert copied, "the image copies the package"


def test_the_build_context_leaves_out_what_the_image_does_not_need(
    dockerfile: Path, context_dir: Path
) -> None:
    patterns = dockerignore_patterns(dockerfile, context_dir)
    for unwanted in (".git/HEAD", ".venv/pyvenv.cfg", "tests/conftest.py", "nomad_bridge/x.pyc"):
        assert is_ignored(unwanted, patterns), f"{unwanted} would be sent to the builder"
