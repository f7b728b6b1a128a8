"""Generate every file in ``sample_data/`` (CSV files and README.md).

Usage (from anywhere; files are written next to this script)::

    python sample_data/make_samples.py

This script is not part of the ``losscli`` package or its tests, so it may use
scikit-learn (which ships the UCI diabetes, breast-cancer and iris data inside
the package, no network access needed). Everything is seeded and deterministic.

CSV conventions: UTF-8, LF line ends, a header row, no index column. Integer
columns (and float columns whose values are all whole numbers) are written as
integers; other floats as ``repr(float)`` (shortest string that round-trips).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parent
SEED = 0
SCRIPT = "make_samples.py"

PROB_DECIMALS = 6
PROB_UNIT = 10**PROB_DECIMALS  # probabilities are stored as multiples of 1e-6
PROB_MIN = 1.0 / PROB_UNIT  # smallest probability written (keeps log p finite)

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


# --------------------------------------------------------------------------- writing


def _column_formatter(col: pd.Series) -> Callable[[object], str]:
    """Return a function that formats one cell of ``col`` for the CSV."""
    if pd.api.types.is_bool_dtype(col):
        return lambda v: str(int(v))
    if pd.api.types.is_integer_dtype(col):
        return lambda v: str(int(v))
    if pd.api.types.is_float_dtype(col):
        values = col.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"column {col.name!r} has non-finite values")
        if np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
            return lambda v: str(int(v))
        return lambda v: repr(float(v))
    return str


def write_csv(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Write ``df`` to ``OUT/name`` and check that it reads back identically."""
    if df.isna().any().any():
        raise ValueError(f"{name}: NaN in {list(df.columns[df.isna().any()])}")
    formatters = [_column_formatter(df[c]) for c in df.columns]
    path = OUT / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(df.columns)
        for row in df.itertuples(index=False, name=None):
            writer.writerow([f(v) for f, v in zip(formatters, row, strict=True)])
    back = pd.read_csv(path)
    if list(back.columns) != list(df.columns) or len(back) != len(df):
        raise AssertionError(f"{name}: shape/header changed on re-read")
    for c in df.columns:
        if pd.api.types.is_numeric_dtype(df[c]):
            ok = np.array_equal(back[c].to_numpy(np.float64), df[c].to_numpy(np.float64))
        else:
            ok = list(back[c]) == list(df[c])
        if not ok:
            raise AssertionError(f"{name}: column {c!r} does not round-trip")
    return df


# --------------------------------------------------------------------------- helpers


def round_probs(p: np.ndarray, decimals: int = PROB_DECIMALS) -> np.ndarray:
    """Round probability rows to ``decimals`` places so that each row sums to 1.

    Work in integer multiples of 10**-decimals: round, floor every entry at one
    unit (so no probability is exactly 0), then give the remainder to the largest
    entry of the row. The resulting floats sum to 1 within 1e-12 in float64.
    """
    unit = 10**decimals
    q = np.rint(p * unit).astype(np.int64)
    q = np.maximum(q, 1)
    top = np.argmax(q, axis=1)
    rows = np.arange(len(q))
    q[rows, top] += unit - q.sum(axis=1)
    if np.any(q <= 0) or np.any(q >= unit):
        raise AssertionError("probability rounding produced a value outside (0, 1)")
    out = np.round(q / unit, decimals)
    # Check exactly what a reader will see: sum of the parsed values, in file order.
    for r in out:
        s = 0.0
        for v in r:
            s += float(repr(float(v)))
        if abs(s - 1.0) > 1e-12 or not math.isclose(math.fsum(r), 1.0, abs_tol=1e-12):
            raise AssertionError(f"row does not sum to 1: {r!r} -> {s!r}")
    return out


def round_binary_prob(p: np.ndarray, decimals: int = PROB_DECIMALS) -> np.ndarray:
    """Round P(y=1) to ``decimals`` places, kept strictly inside (0, 1)."""
    unit = 10**decimals
    q = np.clip(np.rint(p * unit).astype(np.int64), 1, unit - 1)
    return np.round(q / unit, decimals)


def snake(name: str) -> str:
    return "_".join(name.lower().split())


def breast_cancer_frame() -> pd.DataFrame:
    bc = load_breast_cancer()
    cols = [snake(n) for n in bc.feature_names]
    df = pd.DataFrame(bc.data, columns=cols)
    df["target"] = bc.target.astype(np.int64)  # 0 = malignant, 1 = benign
    return df


# --------------------------------------------------------------------------- files


def seed_files() -> dict[str, pd.DataFrame]:
    """The worked examples of shared/seed (see its ERRATA for the right values)."""
    reg = pd.DataFrame({"y_true": [1.0, 0.5, 2.0], "y_pred": [1.1, 0.6, 1.8]})
    ce = pd.DataFrame(
        [[0, 0.1, 0.2, 0.7], [1, 0.6, 0.3, 0.1], [2, 0.2, 0.4, 0.4]],
        columns=["y_true", "p_0", "p_1", "p_2"],
    ).astype({"y_true": np.int64})
    focal = pd.DataFrame({"y_true": [0, 1, 0], "y_pred": [0.1, 0.9, 0.2]})
    return {
        "seed_regression.csv": reg,
        "seed_cross_entropy.csv": ce,
        "seed_focal.csv": focal,
    }


def diabetes_files() -> dict[str, pd.DataFrame]:
    raw = load_diabetes(scaled=False)
    df = pd.DataFrame(raw.data, columns=DIABETES_FEATURES)
    df["y"] = raw.target
    # Regression predictions: ridge (on standardized features) fitted on half the
    # rows, predictions for the other, held-out half (original row order).
    X, y = df[DIABETES_FEATURES].to_numpy(), df["y"].to_numpy()
    idx_train, idx_test = train_test_split(np.arange(len(df)), test_size=0.5, random_state=SEED)
    idx_test = np.sort(idx_test)
    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    model.fit(X[idx_train], y[idx_train])
    pred = np.round(model.predict(X[idx_test]), 4)
    preds = pd.DataFrame({"y_true": y[idx_test], "y_pred": pred})
    # Weighted example: the first 20 held-out rows with seeded positive weights.
    rng = np.random.default_rng(SEED)
    weighted = preds.iloc[:20].reset_index(drop=True).copy()
    weighted["weight"] = np.round(rng.uniform(0.5, 3.0, size=len(weighted)), 2)
    return {
        "diabetes.csv": df,
        "regression_preds.csv": preds,
        "weighted_preds.csv": weighted,
    }


def breast_cancer_files() -> dict[str, pd.DataFrame]:
    df = breast_cancer_frame()
    features = [c for c in df.columns if c != "target"]

    # imbalanced.csv: all benign rows, a seeded subsample of malignant rows,
    # label 1 = malignant (the rare class), original row order.
    malignant = np.flatnonzero(df["target"].to_numpy() == 0)
    benign = np.flatnonzero(df["target"].to_numpy() == 1)
    n_pos = 36  # 36 / (357 + 36) = 9.2 % positives
    rng = np.random.default_rng(SEED)
    keep = np.sort(np.concatenate([benign, rng.choice(malignant, size=n_pos, replace=False)]))
    imb = df.loc[keep, features].reset_index(drop=True)
    imb["label"] = (df.loc[keep, "target"].to_numpy() == 0).astype(np.int64)

    # binary_preds.csv: out-of-fold P(malignant) on imbalanced.csv from a 5-fold
    # stratified cross-validated logistic regression (every prediction is for a row
    # the model did not see), then 30 positive + 270 negative rows, seeded.
    X, y = imb[features].to_numpy(), imb["label"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=10_000))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    proba = cross_val_predict(model, X, y, cv=cv, method="predict_proba")[:, 1]
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    rows = np.sort(
        np.concatenate(
            [rng.choice(pos, size=30, replace=False), rng.choice(neg, size=270, replace=False)]
        )
    )
    binary = pd.DataFrame({"y_true": y[rows], "y_pred": round_binary_prob(proba[rows])})
    return {"breast_cancer.csv": df, "imbalanced.csv": imb, "binary_preds.csv": binary}


def iris_files() -> dict[str, pd.DataFrame]:
    ir = load_iris()
    names = np.asarray(ir.target_names)
    df = pd.DataFrame(ir.data, columns=IRIS_FEATURES)
    df["species"] = names[ir.target]
    # Multinomial logistic regression fitted on a stratified half, probabilities
    # for all 150 rows (so the training half is in-sample, the rest held out).
    X = df[IRIS_FEATURES].to_numpy()
    idx_train, _ = train_test_split(
        np.arange(len(df)), train_size=0.5, stratify=ir.target, random_state=SEED
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=10_000))
    model.fit(X[idx_train], ir.target[idx_train])
    proba = round_probs(model.predict_proba(X))
    preds = pd.DataFrame(proba, columns=[f"p_{n}" for n in names])
    preds.insert(0, "y_true", df["species"])
    return {"iris.csv": df, "multiclass_preds.csv": preds}


# --------------------------------------------------------------------------- README


def balance(df: pd.DataFrame, col: str) -> str:
    counts = df[col].value_counts().sort_index()
    n = len(df)
    return ", ".join(f"{k}: {v} ({100 * v / n:.1f}%)" for k, v in counts.items())


def readme(frames: dict[str, pd.DataFrame]) -> str:
    v = sklearn.__version__
    n = {k: len(df) for k, df in frames.items()}
    diab = f"UCI diabetes via scikit-learn {v} `load_diabetes(scaled=False)`; Efron et al. 2004"
    bc = (
        f"UCI Breast Cancer Wisconsin (Diagnostic) via scikit-learn {v} "
        "`load_breast_cancer()`; Street, Wolberg & Mangasarian 1993"
    )
    ir = (
        f"Fisher's iris via scikit-learn {v} `load_iris()` (as in Fisher 1936 and R's `iris`; "
        "the UCI copy differs in two points)"
    )
    seed = "worked example of `shared/seed/loss-functions-seed.md`, correct values in its ERRATA"
    lines: list[str] = [
        "# sample_data",
        "",
        f"Every file here is produced by `{SCRIPT}` (seeded, deterministic; run",
        f"`python sample_data/{SCRIPT}` with scikit-learn and pandas installed).",
        "CSV: UTF-8, LF line ends, header row, no index column, numbers written as",
        "the shortest string that round-trips (Python `repr`). Probabilities are",
        "rounded to 6 decimals and kept strictly inside (0, 1) (smallest 1e-06).",
        "",
        "## Seed examples (README and tests)",
        "",
        f"- `seed_regression.csv`: `y_true,y_pred`; {seed} (3.1.1 MSE = 0.02, 3.2.1 MAE = "
        f"0.133333…); {n['seed_regression.csv']} rows, hand-written.",
        f"- `seed_cross_entropy.csv`: `y_true,p_0,p_1,p_2`, labels are class indices; {seed} "
        "(3.3.1: 1.474283 as probabilities, 1.185841 with `--logits`); "
        f"{n['seed_cross_entropy.csv']} rows, hand-written.",
        f"- `seed_focal.csv`: `y_true,y_pred`; {seed} (3.4.1, alpha 0.25, gamma 2: 0.00258264 "
        f"as probabilities, 0.113988 with `--logits`); {n['seed_focal.csv']} rows, hand-written.",
        "",
        "## Predictions for `losscli compute`",
        "",
        f"- `regression_preds.csv`: `y_true,y_pred`; {diab}; {n['regression_preds.csv']} "
        "rows = the held-out half of the 442 rows (`train_test_split(test_size=0.5, "
        "random_state=0)`, original row order); y_pred from StandardScaler + Ridge(alpha=1) "
        f"fitted on the other half, rounded to 4 decimals; `{SCRIPT}`.",
        f"- `binary_preds.csv`: `y_true,y_pred` (0/1 labels, 1 = malignant; y_pred = "
        f"P(malignant)); {bc}; {n['binary_preds.csv']} rows "
        f"({balance(frames['binary_preds.csv'], 'y_true')}) "
        "drawn with seed 0 from `imbalanced.csv`; y_pred = out-of-fold probability from "
        "StandardScaler + LogisticRegression(C=0.1), 5-fold StratifiedKFold(shuffle, "
        f"random_state=0) `cross_val_predict`, rounded to 6 decimals; `{SCRIPT}`.",
        f"- `multiclass_preds.csv`: `y_true,p_setosa,p_versicolor,p_virginica` (y_true = "
        f"species name); {ir}; {n['multiclass_preds.csv']} rows (all of iris, 50 per class); "
        "probabilities from StandardScaler + multinomial LogisticRegression(C=1) fitted on a "
        "stratified half (`train_test_split(train_size=0.5, stratify, random_state=0)`, so 75 "
        "rows are in-sample), rounded to 6 decimals, floored at 1e-06, remainder put in the "
        f"row's largest entry so every row sums to 1 within 1e-12 in float64; `{SCRIPT}`.",
        f"- `weighted_preds.csv`: `y_true,y_pred,weight`; {diab}; "
        f"{n['weighted_preds.csv']} rows = the first 20 rows of `regression_preds.csv` with "
        "weights drawn uniformly from [0.5, 3.0] (numpy default_rng(0)), rounded to 2 "
        f"decimals; `{SCRIPT}`.",
        "",
        "## Training data for `losscli train`",
        "",
        f"- `diabetes.csv`: age,sex,bmi,bp,s1..s6 (raw, unscaled values; sex coded 1/2) and "
        f"target `y` (disease progression after one year) last; {diab}; "
        f"{n['diabetes.csv']} rows; `{SCRIPT}`.",
        f"- `breast_cancer.csv`: 30 features, names in lower_snake_case (`mean_radius`, ..., "
        f"`worst_fractal_dimension`), target `target` last (0 = malignant, 1 = benign, as in "
        f"scikit-learn); {bc}; {n['breast_cancer.csv']} rows "
        f"({balance(frames['breast_cancer.csv'], 'target')}); `{SCRIPT}`.",
        f"- `iris.csv`: sepal_length,sepal_width,petal_length,petal_width (cm), species "
        f"(setosa/versicolor/virginica); {ir}; {n['iris.csv']} rows (50 per class); `{SCRIPT}`.",
        f"- `imbalanced.csv`: columns as `breast_cancer.csv` but target `label` with 1 = "
        f"malignant; {bc}; all 357 benign rows plus 36 malignant rows drawn with numpy "
        f"default_rng(0), original row order; {n['imbalanced.csv']} rows "
        f"({balance(frames['imbalanced.csv'], 'label')}); for focal loss; `{SCRIPT}`.",
        "",
        f"- `{SCRIPT}`: the generator of all of the above, including this README.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    frames: dict[str, pd.DataFrame] = {}
    for make in (seed_files, diabetes_files, breast_cancer_files, iris_files):
        frames.update(make())
    for name, df in sorted(frames.items()):
        write_csv(df, name)
    (OUT / "README.md").write_text(readme(frames), encoding="utf-8", newline="\n")
    for name, df in sorted(frames.items()):
        print(f"{name}: {len(df)} rows x {df.shape[1]} columns")


if __name__ == "__main__":
    main()
