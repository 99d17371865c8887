"""A test application that writes its stdout in the pieces it is told, flushing after each.

emit.py STEP...  with STEP one of

  text=T      T (no newline)
  nl          a newline
  secret=A:B  the characters A:B of $API_TOKEN (Python slice bounds, either may be empty)
  fill=N:C    the character C, N times
  repeat=N:T  the text T, N times (one write)
  pause=S     sleep S seconds (the reader sees what came before as a separate read)
"""

import os
import sys
import time

out = sys.stdout
for step in sys.argv[1:]:
    name, _, arg = step.partition("=")
    if name == "text":
        out.write(arg)
    elif name == "nl":
        out.write("\n")
    elif name == "secret":
        start, _, stop = arg.partition(":")
        out.write(
            os.environ["API_TOKEN"][int(start) if start else None : int(stop) if stop else None]
        )
    elif name in ("fill", "repeat"):
        count, _, text = arg.partition(":")
        out.write(text * int(count))
    elif name == "pause":
        time.sleep(float(arg))
    else:
        sys.exit(f"emit.py: unknown step {step!r}")
    out.flush()
