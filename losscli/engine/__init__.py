"""Where the work runs: memory budgets, the on-disk training cache, many files, Dask.

``memory``        ``--memory-limit`` sizes, the budget, the estimate that decides when to spill.
``cache``         the cache folder: created on demand, removed afterwards and on SIGTERM.
``outofcore``     the row sink that spills the design matrix, and what train does with a cache.
``parts``         a glob or folder as partitions (files), read by the one input layer.
``compute_parts`` compute over many files or on Dask: per-file totals merged exactly.
``predict_parts`` predict over many files or on Dask, written in file order.
``dask``          the cluster, the gather with its fault handling, ``DaskSource``.
``dask_train``    train's partitions read and kept on the workers.
"""
