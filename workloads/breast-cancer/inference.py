"""Serving: the handler AWS's scikit-learn serving container calls (SAGEMAKER_PROGRAM=inference.py).

The container imports this module from SAGEMAKER_SUBMIT_DIRECTORY and, for each request, calls
`input_fn(body, content_type)`, `predict_fn(data, model)` and `output_fn(prediction, accept)` on the model that
`model_fn(model_dir)` loaded once from the extracted model.tar.gz (sagemaker_sklearn_container/serving.py; a
(body, content type) tuple from output_fn becomes the response).

Requests: `text/csv` rows of the 30 features, or `application/json` `{"instances": [[...], ...]}`.
Responses: `application/json` `{"predictions": [{"label": 0|1, "probability": p}, ...]}` (probability of class
1), or `text/csv` `label,probability` lines.
"""

from __future__ import annotations

import io
import json
import os

import joblib
import numpy as np

MODEL_FILE = "model.joblib"
CSV, JSON = "text/csv", "application/json"


def model_fn(model_dir: str):
    return joblib.load(os.path.join(model_dir, MODEL_FILE))


def input_fn(body, content_type: str) -> np.ndarray:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    kind = (content_type or CSV).split(";")[0].strip()
    if kind == CSV:
        return np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
    if kind == JSON:
        document = json.loads(body)
        rows = document.get("instances") if isinstance(document, dict) else document
        return np.asarray(rows, dtype=float).reshape(len(rows), -1)
    raise ValueError(f"unsupported content type {content_type!r}; send {CSV} or {JSON}")


def predict_fn(data: np.ndarray, model) -> np.ndarray:
    probabilities = model.predict_proba(data)[:, 1]
    return np.column_stack([(probabilities >= 0.5).astype(int), probabilities])


def output_fn(prediction: np.ndarray, accept: str):
    kind = (accept or JSON).split(";")[0].strip()
    if kind in (JSON, "*/*"):
        rows = [{"label": int(label), "probability": round(float(p), 6)} for label, p in prediction]
        return json.dumps({"predictions": rows}), JSON
    if kind == CSV:
        return "\n".join(f"{int(label)},{float(p):.6f}" for label, p in prediction), CSV
    raise ValueError(f"unsupported accept type {accept!r}; ask for {JSON} or {CSV}")
