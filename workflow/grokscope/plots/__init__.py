"""Pure figure builders: tables and arrays in, ``plotly`` figures out, one module per figure job.

Nothing here reads files or checkpoints; :mod:`grokscope.figures` reads the analysis tables,
calls these builders and renders the figures. Every builder takes the figure ``style``
(``params/figures.yaml``) and uses the shared primitives of :mod:`grokscope.plots.common`, so
colour scales, palettes and sizes are applied the same way everywhere.
"""
