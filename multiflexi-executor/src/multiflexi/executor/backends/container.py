"""Container back-ends: ``docker run`` and ``podman run`` of the application's OCI image.

The command is ``<engine> run --rm --name multiflexi-job-<id>-<token> --env-file
<file> --volume <work dir>:<work dir> --workdir <work dir> <image> <argv>``. The
job's environment travels in an env file (mode 0600, plain ``KEY=value`` lines,
never quoted, outside the mounted work directory) that is deleted when the job
ends; nothing secret is on the command line. The engine's exit code is the
container's. A stopped job also gets ``<engine> rm -f`` of its container.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import tempfile

from multiflexi.core.environment import system_environment
from multiflexi.executor.backends import BackendError, Launch, LaunchRequest

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
        container = f"multiflexi-job-{request.job_id}-{secrets.token_hex(3)}"
        work_dir = str(request.work_dir)
        argv = [
            self.engine,
            "run",
            "--rm",
            "--name",
            container,
            "--env-file",
            path,
            "--volume",
            f"{work_dir}:{work_dir}",
            "--workdir",
            work_dir,
            image,
            *request.argv,
        ]
        env = system_environment(request.worker_environ)
        env.update(
            {k: request.worker_environ[k] for k in ENGINE_VARIABLES if k in request.worker_environ}
        )

        def cleanup() -> None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

        def stop() -> None:
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

        return Launch(argv=argv, env=env, cwd=work_dir, cleanup=cleanup, stop=stop)


class DockerBackend(ContainerBackend):
    name = "docker"
    engine = "docker"


class PodmanBackend(ContainerBackend):
    name = "podman"
    engine = "podman"
