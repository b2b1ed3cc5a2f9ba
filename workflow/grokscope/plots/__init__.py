"""Pure figure builders: tables and arrays in, ``plotly`` figures out, one module per figure job.

Nothing here reads files or checkpoints: each figure step (``grokscope.steps.figure_<job>``)
reads the analysis tables and calls these builders in its ``figures`` function, and
:mod:`grokscope.plots.render` writes them. Every builder takes the figure ``style``
(``params/figures.yaml``) and uses the shared primitives of :mod:`grokscope.plots.common`, so
colour scales, palettes and sizes are applied the same way everywhere.
"""
