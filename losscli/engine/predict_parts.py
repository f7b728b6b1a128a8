"""``predict`` over many files and on Dask: each file predicted whole, written in order.

Every file goes through the one ``write_predictions`` (on a worker with
``--engine dask``); its CSV comes back as text and is written in file order,
the header once.  The client holds one file's predictions at a time; the
workers run ahead on the others.
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Any

from losscli.engine.parts import Part, expand_inputs, is_many, named
from losscli.errors import InputError

if TYPE_CHECKING:
    from losscli.fit.model import Model
    from losscli.io.formats import InputOptions


def _predict_file(model: Model, path: str, logits: bool, options: Any, many: bool) -> str:
    from losscli.predict import write_predictions

    buffer = io.StringIO()
    with named(Part(path), many):
        write_predictions(model, path, buffer, logits=logits, input=options)
    return buffer.getvalue()


def _write_in_order(texts: Any, files: list[str], out: IO[str]) -> None:
    header = None
    for path, text in zip(files, texts, strict=True):
        first, _, body = text.partition("\n")
        if header is None:
            header = first
            out.write(first + "\n")
        elif first != header:
            raise InputError(
                f"{path} gives the columns {first}, but {files[0]} gives {header}",
                "predict files with the same columns (the target present in all or none)",
            )
        out.write(body)


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
) -> None:
    """predict with ``--engine``: one file as ever; globs, folders and Dask file by file.

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
        texts = (_predict_file(model, f, logits, options, many) for f in files)
        _write_in_order(texts, files, out)
        return
    from losscli.engine.dask import dask_client, gather

    with dask_client(scheduler) as client:
        k = len(files)
        futures = client.map(
            _predict_file, [model] * k, files, [logits] * k, [options] * k, [many] * k, pure=False
        )
        _write_in_order((gather(client, [f])[0] for f in futures), files, out)
