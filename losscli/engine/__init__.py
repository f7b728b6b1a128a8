"""Where the work runs: memory budgets, the on-disk training cache, and Dask.

``memory``   ``--memory-limit`` and the estimate that decides when to spill.
``cache``    the cache folder: created, removed afterwards and on SIGTERM.
``outofcore`` the first pass of ``train`` that streams the input into the cache.
``dask``     the Dask engine (``--engine dask``), an optional extra.
"""
