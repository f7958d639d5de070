"""Training: fit a gradient-boosted classifier (script mode in AWS's scikit-learn image).

SageMaker's training toolkit (`sagemaker-training`, which AWS's framework images run) downloads the source
folder named by the `sagemaker_submit_directory` hyperparameter, runs the script named by `sagemaker_program`,
passes the other hyperparameters as `--name value` arguments and sets `SM_CHANNEL_<NAME>`, `SM_MODEL_DIR` and
`SM_OUTPUT_DATA_DIR` (sagemaker_training/environment.py, mapping.py). Whatever is in SM_MODEL_DIR when the
script ends is packed into `model.tar.gz`.

Input: `train.csv` (and `validation.csv`), no header, label in the first column (preprocess.py's output).
Output: `model.joblib`, a scikit-learn pipeline (scaler and classifier) that inference.py loads.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

import joblib
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_FILE = "model.joblib"


def load_channel(folder: str) -> tuple:
    """(features, labels) of every CSV in a channel folder; label in the first column."""
    files = sorted(glob.glob(os.path.join(folder, "*.csv")))
    if not files:
        raise FileNotFoundError(f"no *.csv in {folder}")
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    return data[:, 1:], data[:, 0]


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Hyperparameters: the stack file's `training.hyperparameters`, passed by name.
    parser.add_argument("--n_estimators", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--random_state", type=int, default=0)
    # Paths: what SageMaker gives the container.
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument(
        "--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")
    )
    args = parser.parse_args(argv)

    train_x, train_y = load_channel(args.train)
    model = make_pipeline(
        StandardScaler(),
        GradientBoostingClassifier(
            n_estimators=args.n_estimators,
            learning_rate=args.learning_rate,
            max_depth=args.max_depth,
            subsample=args.subsample,
            random_state=args.random_state,
        ),
    )
    model.fit(train_x, train_y)
    print(f"trained on {len(train_y)} rows")
    if os.path.isdir(args.validation) and glob.glob(os.path.join(args.validation, "*.csv")):
        val_x, val_y = load_channel(args.validation)
        # One metric line a training job's MetricDefinitions can read (Regex "validation:auc=([0-9.]+)").
        print(f"validation:auc={roc_auc_score(val_y, model.predict_proba(val_x)[:, 1]):.6f}")
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, MODEL_FILE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
