"""A test application: prints what it sees, then exits with the code it is told.

probe.py [--exit N] [--sleep S] [--lines N] [--stderr] [--secret] [--result TEXT] [--file NAME]
         [--append PATH] [--started PATH] [--wait PATH] [--facts]

--secret-file NAME writes N (--file-lines, default 3) lines with API_TOKEN into NAME.
--facts prints, as one JSON line, its work directory's mode and owner, its group and umask.

After printing: --append adds a line "ran <pid>" to PATH, --started creates PATH,
--wait waits until PATH exists (at most 60 s, else exit 3), then --sleep and --exit.
"""

import os
import sys
import time

args = sys.argv[1:]


def value(flag, default=None):
    return args[args.index(flag) + 1] if flag in args else default


print("cwd=" + os.getcwd())
print("env=" + ",".join(sorted(os.environ)))
print("tmp=" + os.environ.get("MULTIFLEXI_TMP", ""))
print("greeting=" + os.environ.get("GREETING", ""))
if "--facts" in args:
    import json
    import stat

    info = os.stat(".")
    mask = os.umask(0)
    os.umask(mask)
    facts = {"cwd_mode": f"{stat.S_IMODE(info.st_mode):04o}", "cwd_uid": info.st_uid}
    facts |= {"cwd_gid": info.st_gid, "gid": os.getgid(), "umask": f"{mask:04o}"}
    print(json.dumps(facts))
if "--secret" in args:
    print("token is " + os.environ.get("API_TOKEN", "") + " ok", flush=True)
if "--stderr" in args:
    print("to stderr", file=sys.stderr, flush=True)
for i in range(int(value("--lines", "0"))):
    print(f"line {i}")
if value("--result"):
    with open(os.environ["RESULT_FILE"], "w") as handle:
        handle.write(value("--result"))
if value("--secret-file"):
    with open(value("--secret-file"), "w") as handle:
        for i in range(int(value("--file-lines", "3"))):
            handle.write(f"line {i}: token={os.environ.get('API_TOKEN', '')};\n")
if value("--file"):
    with open(value("--file"), "w") as handle:
        handle.write("artifact")
sys.stdout.flush()
if value("--append"):
    with open(value("--append"), "a") as handle:
        handle.write(f"ran {os.getpid()}\n")
if value("--started"):
    open(value("--started"), "w").close()
if value("--wait"):
    deadline = time.monotonic() + 60
    while not os.path.exists(value("--wait")):
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.02)
time.sleep(float(value("--sleep", "0")))
sys.exit(int(value("--exit", "0")))
