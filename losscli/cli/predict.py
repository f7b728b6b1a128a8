"""`losscli predict`: apply a saved model."""

from __future__ import annotations

import sys

import click

from losscli.cli.app import cli
from losscli.cli.engine_options import EngineOptions, engine_options
from losscli.cli.options import InputSource, input_options
from losscli.cli.output import output_options


@cli.command()
@input_options
@click.option(
    "--model",
    "-m",
    "model_path",
    required=True,
    metavar="FILE",
    help="Model JSON written by train --save.",
)
@click.option(
    "--logits",
    is_flag=True,
    help="Write raw scores (logits, log-rates), named y_score or logit_<class>.",
)
@output_options
@engine_options
def predict(data_in: InputSource, model_path: str, logits: bool, where: EngineOptions) -> None:
    """Apply a saved model; write CSV predictions to stdout.

    Output: y_pred (regression, or the probability of the second class), or one
    p_<class> column per class; with --logits, y_score or one logit_<class>
    column per class. The target column, when present, is passed through as
    y_true, so the output pipes straight into compute.

    \b
    Examples:
      losscli predict -m model.json test.csv > preds.csv
      losscli predict -m iris.json sample_data/iris.csv | losscli compute --loss ce
    """
    from losscli import predict as predicting
    from losscli.engine.predict_parts import predict_any
    from losscli.io.atomic import staged_stream

    reading = data_in.reading()
    model = predicting.load_model(model_path)
    # > FILE: staged, nothing half-written; a pipe: streamed, the error says what was written
    with staged_stream(sys.stdout) as (out, staged):
        predict_any(
            model,
            data_in.source,
            out,
            logits=logits,
            options=reading,
            engine=where.engine,
            scheduler=where.scheduler,
            streamed=not staged,
            partition_size=where.partition_size,
        )
