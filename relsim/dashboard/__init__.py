"""The teaching dashboard (``relsim demo``): the model live in the browser, for a lecture.

Built on Mesa's SolaraViz; it needs the ``viz`` extra (``pip install 'relsim[viz]'``). The
model never imports this package: data flows one way, from the model's recorded history to the
views.

- :mod:`~relsim.dashboard.assumptions`: the eight assumptions on the controls, as scenario
  overrides.
- :mod:`~relsim.dashboard.demo`: ``DemoModel``, one run or two twins stepped in lockstep.
- :mod:`~relsim.dashboard.charts`: the views' Vega-Lite charts, from recorded history.
- :mod:`~relsim.dashboard.views`, :mod:`~relsim.dashboard.controls`,
  :mod:`~relsim.dashboard.app`: the Solara page.
- :mod:`~relsim.dashboard.server`: serving it (``relsim demo``).
"""
