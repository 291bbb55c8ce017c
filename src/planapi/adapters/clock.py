from __future__ import annotations

import datetime as dt


class SystemClock:
    """The server's clock: what `recorded_at` is taken from, never the client's."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)
