"""What one record computes inside the Recorder's compiled function: per-layer activation statistics,
histograms over each tensor's own range, and per-layer sums of flattened weight vectors."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


def activation_stats(tensors, activations):
    """[mean, std, fraction exactly zero, fraction saturated] per flattened layer output -> [n, 4].

    Saturated: sigmoid outputs < 0.01 or > 0.99, tanh |a| > 0.99; NaN for other activations. Each
    statistic is one or two reductions per layer (small models pay per op, not per element).
    """
    means = [tf.reduce_mean(t) for t in tensors]
    variances = [
        tf.reduce_mean(tf.math.squared_difference(t, m)) for t, m in zip(tensors, means, strict=True)
    ]
    zeros = [tf.reduce_mean(tf.cast(tf.equal(t, 0.0), tf.float32)) for t in tensors]
    saturated = []
    for t, activation in zip(tensors, activations, strict=True):
        if activation == "sigmoid":
            saturated.append(tf.reduce_mean(tf.cast((t < 0.01) | (t > 0.99), tf.float32)))
        elif activation == "tanh":
            saturated.append(tf.reduce_mean(tf.cast(tf.abs(t) > 0.99, tf.float32)))
        else:
            saturated.append(tf.constant(math.nan, tf.float32))
    return tf.stack(
        [tf.stack(means), tf.sqrt(tf.stack(variances)), tf.stack(zeros), tf.stack(saturated)], axis=1
    )


def all_finite(summary):
    """True when no tensor can hold a NaN or inf: their means, variances or norms would not be finite."""
    return tf.reduce_all(tf.math.is_finite(summary))


def histograms(tensors, bins: int, all_finite):
    """Per-tensor (counts [n, bins] int32, edges [n, bins + 1]) over each tensor's own min..max.

    Binning is tf.histogram_fixed_width's. The usual case (every value finite) takes the short path;
    otherwise non-finite values are left out of the counts (tf.histogram_fixed_width refuses NaN).
    A tensor whose values are all equal gets the range [v, v + 1].
    """
    n = len(tensors)

    def finite_case():
        low = tf.stack([tf.reduce_min(t) for t in tensors])
        high = tf.stack([tf.reduce_max(t) for t in tensors])
        return (*usable_range(low, high), tf.zeros([n], tf.int32), list(tensors))

    def with_nonfinite_values():
        finite = [tf.math.is_finite(t) for t in tensors]
        low = tf.stack(
            [tf.reduce_min(tf.where(f, t, math.inf)) for f, t in zip(finite, tensors, strict=True)]
        )
        high = tf.stack(
            [tf.reduce_max(tf.where(f, t, -math.inf)) for f, t in zip(finite, tensors, strict=True)]
        )
        low, high = usable_range(low, high)
        # Non-finite values are parked in the first bin and subtracted from it below.
        parked = [tf.where(f, t, low[i]) for i, (f, t) in enumerate(zip(finite, tensors, strict=True))]
        nonfinite = tf.stack([tf.size(f) - tf.math.count_nonzero(f, dtype=tf.int32) for f in finite])
        return low, high, nonfinite, parked

    low, high, nonfinite, values = tf.cond(all_finite, finite_case, with_nonfinite_values)
    ranges = tf.stack([low, high], axis=1)
    counts = tf.stack([tf.histogram_fixed_width(v, ranges[i], nbins=bins) for i, v in enumerate(values)])
    counts = counts - nonfinite[:, None] * tf.one_hot(0, bins, dtype=tf.int32)[None, :]
    edges = low[:, None] + (high - low)[:, None] * tf.linspace(0.0, 1.0, bins + 1)[None, :]
    return counts, edges


def usable_range(low, high):
    """Ranges with no finite value become [0, 1]; empty ranges [v, v] become [v, v + 1]."""
    valid = low <= high
    low = tf.where(valid, low, 0.0)
    high = tf.where(valid, high, 1.0)
    return low, tf.where(high > low, high, low + 1.0)


def layer_ranges(variables, layer_variable_indices) -> list[list[tuple[int, int]]]:
    """Where each layer's variables lie in the flattened weight vector: [(start, stop), ...] per layer.

    Adjacent variables of one layer share a range, so usually each layer is one slice.
    """
    offsets = np.concatenate([[0], np.cumsum([int(np.prod(v.shape)) for v in variables])]).tolist()
    ranges = []
    for indices in layer_variable_indices:
        spans: list[tuple[int, int]] = []
        for i in sorted(indices):
            if spans and spans[-1][1] == offsets[i]:
                spans[-1] = (spans[-1][0], offsets[i + 1])
            else:
                spans.append((offsets[i], offsets[i + 1]))
        ranges.append(spans)
    return ranges


def range_sums(values, layer_ranges):
    """Per-layer sums of a flattened vector (static slices: cheaper than segment sums or cumsum on CPU)."""
    return tf.stack([tf.add_n([tf.reduce_sum(values[a:b]) for a, b in spans]) for spans in layer_ranges])


def unmasked_values(activation, mask):
    """A layer's output as a float32 vector, without its masked (padded) time steps."""
    values = tf.cast(activation, tf.float32)
    if mask is not None and mask.shape.rank is not None and mask.shape.rank <= values.shape.rank:
        values = tf.boolean_mask(values, mask)
    return tf.reshape(values, [-1])


def step_histograms(tensors, bins: int):
    """`histograms` in ops XLA compiles, for statistics taken inside a (possibly jit-compiled) training step.

    tf.histogram_fixed_width has no XLA kernel, so each value's bin (tf.histogram_fixed_width's rule:
    floor(bins * (v - low) / (high - low)), clipped to the first and last bin) is summed per bin.
    Non-finite values are left out; an empty tensor gets the range [0, 1] and no counts.
    """
    finite = [tf.math.is_finite(t) for t in tensors]
    low = tf.stack([tf.reduce_min(tf.where(f, t, math.inf)) for f, t in zip(finite, tensors, strict=True)])
    high = tf.stack([tf.reduce_max(tf.where(f, t, -math.inf)) for f, t in zip(finite, tensors, strict=True)])
    low, high = usable_range(low, high)
    counts = []
    for i, (f, t) in enumerate(zip(finite, tensors, strict=True)):
        # Clipped as floats first: a huge value must not overflow the cast to int32.
        position = tf.clip_by_value((t - low[i]) / (high[i] - low[i]) * bins, 0.0, bins - 1.0)
        index = tf.cast(tf.floor(tf.where(f, position, 0.0)), tf.int32)
        counts.append(tf.math.unsorted_segment_sum(tf.cast(f, tf.int32), index, bins))
    edges = low[:, None] + (high - low)[:, None] * tf.linspace(0.0, 1.0, bins + 1)[None, :]
    return tf.stack(counts), edges
