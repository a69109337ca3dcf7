"""The learned scorer: P(signal reaches 2× entry within 30 days) from roostr's features.

With a thousand labelled rows and seventy noisy columns a learner needs priors and sparsity: the
model adds the rule score as an input it may lean on, its linear candidates include L1 (sparse)
ones, and which candidate ships is decided on time-ordered out-of-fold predictions, the simplest
unless clearly beaten. Modules, one job each:

- ``estimator``: ``ConvictionModel``, the scikit-learn estimator (fit, predict, explain);
- ``candidates``: which candidate learner ships;
- ``calibration``: margins to probabilities (Platt, isotonic);
- ``linear``: the linear booster served from arrays, with its standardisation;
- ``explanations``: top reasons and importance;
- ``persistence``: one XGBoost JSON/UBJSON file, never pickle;
- ``matrices``: checked matrices and XGBoost's DMatrix.
"""

from roostr.errors import ModelError
from roostr.model.estimator import MIN_VALIDATION_ROWS, Booster, ConvictionModel
from roostr.model.persistence import MODEL_SUFFIXES, load_model, save_model

__all__ = [
    "MIN_VALIDATION_ROWS",
    "MODEL_SUFFIXES",
    "Booster",
    "ConvictionModel",
    "ModelError",
    "load_model",
    "save_model",
]
