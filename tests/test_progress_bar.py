"""The progress bar of long commands: lines a log can use when stderr is not a terminal."""
from __future__ import annotations

import io

from dashboard.cli.progress_bar import ProgressBar, duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_not_a_terminal_prints_a_line_every_interval_with_percent_rows_elapsed_and_eta():
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar("Ghi / Writing: values.csv", total=2_400_000, stream=out, every=10, clock=clock, tty=False)
    for second in range(1, 61):
        clock.now = float(second)
        bar.update(40_000 * second, 40_000 * second)   # 40,000 rows a second: 60 s in all
    bar.finish()
    lines = out.getvalue().splitlines()
    # One line per 10 s (at 10, 20, … 60 s) and the closing one; no carriage returns in a log.
    assert len(lines) == 7 and "\r" not in out.getvalue()
    assert lines[0] == "Ghi / Writing: values.csv: 17% · 400.000 dòng/rows · 0:10 · còn/ETA 0:50"
    assert lines[2] == "Ghi / Writing: values.csv: 50% · 1.200.000 dòng/rows · 0:30 · còn/ETA 0:30"
    assert lines[-1] == "Ghi / Writing: values.csv: 100% · 2.400.000 dòng/rows · 1:00 · 40.000 dòng/rows/s"


def test_short_steps_stay_quiet_unless_they_handled_enough_rows():
    out, clock = io.StringIO(), Clock()
    with ProgressBar("Kiểm tra / Checking: small.csv", total=100, stream=out, clock=clock, tty=False,
                     min_rows=2000) as bar:
        bar.update(100, 1500)
    assert out.getvalue() == ""
    with ProgressBar("Kiểm tra / Checking: long.csv", total=100, stream=out, clock=clock, tty=False,
                     min_rows=2000) as bar:
        bar.update(100, 2400)
    assert out.getvalue().startswith("Kiểm tra / Checking: long.csv: 100% · 2.400 dòng/rows")


def test_a_terminal_redraws_one_line_in_place():
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar("Đọc / Reading", total=10, stream=out, clock=clock, tty=True, width=10, quiet_for=0)
    clock.now = 1.0
    bar.update(5, 500)
    clock.now = 2.0
    bar.update(10, 1000)
    bar.finish()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "\rĐọc / Reading: [#####-----] 50% · 500 dòng/rows · 0:01 · còn/ETA 0:01" in text
    assert "[##########] 100% · 1.000 dòng/rows · 0:02" in text


def test_unknown_total_shows_rows_and_time_only_and_a_closed_stream_is_harmless():
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar("Đọc / Reading: book.xlsx", total=None, stream=out, every=5, clock=clock, tty=False)
    clock.now = 5.0
    bar.update(12_000, 12_000)
    assert out.getvalue() == "Đọc / Reading: book.xlsx: 12.000 dòng/rows · 0:05\n"
    out.close()
    clock.now = 11.0
    bar.update(30_000, 30_000)  # writing to a closed stream must not stop the work
    bar.finish()


def test_durations():
    assert [duration(s) for s in (0, 7.4, 754, 3723)] == ["0:00", "0:07", "12:34", "1:02:03"]


def test_steps_print_a_numbered_line_as_each_step_starts():
    import io

    from dashboard.cli.progress_bar import Steps

    now = [100.0]
    out = io.StringIO()
    steps = Steps(3, stream=out, clock=lambda: now[0])
    steps("Đọc tệp / reading")
    now[0] += 7
    steps("Ghi / writing")
    now[0] += 65
    steps.done()
    assert out.getvalue().splitlines() == ["[1/3] Đọc tệp / reading · 0:00", "[2/3] Ghi / writing · 0:07",
                                           "Xong / done · 1:12"]
