"""Iris: preprocess -> train -> evaluate, on scikit-learn's bundled dataset.

    python pipeline.py [OUT.yaml]     # compiles to pipeline.yaml by default
    weir run pipeline.yaml -p max_depth=2
"""
import os
import sys

from kfp import compiler, dsl
from kfp.dsl import (ClassificationMetrics, Dataset, Input, Metrics, Model,
                     Output)

PACKAGES = ["scikit-learn==1.7.2"]


@dsl.component(base_image="python:3.11", packages_to_install=PACKAGES)
def preprocess(
    test_size: float,
    seed: int,
    train_data: Output[Dataset],
    test_data: Output[Dataset],
):
    """Splits iris into train and test CSV files (features..., label)."""
    import csv

    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=test_size, random_state=seed,
        stratify=iris.target)
    header = list(iris.feature_names) + ["label"]
    for art, xs, ys in ((train_data, x_train, y_train),
                        (test_data, x_test, y_test)):
        with open(art.path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for row, label in zip(xs, ys):
                w.writerow([float(v) for v in row] + [int(label)])
        art.metadata["rows"] = len(ys)
        art.metadata["classes"] = [str(c) for c in iris.target_names]
    print(f"train rows: {len(y_train)}, test rows: {len(y_test)}")


@dsl.component(base_image="python:3.11", packages_to_install=PACKAGES)
def train(
    train_data: Input[Dataset],
    max_depth: int,
    seed: int,
    model: Output[Model],
):
    """Fits a decision tree and pickles it."""
    import pickle

    import numpy as np
    from sklearn.tree import DecisionTreeClassifier

    table = np.loadtxt(train_data.path, delimiter=",", skiprows=1)
    clf = DecisionTreeClassifier(max_depth=max_depth, random_state=seed)
    clf.fit(table[:, :-1], table[:, -1].astype(int))
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)
    model.metadata["framework"] = "sklearn"
    model.metadata["max_depth"] = max_depth
    print(f"trained a tree of depth {clf.get_depth()} "
          f"on {train_data.metadata.get('rows')} rows")


@dsl.component(base_image="python:3.11", packages_to_install=PACKAGES)
def evaluate(
    test_data: Input[Dataset],
    model: Input[Model],
    metrics: Output[Metrics],
    confusion: Output[ClassificationMetrics],
) -> float:
    """Scores the model on the test split."""
    import pickle

    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix

    table = np.loadtxt(test_data.path, delimiter=",", skiprows=1)
    y_true = table[:, -1].astype(int)
    with open(model.path, "rb") as f:
        clf = pickle.load(f)
    y_pred = clf.predict(table[:, :-1])
    accuracy = float(accuracy_score(y_true, y_pred))
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("test_rows", len(y_true))
    classes = test_data.metadata.get("classes") or ["0", "1", "2"]
    matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(classes))))
    confusion.log_confusion_matrix(classes, matrix.tolist())
    print(f"accuracy: {accuracy:.4f}")
    return accuracy


@dsl.pipeline(name="iris", description="Decision tree on the iris dataset.")
def iris(test_size: float = 0.3, max_depth: int = 3, seed: int = 42):
    data = preprocess(test_size=test_size, seed=seed)
    model = train(train_data=data.outputs["train_data"], max_depth=max_depth,
                  seed=seed)
    evaluate(test_data=data.outputs["test_data"], model=model.outputs["model"])


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "pipeline.yaml")
    compiler.Compiler().compile(iris, out)
