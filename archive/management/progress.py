"""A one-line progress bar for long management commands."""

import time


class Progress:
    """A one-line progress bar with rates and the time left.

    ``stream`` is a command's ``OutputWrapper`` (``self.stderr``), so that
    ``call_command(..., stderr=...)`` captures the bar too. Call it with the
    work done so far, the total, and other counts to show as rates
    (``turns=12_000``).
    """

    def __init__(self, stream, unit: str, width: int = 30):
        self.stream, self.unit, self.width = stream, unit, width
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int, **counts: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        rates = "".join(
            f"  {_rate(n / elapsed)} {name}/s" for name, n in counts.items()
        )
        self.stream.write(
            f"\r[{bar}] {done:,}/{total:,} {self.unit}  {_rate(rate)}/s{rates}  "
            f"{int(left // 60)}:{int(left % 60):02d} left ",
            style_func=str,  # plain, not the error colour of stderr on a tty
            ending="",
        )
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("", style_func=str)


def _rate(per_second: float) -> str:
    return f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.1f}"
