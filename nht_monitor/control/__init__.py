"""Acting on the norm: :class:`~nht_monitor.control.clamp.NormClamp` pins it after every step."""
