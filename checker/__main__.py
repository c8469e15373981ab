"""``python -m checker`` and the ``kspec`` command: the CLI, loaded so that a Ctrl-C while it loads ends it as one during a run does.

Loading the CLI imports the spec, Hypothesis, networkx and Z3, which takes
most of a second; a Ctrl-C then would otherwise end kspec with a Python
traceback instead of ``kspec: aborted`` and exit code 130.
"""

import sys


def run() -> None:
    """Console-script entry point."""
    try:
        from checker.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("kspec: aborted\n")
        sys.exit(130)
    sys.exit(main())


if __name__ == "__main__":
    run()
