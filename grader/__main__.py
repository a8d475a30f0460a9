import atexit
import os
import sys

from grader.isolation import forkserver

# Before grader.cli imports torch: the fork server's imports then overlap this process's.
forkserver.start_early(sys.argv[1:])

from grader.cli import main  # noqa: E402

if __name__ == "__main__":
    code = main()
    # Everything is written and closed by now. The interpreter's own teardown (freeing
    # torch's modules) takes over a second that a student at a checkoff would wait for:
    # run the exit handlers, flush, and leave without it.
    forkserver.stop()  # before the exit handlers remove its socket's folder
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
