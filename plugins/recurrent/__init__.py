"""The `recurrent` lesson: SimpleRNN, LSTM and GRU unrolled over time on a task with a long-range dependency;
their gates computed from the layers' own weights, backpropagation through time, accuracy against the
dependency length."""

from plugins.recurrent.plugin import Recurrent

__all__ = ["Recurrent"]
