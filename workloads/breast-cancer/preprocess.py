"""Preprocessing: split the raw CSV into train, validation and test sets (a SageMaker processing job).

Runs in AWS's scikit-learn image (`sagemaker-scikit-learn`, Python 3.9 in 1.2-1), which SageMaker starts as
`python3 /opt/ml/processing/input/code/preprocess.py`: the code arrives as a processing input at that path, the
raw data at /opt/ml/processing/input/raw, and what the script writes under /opt/ml/processing/output/<channel>
is uploaded to S3 at the end of the job (SageMaker developer guide, "Data Processing with Processing jobs").

Input: every `*.csv` under the input folder: numeric features, the 0/1 label in the last column. A first line
that is not all numbers is a header and is skipped (scikit-learn's `breast_cancer.csv` starts with one:
`569,30,malignant,benign`, its row count, feature count and class names).

Output: `train.csv`, `validation.csv`, `test.csv`, one per channel folder, no header, the label in the FIRST
column (the convention of SageMaker's built-in algorithms, which the training and evaluation scripts share).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

import numpy as np
from sklearn.model_selection import train_test_split

CHANNELS = ("train", "validation", "test")


def read_rows(path: str) -> np.ndarray:
    """The numeric rows of one CSV, its header (a first line that is not all numbers) skipped."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            fields = [f.strip() for f in line.strip().split(",")]
            if not line.strip():
                continue
            try:
                rows.append([float(f) for f in fields])
            except ValueError:
                if number == 0:
                    continue
                raise ValueError(f"{path}: line {number + 1} is not numeric: {line.strip()[:80]!r}") from None
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{path}: rows of different widths {sorted(widths)}")
    return np.asarray(rows, dtype=float)


def split(data: np.ndarray, validation: float, test: float, seed: int) -> dict:
    """Stratified train/validation/test, label moved to the first column."""
    features, labels = data[:, :-1], data[:, -1]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("the last column must be a 0/1 label")
    rest_x, test_x, rest_y, test_y = train_test_split(
        features, labels, test_size=test, random_state=seed, stratify=labels
    )
    train_x, val_x, train_y, val_y = train_test_split(
        rest_x, rest_y, test_size=validation / (1 - test), random_state=seed, stratify=rest_y
    )
    return {
        "train": np.column_stack([train_y, train_x]),
        "validation": np.column_stack([val_y, val_x]),
        "test": np.column_stack([test_y, test_x]),
    }


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", default="/opt/ml/processing/input/raw")
    parser.add_argument("--output-dir", default="/opt/ml/processing/output")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    files = sorted(glob.glob(os.path.join(args.input_dir, "**", "*.csv"), recursive=True))
    if not files:
        print(
            f"no *.csv under {args.input_dir}: upload the raw data to the pipeline's data/raw/ prefix", file=sys.stderr
        )
        return 1
    data = np.vstack([read_rows(f) for f in files])
    parts = split(data, args.validation_fraction, args.test_fraction, args.seed)
    for channel in CHANNELS:
        folder = os.path.join(args.output_dir, channel)
        os.makedirs(folder, exist_ok=True)
        np.savetxt(os.path.join(folder, f"{channel}.csv"), parts[channel], delimiter=",", fmt="%.10g")
        print(f"{channel}: {len(parts[channel])} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
