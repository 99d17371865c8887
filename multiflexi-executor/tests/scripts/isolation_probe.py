"""A job that tries to read and change what protects everyone else; one line per attempt.

Arguments: the meeting directory, the settings file, the database file, the master
key file, the data directory. Prints ``DENIED <what>: <error>`` or ``ALLOWED <what>``
for each attempt, then ``own work directory: writable`` when it can write its own.
"""

import json
import os
import sys
import time
from pathlib import Path

meeting, env_file, database, key_file, data_dir = (Path(a) for a in sys.argv[1:6])
deadline = time.monotonic() + 60
while not (meeting / "holder.json").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
holder = json.loads((meeting / "holder.json").read_text())
worker = os.getppid()
tmp_root = Path.cwd().parent
print(f"uid={os.getuid()} gid={os.getgid()} groups={sorted(os.getgroups())}")


def attempt(what, action):
    try:
        action()
    except OSError as exc:
        print(f"DENIED {what}: {exc.strerror}")
    else:
        print(f"ALLOWED {what}")


def read(path):
    return lambda: Path(path).read_bytes()


def append(path):
    def action():
        with open(path, "ab") as handle:
            handle.write(b"# changed by a job\n")

    return action


attempt("read settings file", read(env_file))
attempt("change settings file", append(env_file))
attempt("read database", read(database))
attempt("change database", append(database))
attempt("read master key", read(key_file))
attempt("list data directory", lambda: os.listdir(data_dir))
attempt("read worker environ", read(f"/proc/{worker}/environ"))
attempt("read worker memory map", read(f"/proc/{worker}/maps"))
attempt("signal worker", lambda: os.kill(worker, 0))
attempt("list work directories", lambda: os.listdir(tmp_root))
attempt("create in MULTIFLEXI_TMP", lambda: (tmp_root / "dropped.txt").write_text("x"))
attempt("list other job's directory", lambda: os.listdir(holder["work_dir"]))
attempt("read other job's file", read(Path(holder["work_dir"]) / "mine.txt"))
attempt("create in other job's directory", lambda: (Path(holder["work_dir"]) / "x").write_text("x"))
attempt("read other job's environ", read(f"/proc/{holder['pid']}/environ"))
attempt("find other job's directory", lambda: os.readlink(f"/proc/{holder['pid']}/cwd"))
Path("own.txt").write_text("mine")
print("own work directory: writable")
(meeting / "probe.done").write_text("done")
