"""What do the evaluation page and the projector cost beyond the work they cannot avoid?

1. The `evaluation` plugin (compute + figures, default parameters: scikit-learn's metrics, ROC and PR
   curves, the reliability diagram, top-k accuracy and 8 confident mistakes with their Grad-CAM through the
   attributions plugin; no run, so no snapshots) on the digits CNN's test set, against one
   `model.evaluate` of that set.
2. The `embeddings` plugin with t-SNE (compute + figures: the layer's activations, the projection, the
   scatter with its hover texts) on 1,000 digits samples, against scikit-learn's `TSNE` alone on the same
   activations with the same settings.

Each pair is interleaved, alternating which runs first, and compared by medians; the first call of each
(tracing included) is printed apart. CPU time is printed too: on a busy machine it is the steadier measure.
Usage: python bench/evaluation.py [--repeats 3] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from dlviz import datasets, models  # noqa: E402
from dlviz.plugin import make_params  # noqa: E402
from dlviz.registry import make_context  # noqa: E402
from plugins.embeddings import Embeddings  # noqa: E402
from plugins.embeddings.compute import default_layer  # noqa: E402
from plugins.evaluation import Evaluation  # noqa: E402

TSNE_SAMPLES = 1000


def timed(function) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(name: str, ours, baseline, repeats: int) -> float:
    """Interleave `ours` and `baseline`, print the first calls and the medians, return the median ratio."""
    first_ours, first_baseline = timed(ours), timed(baseline)
    print(f"{name}: first call {first_ours[0]:.2f} s against {first_baseline[0]:.2f} s (tracing included)")
    walls: dict[str, list[float]] = {"ours": [], "baseline": []}
    cpus: dict[str, list[float]] = {"ours": [], "baseline": []}
    for repeat in range(repeats):
        order = (
            (("ours", ours), ("baseline", baseline))
            if repeat % 2 == 0
            else (("baseline", baseline), ("ours", ours))
        )
        for label, function in order:
            wall, cpu = timed(function)
            walls[label].append(wall)
            cpus[label].append(cpu)
    wall_ours, wall_base = statistics.median(walls["ours"]), statistics.median(walls["baseline"])
    cpu_ours, cpu_base = statistics.median(cpus["ours"]), statistics.median(cpus["baseline"])
    print(
        f"{name}: median {wall_ours:.3f} s against {wall_base:.3f} s = {wall_ours / wall_base:.2f}x wall, "
        f"{cpu_ours / cpu_base:.2f}x CPU ({repeats} rounds; ours {', '.join(f'{w:.2f}' for w in walls['ours'])})"
    )
    return wall_ours / wall_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    # 60% of digits held out, so the projector has 1,000 test samples to project.
    dataset = datasets.load("digits", seed=0, test_size=0.6)
    model = models.build("cnn", dataset, seed=0)
    model.fit(dataset.x_train, dataset.y_train, epochs=args.epochs, batch_size=32, verbose=0)
    ctx = make_context(model=model, dataset=dataset, seed=0)
    print(f"digits CNN, {len(dataset.x_test)} test samples, load average {os.getloadavg()[0]:.1f}")

    evaluation = Evaluation()
    evaluation_params = make_params(Evaluation.Params, {})

    def evaluate_page():
        evaluation.figures(evaluation.compute(ctx, evaluation_params), "en")

    def keras_evaluate():
        model.evaluate(dataset.x_test, dataset.y_test, verbose=0)

    evaluation_ratio = compare("evaluation", evaluate_page, keras_evaluate, args.repeats)

    from sklearn.manifold import TSNE

    projector = Embeddings()
    projector_params = make_params(
        Embeddings.Params, {"method": "tsne", "samples": TSNE_SAMPLES, "snapshots": False}
    )
    layer = default_layer(ctx.model)
    keep = np.sort(np.random.default_rng(0).choice(len(dataset.x_test), TSNE_SAMPLES, replace=False))
    activations = ctx.model.activations(dataset.x_test[keep], layers=[layer])[layer].astype(np.float64)

    def project_page():
        projector.figures(projector.compute(ctx, projector_params), "en")

    def tsne_alone():
        TSNE(
            n_components=2, perplexity=projector_params.perplexity, init="pca", random_state=0
        ).fit_transform(activations.reshape(len(activations), -1))

    embeddings_ratio = compare(
        f"embeddings (t-SNE, {TSNE_SAMPLES} samples)", project_page, tsne_alone, args.repeats
    )
    print(
        f"evaluation: {evaluation_ratio:.2f}x one model.evaluate (goal <= 3x); "
        f"embeddings t-SNE: {embeddings_ratio:.2f}x scikit-learn's TSNE alone (goal <= 1.2x)"
    )


if __name__ == "__main__":
    main()
