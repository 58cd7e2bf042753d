"""Read the Dockerfile and carry out its stages on this machine, where no Docker engine runs.

Every image path is placed under one temporary root directory, so the build stage's
``/wheels`` is the runtime stage's ``/wheels`` as ``COPY --from`` would make it. Steps
that only make sense inside an image (creating the service user) are recognised and
skipped; anything else unknown fails, so the Dockerfile cannot quietly grow a step this
rehearsal does not perform.
"""

import glob
import json
import posixpath
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT_ONLY_COMMANDS = {"groupadd", "useradd", "install"}


@dataclass
class Instruction:
    keyword: str
    flags: dict[str, str]
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def one(self, keyword: str) -> Instruction:
        (found,) = self.all(keyword)
        return found


@dataclass
class Rehearsal:
    """What a stage left behind: its environment, working directory and commands run."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    commands: list[list[str]] = field(default_factory=list)
    skipped: list[list[str]] = field(default_factory=list)

    def path(self, image_path: str) -> Path:
        return self.root / posixpath.normpath(image_path).lstrip("/")


def logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        flags: dict[str, str] = {}
        rest = rest.strip()
        while rest.startswith("--"):
            token, _, rest = rest.partition(" ")
            key, _, value = token[2:].partition("=")
            flags[key] = value
            rest = rest.strip()
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name, []))
        else:
            stages[-1].instructions.append(Instruction(keyword, flags, rest))
    return stages


def env_pairs(instruction: Instruction) -> dict[str, str]:
    return dict(token.split("=", 1) for token in shlex.split(instruction.args))


def exec_form(args: str) -> list[str]:
    """ENTRYPOINT, CMD and HEALTHCHECK CMD in their JSON (exec) form."""
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"not exec form: {args}"
    return [str(a) for a in parsed]


def ignore_names(context: Path) -> list[str]:
    """The ``**/name`` patterns of .dockerignore, as names to leave out of copied trees."""
    patterns = (context / ".dockerignore").read_text().splitlines()
    return [p.removeprefix("**/") for p in patterns if p.startswith("**/")]


def rehearse(stage: Stage, state: Rehearsal, *, context: Path, pip: list[str]) -> None:
    """Carry out ``stage`` under ``state.root``; ``pip`` is the pip to use for ``pip``."""
    ignored = shutil.ignore_patterns(*ignore_names(context))
    for step in stage.instructions:
        if step.keyword == "WORKDIR":
            state.workdir = posixpath.join(state.workdir, step.args)
            state.path(state.workdir).mkdir(parents=True, exist_ok=True)
        elif step.keyword == "ENV":
            state.env.update(env_pairs(step))
        elif step.keyword == "COPY":
            _copy(step, state, context, ignored)
        elif step.keyword == "RUN":
            _run(step, state, pip)


def _copy(step: Instruction, state: Rehearsal, context: Path, ignored: object) -> None:
    *sources, dest = shlex.split(step.args)
    target = posixpath.join(state.workdir, dest)
    if "from" in step.flags:  # the shared root already holds the other stage's files
        assert sources == [dest], "COPY --from must keep the path for this rehearsal"
        assert state.path(dest).exists(), f"{dest} was not made by stage {step.flags['from']}"
        return
    for source in sources:
        origin = context / source
        if origin.is_dir():
            shutil.copytree(origin, state.path(target), ignore=ignored, dirs_exist_ok=True)  # type: ignore[arg-type]
        elif dest.endswith("/"):
            state.path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, state.path(target) / origin.name)
        else:
            state.path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, state.path(target))


def _run(step: Instruction, state: Rehearsal, pip: list[str]) -> None:
    mount = dict(part.split("=", 1) for part in step.flags.get("mount", "").split(",") if part)
    if mount:
        assert mount.get("type") == "bind" and mount["source"] == mount["target"], mount
    for part in step.args.split("&&"):
        argv = [_image_arg(token, state) for token in shlex.split(part)]
        argv = [expanded for token in argv for expanded in (sorted(glob.glob(token)) or [token])]
        if argv[0] in ROOT_ONLY_COMMANDS:
            state.skipped.append(argv)
            continue
        assert argv[0] == "pip", f"the rehearsal does not know how to run: {part}"
        state.commands.append(argv)
        subprocess.run([*pip, *argv[1:]], cwd=state.path(state.workdir), check=True)


def _image_arg(token: str, state: Rehearsal) -> str:
    """Absolute image paths move under the root; ``--opt=/path`` forms too."""
    if token.startswith("/"):
        return str(state.path(token))
    option, sep, value = token.partition("=")
    if sep and value.startswith("/"):
        return f"{option}={state.path(value)}"
    return token
