"""Evaluation: score the trained model on the held-out test set (a SageMaker processing job).

Runs in AWS's scikit-learn image as `python3 /opt/ml/processing/input/code/evaluate.py`, with the training
job's `model.tar.gz` at /opt/ml/processing/model and the test set at /opt/ml/processing/test. It writes
/opt/ml/processing/evaluation/evaluation.json in the shape of SageMaker's model quality statistics
(`binary_classification_metrics`, each metric `{"value", "standard_deviation"}`): the evaluation step reads the
gate's metric from this file, and the registered model version's `ModelMetrics.ModelQuality.Statistics` points
at it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tarfile

import joblib
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

REPORT = "evaluation.json"
MODEL_FILE = "model.joblib"
BOOTSTRAP_SAMPLES = 200


def load_model(model_dir: str):
    """The model, from the training job's model.tar.gz (or an already extracted model.joblib)."""
    archive = os.path.join(model_dir, "model.tar.gz")
    path = os.path.join(model_dir, MODEL_FILE)
    if os.path.exists(archive):
        with tarfile.open(archive, "r:gz") as tar:
            # Only the file the training script writes (`model.joblib` or `./model.joblib`), copied by content:
            # no member's path or link is followed.
            member = next((m for m in tar.getmembers() if m.isfile() and os.path.basename(m.name) == MODEL_FILE), None)
            source = tar.extractfile(member) if member is not None else None
            if source is not None:
                with open(path, "wb") as target:
                    target.write(source.read())
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {MODEL_FILE} or model.tar.gz in {model_dir}")
    return joblib.load(path)


def load_test(folder: str) -> tuple:
    files = sorted(glob.glob(os.path.join(folder, "*.csv")))
    if not files:
        raise FileNotFoundError(f"no *.csv in {folder}")
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    return data[:, 1:], data[:, 0]


def _spread(metric, labels: np.ndarray, scores: np.ndarray, seed: int) -> float | None:
    """The metric's standard deviation over bootstrap resamples of the test set."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_SAMPLES):
        index = rng.integers(0, len(labels), len(labels))
        if len(np.unique(labels[index])) == 2:
            values.append(metric(labels[index], scores[index]))
    return float(np.std(values)) if values else None  # JSON null: NaN is not JSON for other readers


def report(labels: np.ndarray, probabilities: np.ndarray, seed: int = 0) -> dict:
    """SageMaker's model quality statistics for a binary classifier (threshold 0.5)."""
    predicted = (probabilities >= 0.5).astype(float)
    metrics = {
        "auc": (roc_auc_score, probabilities),
        "accuracy": (accuracy_score, predicted),
        "precision": (lambda y, p: precision_score(y, p, zero_division=0), predicted),
        "recall": (lambda y, p: recall_score(y, p, zero_division=0), predicted),
        "f1": (lambda y, p: f1_score(y, p, zero_division=0), predicted),
    }
    section = {
        name: {"value": float(metric(labels, scores)), "standard_deviation": _spread(metric, labels, scores, seed)}
        for name, (metric, scores) in metrics.items()
    }
    return {"version": 0.0, "dataset": {"item_count": len(labels)}, "binary_classification_metrics": section}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="/opt/ml/processing/model")
    parser.add_argument("--test-dir", default="/opt/ml/processing/test")
    parser.add_argument("--output-dir", default="/opt/ml/processing/evaluation")
    args = parser.parse_args(argv)

    model = load_model(args.model_dir)
    features, labels = load_test(args.test_dir)
    result = report(labels, model.predict_proba(features)[:, 1])
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, REPORT), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    auc = result["binary_classification_metrics"]["auc"]["value"]
    print(f"test:auc={auc:.6f} on {len(labels)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
