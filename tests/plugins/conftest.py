"""Fixtures the explanation plugins' tests share: the tiny image and tabular contexts, a subclassed CNN."""

import keras
import pytest

from dlviz.registry import make_context
from dlviz.testing import tiny_context


class SubclassedCNN(keras.Model):
    """A subclassed model: no `.inputs` (shap's Deep/Gradient explainers cannot take it as it is), and
    its conv layer is found through the leaf layers, not `.layers` of a graph."""

    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.head = keras.layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.head(self.hidden(self.flatten(self.conv(x))))


@pytest.fixture(scope="module")
def image():
    return tiny_context("image")


@pytest.fixture(scope="module")
def tabular():
    return tiny_context("tabular")


@pytest.fixture(scope="module")
def subclassed(image):
    keras.utils.set_random_seed(0)
    model = SubclassedCNN()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(image.dataset.x_train, image.dataset.y_train, epochs=5, batch_size=32, verbose=0)
    return make_context(model=model, dataset=image.dataset)
