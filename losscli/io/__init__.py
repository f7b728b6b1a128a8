"""Input and output of files: the one input sequence, and atomic output.

source (path, stdin, decompression, spooling) → formats (detection, one
reader per format, the header) → columns (the one resolver) → blocks
(typed, checked float64 arrays) / design (the training matrix); labels is
the one label normaliser.  Nothing here knows about losses or click.
"""

# The input formats --input-format accepts (one reader each in io/formats.py).
INPUT_FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl")
