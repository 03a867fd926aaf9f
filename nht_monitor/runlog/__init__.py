"""The run log: the one file a watched run writes and every later stage reads.

``schema`` defines the lines (a header, then one sample per sampled step), ``writer``
appends them, ``reader`` reads a finished log (:func:`read_run`) or follows a growing
one (:class:`RunLogTail`). No torch import.
"""

from nht_monitor.runlog.reader import RunLog, RunLogTail, parse_header, parse_sample, read_run
from nht_monitor.runlog.schema import RunHeader, RunLogError, Sample
from nht_monitor.runlog.writer import RunLogWriter, dumps_line

__all__ = [
    "RunHeader", "RunLog", "RunLogError", "RunLogTail", "RunLogWriter", "Sample",
    "dumps_line", "parse_header", "parse_sample", "read_run",
]
