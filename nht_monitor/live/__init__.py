"""Inside the training loop: the optimizer hook, the norm sampler and the sample recorder.

:func:`~nht_monitor.live.monitor.watch` hooks ``optimizer.step()``; each step the
:class:`~nht_monitor.live.clock.TauClock` advances τ and the
:class:`~nht_monitor.live.sampler.NormSampler` launches one batched norm computation;
the :class:`~nht_monitor.live.recorder.RunRecorder` turns finished norms into run-log
samples, feeds the live analyzer and writes the log. Imports torch (except
``recorder``, ``settings`` and ``errors``); nothing here is imported by the offline CLI.
"""
