"""A job that keeps something private in its work directory while another job probes it.

Writes ``mine.txt`` (its secret API_TOKEN) into its work directory, tells where it is
in ``<meeting>/holder.json`` and waits (at most a minute) for ``<meeting>/probe.done``.
"""

import json
import os
import sys
import time
from pathlib import Path

meeting = Path(sys.argv[1])
work_dir = Path.cwd()
(work_dir / "mine.txt").write_text(os.environ.get("API_TOKEN", "") + "\n")
facts = {"pid": os.getpid(), "work_dir": str(work_dir), "gid": os.getgid()}
(meeting / "holder.tmp").write_text(json.dumps(facts))
os.rename(meeting / "holder.tmp", meeting / "holder.json")
print(f"uid={os.getuid()} gid={os.getgid()} groups={sorted(os.getgroups())}")
deadline = time.monotonic() + 60
while not (meeting / "probe.done").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
print("own file still there:", (work_dir / "mine.txt").exists())
