"""When a stream of samples is next assessed: the one pacing policy of the live engines.

The rule engine is cheap but not free, so neither the monitor's
:class:`~nht_monitor.live.recorder.RunRecorder` nor the sidecar's
:class:`~nht_monitor.exporter.sidecar.RunLogDirectory` assesses every sample. Both ask a
:class:`Pacing`, configured differently:

* the recorder (``watch(assess_every=N, assess_interval=T)``): every N-th sample, but
  not again within T seconds of the last assessment — ``Pacing(N, min_interval=T)``;
* the sidecar (``RunLogDirectory(assess_every=N, assess_interval=T)``): after N new
  samples, or once T seconds have passed since the last assessment with new samples
  waiting — ``Pacing(N, max_wait=T)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Pacing:
    """Counts new samples and says when an assessment is due.

    ``every``: a *check* every that many new samples; at a check the assessment is due
    unless one ran less than ``min_interval`` seconds ago (the check is then skipped: the
    next one comes ``every`` samples later). ``max_wait`` (``None``: off): samples counted
    since the last check are also due once that many seconds have passed since the last
    assessment. The caller asks with :meth:`tick` after each sample (or batch, or with
    ``n=0`` when nothing new came) and reports with :meth:`assessed` every assessment it
    ran, including ones :meth:`tick` did not ask for (they restart the ``min_interval``
    and ``max_wait`` clocks, not the count). ``clock``: seconds, default
    :func:`time.monotonic` (looked up at each call).
    """

    def __init__(self, every: int = 10, *, min_interval: float = 0.0,
                 max_wait: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if every < 1:
            raise ValueError(f"assess_every must be >= 1, got {every}")
        self.every = every
        self.min_interval = float(min_interval)
        self.max_wait = None if max_wait is None else float(max_wait)
        self._clock = clock
        self.pending = 0
        """Samples counted since the last check."""
        self.last: float = -math.inf
        """Clock time of the last assessment (``-inf``: none yet)."""

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def tick(self, n: int = 1) -> bool:
        """Count ``n`` new samples; ``True`` when an assessment is due now (the counted
        samples are then used up, as they are by a skipped check)."""
        self.pending += n
        if self.pending >= self.every:
            self.pending = 0
            return self._now() - self.last >= self.min_interval
        if self.max_wait is not None and self.pending > 0:
            waited = self._now() - self.last
            if waited < self.max_wait or waited < self.min_interval:
                return False
            self.pending = 0
            return True
        return False

    def assessed(self) -> None:
        """An assessment ran now."""
        self.last = self._now()
