"""The registered MLflow pyfunc, logged as code (no pickle): both calibrated probabilities.

MLflow executes this file when the model is loaded; the bundle directory is its one artifact.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class EscalationRiskModel(PythonModel):
    def load_context(self, context) -> None:
        from training.bundle import load_bundle

        self.bundle = load_bundle(context.artifacts["bundle"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return self.bundle.predict(pd.DataFrame(model_input))


mlflow.models.set_model(EscalationRiskModel())
