"""Shared building blocks: feature encoders, MLPs, readouts and prediction heads."""

from graphbench.nn.encoders import FeatureEncoder
from graphbench.nn.mlp import MLP, make_norm
from graphbench.nn.readout import READOUTS, readout

__all__ = ["MLP", "READOUTS", "FeatureEncoder", "make_norm", "readout"]
