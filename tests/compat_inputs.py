"""Inputs of the --compat golden cases (shared by the tests and tests/oracle/derive_compat.py).

They hold the values where the libraries part ways: exact 0 and 1 probabilities
(torch's −100 clamp), 1e-9 and 1 − 1e-9 (Keras's 1e-7 clip), logits of ±1e4 and
±40, probability rows summing to 0.99, and weights.
"""

INPUTS = {
    "yb": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
    "pb": [0.2, 0.9, 1e-9, 1.0 - 1e-9, 0.0, 0.0, 0.6],
    "xb": [-3.0, 2.0, -40.0, 1e4, 1e4, -1e4, 0.5],
    "wb": [1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.25],
    "yr": [1.0, -2.0, 3.5, 0.0, 10.0],
    "pr": [1.5, -1.0, 3.4, 2.5, -4.0],
    "wr": [1.0, 0.5, 2.0, 1.0, 4.0],
    "yc": [0.0, 1.0, 3.0, 7.0],
    "pc": [0.5, 1.2, 0.0, 6.5],
    "ym": [0.0, 2.0, 1.0, 2.0],
    "pm": [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [1e-12, 1.0 - 2e-12, 1e-12], [0.2, 0.2, 0.6]],
    "pm99": [[0.7, 0.2, 0.09], [0.1, 0.3, 0.59], [1e-9, 0.99, 0.0], [0.2, 0.19, 0.6]],
    "xm": [[2.0, -1.0, 0.5], [-30.0, 0.0, 30.0], [0.0, 50.0, -50.0], [1.0, 1.0, 1.0]],
    # raw scores without ties: at a tie jax splits the max's subgradient, losscli picks one
    "xh": [[2.0, -1.0, 0.5], [-30.0, 0.0, 30.0], [0.0, 50.0, -50.0], [0.3, 1.0, -0.2]],
    "yp": [0.5, 2.0, 3.5, 1e-9, 10.0],  # positive targets (deviances, log errors, percentages)
    "pp": [0.7, 1.5, 3.0, 2.0, 12.0],
    "yn": [0.0, -0.5, 3.0, -2.0, 1.0],  # targets beyond Keras's clip at 1e-7
    "pn": [0.5, -0.9, 2.0, 1e-9, -3.0],
    "vt": [[1.0, 0.0, 2.0], [0.5, 0.5, 0.0], [-1.0, 2.0, 1.0]],  # vectors (cosine)
    "vp": [[0.9, 0.1, 1.8], [0.0, 1.0, 0.3], [1.0, -2.0, 0.5]],
}
