"""The native back-end: the application's executable on this machine."""

from __future__ import annotations

from multiflexi.executor.backends import Launch, LaunchRequest


class NativeBackend:
    """Runs the argument list directly, in the job's work directory, with its environment only."""

    name = "native"

    def prepare(self, request: LaunchRequest) -> Launch:
        return Launch(
            argv=list(request.argv),
            env=request.environment.as_dict(),
            cwd=str(request.work_dir),
        )
