"""The one exception type the command line turns into a one-line message."""


class MlwfError(Exception):
    """A failure the user can act on: bad input, missing stack output, a failed job.

    The CLI prints its message on one line and exits non-zero, never a traceback.
    """
