"""A progress bar for long commands, useful on a terminal and in a log file alike.

On a terminal it redraws one line in place. When the stream is not a terminal (a cron job,
``2> import.log``, a CI run) it prints a full line every ``every`` seconds instead, so a
log shows how far a two-million-row import got and how long it has left:

    Ghi / Writing: values.csv: 45% · 1.080.000 dòng/rows · 1:12 · còn/ETA 1:28

Quiet for short steps: nothing is printed before ``quiet_for`` seconds, and at the end only
if the step handled at least ``min_rows`` rows or something was printed already.

    with ProgressBar("Ghi / Writing: values.csv", total=size) as bar:
        for ...:
            bar.update(position, rows)
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from ..formatting import number

ROWS_WORD = "dòng/rows"


def duration(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 every: float = 10.0, quiet_for: float = 1.0, min_rows: int = 0, width: int = 24,
                 clock: Callable[[], float] = time.monotonic, tty: bool | None = None):
        self.label, self.total = label, (total if total and total > 0 else None)
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.quiet_for, self.min_rows, self.width = every, quiet_for, min_rows, width
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.started = clock()
        self.position = 0
        self.rows = 0
        self.printed = False
        self.last_print = self.started
        self.closed = False

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    # --- updates ------------------------------------------------------------------------

    def update(self, position: int, rows: int | None = None) -> None:
        """Set the position (in the unit of ``total``) and the rows handled so far."""
        self.position = position
        self.rows = position if rows is None else rows
        now = self.clock()
        if now - self.started < self.quiet_for:
            return
        if self.tty:
            if now - self.last_print >= 0.2 or not self.printed:
                self._write("\r" + self.line(now) + "\x1b[K")
                self.last_print = now
        elif now - self.last_print >= self.every:
            self._write(self.line(now) + "\n")
            self.last_print = now

    def advance(self, n: int = 1, rows: int | None = None) -> None:
        self.update(self.position + n, self.rows + (n if rows is None else rows))

    def finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.total is not None:
            self.position = self.total
        if not (self.printed or self.rows >= self.min_rows):
            return
        now = self.clock()
        end = self.line(now, done=True)
        self._write(("\r" + end + "\x1b[K\n") if self.tty else end + "\n")

    # --- text ---------------------------------------------------------------------------

    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return min(max(self.position / self.total, 0.0), 1.0)

    def line(self, now: float | None = None, done: bool = False) -> str:
        now = self.clock() if now is None else now
        elapsed = now - self.started
        parts = []
        fraction = 1.0 if done else self.fraction()
        if fraction is not None:
            bar = ""
            if self.tty:
                filled = int(round(fraction * self.width))
                bar = "[" + "#" * filled + "-" * (self.width - filled) + "] "
            parts.append(f"{bar}{fraction * 100:.0f}%")
        parts.append(f"{number(self.rows, 0, 'vi')} {ROWS_WORD}")
        parts.append(duration(elapsed))
        if not done and fraction is not None and 0.01 < fraction < 0.999 and elapsed > 0:
            parts.append(f"còn/ETA {duration(elapsed * (1 - fraction) / fraction)}")
        elif done and elapsed > 0 and self.rows:
            parts.append(f"{number(self.rows / elapsed, 0, 'vi')} {ROWS_WORD}/s")
        return f"{self.label}: " + " · ".join(parts)

    def _write(self, text: str) -> None:
        self.printed = True
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the work
            pass


class Steps:
    """Numbered lines for a command made of a few long steps (no row counts to show), each printed
    as the step starts, with the time so far, and a last line with the total:

        [2/6] Ranh giới bản đồ / map boundaries · 0:04
        Xong / done · 0:31

    Call the object with a step's label; ``done()`` at the end. To stderr by default, so the
    command's own output (stdout) stays clean."""

    def __init__(self, total: int, *, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.total, self.stream, self.clock = total, stream if stream is not None else sys.stderr, clock
        self.started = clock()
        self.count = 0

    def __call__(self, label: str) -> None:
        self.count += 1
        self._write(f"[{self.count}/{self.total}] {label} · {duration(self.clock() - self.started)}")

    def done(self, label: str = "Xong / done") -> None:
        self._write(f"{label} · {duration(self.clock() - self.started)}")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the work
            pass
