"""A small text progress bar for the command line (stderr, no dependencies)."""

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Progress bar drawn on a stream, redrawn in place on a terminal.

    Parameters
    ----------
    total : int
        Number of steps expected.
    label : str
        Text before the bar.
    stream : file-like, optional
        Defaults to ``sys.stderr``. On a non-terminal stream one line is
        written per update instead of redrawing.
    width : int
        Width of the bar in characters.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> bar = ProgressBar(4, label="learn", stream=buf, width=8)
    >>> bar.update(2, "U=1.0")
    >>> "2/4" in buf.getvalue()
    True
    """

    def __init__(self, total, *, label="", stream=None, width=30):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = int(width)
        self.count = 0
        self._start = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, count, text=""):
        """Set the progress to ``count`` steps and show ``text`` after the bar."""
        self.count = min(int(count), self.total)
        filled = int(round(self.width * self.count / self.total))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self._start
        line = f"{self.label} [{bar}] {self.count}/{self.total} {elapsed:6.1f}s {text}"
        if self._tty:
            self.stream.write("\r" + line[:200].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, text=""):
        """Finish the bar (a newline on terminals)."""
        if text:
            self.update(self.count, text)
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
