"""``predict`` over many files and on Dask: each partition predicted, written in order.

Every partition (a file; on Dask also a CSV byte range or a run of Parquet
row groups, :mod:`losscli.engine.partplan`) goes through the one
``write_predictions`` (on a worker with ``--engine dask``); its CSV comes
back as text and is written in partition order — file order, then row
order — the header once: the local engine's bytes.  The client holds one
partition's predictions at a time; the workers run a few ahead.
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Any

from losscli.engine.parts import Part, expand_inputs, is_many, on_part, partitions
from losscli.errors import InputError, NoRows

if TYPE_CHECKING:
    from losscli.fit.model import Model
    from losscli.io.formats import InputOptions


def _predict_part(model: Model, part: Part, logits: bool, options: Any, many: bool) -> str:
    from losscli.predict import write_predictions

    def read(located: Part) -> str:
        buffer = io.StringIO()
        write_predictions(model, located, buffer, logits=logits, input=options, streamed=False)
        return buffer.getvalue()

    try:
        return on_part(part, many, read)
    except NoRows:
        if part.count == 1:
            raise
        return ""  # a partition of only blank lines (its file has rows elsewhere)


def _write_in_order(texts: Any, parts: list[Part], out: IO[str], streamed: bool) -> None:
    """The partitions' CSVs in order, the header once; ``streamed``: a failure after some
    rows reached ``out`` says which (as :func:`losscli.predict.write_predictions` does)."""
    from losscli.errors import LossCliError
    from losscli.predict import incomplete

    header, written = None, 0
    try:
        for part, text in zip(parts, texts, strict=True):
            if not text:
                continue
            first, _, body = text.partition("\n")
            if header is None:
                header = first
                out.write(first + "\n")
            elif first != header:
                raise InputError(
                    f"{part.path} gives the columns {first}, but {parts[0].path} gives {header}",
                    "predict files with the same columns (the target present in all or none)",
                )
            out.write(body)
            written += body.count("\n")
    except LossCliError as exc:
        if not streamed or not written:
            raise
        raise incomplete(exc, written) from None


def predict_any(
    model: Model,
    source: Any,
    out: IO[str],
    *,
    logits: bool,
    options: InputOptions,
    engine: str,
    scheduler: str | None,
    streamed: bool = True,
    partition_size: int | None = None,
) -> None:
    """predict with ``--engine``: one file as ever; globs and folders file by file; Dask
    by partitions of about ``partition_size`` bytes (None = the default, 0 = per file).

    ``streamed``: ``out`` is read as it is written (a pipe), not staged (see
    :func:`losscli.predict.write_predictions`).
    """
    from losscli.predict import write_predictions

    if engine == "local" and not (isinstance(source, str) and is_many(source)):
        write_predictions(model, source, out, logits=logits, input=options, streamed=streamed)
        return
    files = expand_inputs(source)
    many = len(files) > 1
    if engine == "local":
        parts = partitions(files)
        local = (_predict_part(model, p, logits, options, many) for p in parts)
        _write_in_order(local, parts, out, streamed)
        return
    from losscli.engine.dask import DaskRunner, dask_client
    from losscli.engine.parts import DEFAULT_PARTITION_BYTES

    size = DEFAULT_PARTITION_BYTES if partition_size is None else partition_size
    parts = partitions(files, options, size)
    with dask_client(scheduler) as client:
        k = len(parts)
        texts = DaskRunner(client).stream(
            _predict_part, [model] * k, parts, [logits] * k, [options] * k, [many] * k
        )
        _write_in_order(texts, parts, out, streamed)
