"""Print N megabytes as lines of WIDTH characters (the last column numbers the line)."""

import sys

megabytes, width = int(sys.argv[1]), int(sys.argv[2])
count = megabytes * 1024 * 1024 // width
body = "x" * (width - 11)
out = sys.stdout
for i in range(count):
    out.write(f"{body}{i:010d}\n")
out.flush()
