"""The regularization lesson's few training samples and their validation split."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import train_test_split

import dlviz
from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError

if TYPE_CHECKING:
    from plugins.regularization.plugin import Params

BUNDLED = ("moons", "circles", "xor", "gauss", "spirals")
# Held-out samples of a bundled set: many, so the validation loss measures generalisation, not luck.
VALIDATION_SAMPLES = 400
KINDS_ZH = {"image": "图像", "sequence": "序列", "timeseries": "时间序列"}  # the kinds it does not train on


def lesson_data(ctx: dlviz.Context, params: Params) -> tuple[Dataset, list[str]]:
    """The small training set and its validation split: the context's 2-D/tabular data (class labels or
    regression targets) or a bundled set."""
    notes: list[str] = []
    own = ctx.dataset
    if params.data == "auto" and own is not None and own.task == "multilabel":
        # the lesson trains a classifier (cross-entropy) or a regressor (mean squared error), not multilabel
        notes.append(
            (
                f"{own.name} is a multilabel set; this lesson trains classifiers or regressors, so it trains "
                "on moons.",
                f"{own.name} 是多标签 (multilabel) 数据集；本课训练分类器或回归模型，因此在 moons 数据集上训练。",
            )
        )
    elif params.data == "auto" and own is not None and own.kind in ("points2d", "tabular"):
        x, y = np.asarray(own.x_train), np.asarray(own.y_train)
        if params.n_train < len(x):
            # class labels are drawn stratified; regression targets at random
            stratify = y if own.task == "classification" else None
            try:
                x, _, y, _ = train_test_split(
                    x, y, train_size=params.n_train, stratify=stratify, random_state=ctx.seed
                )
            except ValueError as exc:
                raise DataError(
                    f"Cannot draw {params.n_train} stratified training samples from {own.name!r}: {exc}",
                    "raise 'Training samples' to at least a few per class.",
                ) from exc
        else:
            notes.append(
                (
                    f"{own.name} has {len(x)} training samples: all are used.",
                    f"{own.name} 只有 {len(x)} 个训练样本：全部使用。",
                )
            )
        data = dataclasses.replace(own, x_train=x, y_train=y)
        return data, notes
    elif params.data == "auto" and own is not None:
        notes.append(
            (
                f"{own.name} holds {own.kind} data; this lesson's small networks take 2-D points or tables, so "
                "it trains on moons.",
                f"{own.name} 是{KINDS_ZH.get(own.kind, own.kind)}数据；本课的小网络只接受二维点或表格数据，因此在 moons "
                "数据集上训练。",
            )
        )
    name = "moons" if params.data == "auto" else params.data
    limit = datasets.PARAMETERS[name]["noise"]["max"]
    noise = min(params.noise, limit)
    if noise < params.noise:
        notes.append(
            (
                f"{name} allows noise up to {limit}: {noise} used.",
                f"{name} 的噪声最大为 {limit}：使用 {noise}。",
            )
        )
    total = params.n_train + VALIDATION_SAMPLES
    data = datasets.load(
        name, seed=ctx.seed, n_samples=total, noise=noise, test_size=VALIDATION_SAMPLES / total
    )
    return data, notes
