"""The PNG plots of `mlwf monitor` and `mlwf threshold`, one module per job:

- `mlwf.plots.style`: what every figure shares: size, colours, threshold line, time axis,
  file names, saving.
- `mlwf.plots.bins`: the numbers behind the plots, with no drawing: time buckets and
  reliability bins (the console serves them too).
- `mlwf.plots.monitor`: the plots of captured traffic (`plot_all`).
- `mlwf.plots.sweep`: the threshold sweep of `mlwf threshold`.

Figures are built with matplotlib's object API (`matplotlib.figure.Figure`, rendered by Agg),
never pyplot, so no GUI backend or global state is involved. matplotlib and numpy are imported
inside the functions to keep `mlwf --help` fast.
"""
