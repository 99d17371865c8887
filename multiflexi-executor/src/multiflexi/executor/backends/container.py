"""Container back-ends: ``docker run`` and ``podman run`` of the application's OCI image.

The command is ``<engine> run --rm --name multiflexi-job-<id>-<token> --label
io.multiflexi.tmp=<MULTIFLEXI_TMP> --env-file <file> --volume <work dir>:<work dir>
--workdir <work dir> <image> <argv>``. The job's environment travels in an env file
(mode 0600, plain ``KEY=value`` lines, never quoted, outside the mounted work
directory) that is deleted when the job ends; nothing secret is on the command
line. The engine's exit code is the container's. A stopped job also gets
``<engine> rm -f`` of its container, and so does the container of a job whose
worker died, when a worker of this host next starts (the label tells this
installation's containers from another's).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from multiflexi.core.environment import system_environment
from multiflexi.executor.backends import BackendError, Launch, LaunchRequest, Leftover

#: worker variables the engine's command line tool itself may need (never given to the job)
ENGINE_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "CONTAINER_HOST",
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "XDG_RUNTIME_DIR",
)
RM_TIMEOUT = 30
CONTAINER_NAME_FORMAT = "multiflexi-job-{job_id}-{token}"
CONTAINER_NAME = re.compile(r"multiflexi-job-(\d+)-[0-9a-f]+")
#: marks a job's container with the installation's MULTIFLEXI_TMP (one host may have several)
INSTALLATION_LABEL = "io.multiflexi.tmp"


def env_file_text(request: LaunchRequest) -> str:
    """``KEY=value`` lines of the job's environment (the worker's inherited variables left out)."""
    lines = []
    for entry in request.environment:
        if entry.source == "inherited":
            continue
        if "\n" in entry.value or "\r" in entry.value:
            raise BackendError(
                f"{entry.name} has a line break, which a container env file cannot carry"
            )
        lines.append(f"{entry.name}={entry.value}\n")
    return "".join(lines)


class ContainerBackend:
    """``<engine> run --rm`` of the application's image."""

    name = "container"
    engine = "docker"

    def prepare(self, request: LaunchRequest) -> Launch:
        image = request.application.ociimage
        if not image:
            raise BackendError(
                f"application {request.application.name!r} has no OCI image; "
                f"the {self.name} executor needs one"
            )
        text = env_file_text(request)
        request.private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, path = tempfile.mkstemp(
            prefix=f"job-{request.job_id}-", suffix=".env", dir=request.private_dir
        )
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
            handle.write(text)
        container = CONTAINER_NAME_FORMAT.format(job_id=request.job_id, token=secrets.token_hex(3))
        work_dir = str(request.work_dir)
        argv = [
            self.engine,
            "run",
            "--rm",
            "--name",
            container,
            "--label",
            f"{INSTALLATION_LABEL}={request.private_dir.parent}",
            "--env-file",
            path,
            "--volume",
            f"{work_dir}:{work_dir}",
            "--workdir",
            work_dir,
            image,
            *request.argv,
        ]
        env = engine_environment(request.worker_environ)

        def cleanup() -> None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

        return Launch(
            argv=argv,
            env=env,
            cwd=work_dir,
            cleanup=cleanup,
            stop=functools.partial(self._remove, env, container),
            as_job_user=False,
        )

    def leftovers(self, worker_environ: Mapping[str, str], tmp_dir: Path) -> list[Leftover]:
        """The containers of this installation's jobs the engine still has (running or not)."""
        if shutil.which(self.engine) is None:
            return []
        env = engine_environment(worker_environ)
        listed = self._ask(env, "ps", "--all", "--filter", "name=multiflexi-job-")
        found = []
        for name in listed.split():
            match = CONTAINER_NAME.fullmatch(name)
            # the label is read by inspect: older engines OR a label filter with a name filter
            if match and self._ask(env, "inspect", name, label=True).strip() == str(tmp_dir):
                found.append(
                    Leftover(
                        int(match[1]),
                        f"{self.engine} container {name}",
                        functools.partial(self._remove, env, name),
                    )
                )
        return found

    def _ask(self, env: dict[str, str], *args: str, label: bool = False) -> str:
        """What the engine's ``ps``/``inspect`` prints: names, or this installation's label."""
        template = f'{{{{index .Config.Labels "{INSTALLATION_LABEL}"}}}}' if label else "{{.Names}}"
        answer = subprocess.run(
            [self.engine, *args, "--format", template],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RM_TIMEOUT,
            check=False,
        )
        return answer.stdout if answer.returncode == 0 else ""

    def _remove(self, env: dict[str, str], container: str) -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [self.engine, "rm", "-f", container],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=RM_TIMEOUT,
                check=False,
            )


def engine_environment(worker_environ: Mapping[str, str]) -> dict[str, str]:
    """What the engine's command line tool gets: the allow-listed variables and its own."""
    env = system_environment(worker_environ)
    env.update({k: worker_environ[k] for k in ENGINE_VARIABLES if k in worker_environ})
    return env


class DockerBackend(ContainerBackend):
    name = "docker"
    engine = "docker"


class PodmanBackend(ContainerBackend):
    name = "podman"
    engine = "podman"
