import sys

from grader import forkserver

# Before grader.cli imports torch: the fork server's imports then overlap this process's.
forkserver.start_early(sys.argv[1:])

from grader.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
