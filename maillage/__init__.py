"""maillage: a graph-based stakeholder network analyzer for industry-cluster secretariats.

This small package holds what every layer shares: the graph model (:mod:`maillage.model`),
the settings (:mod:`maillage.settings`) and the error hierarchy (:mod:`maillage.errors`).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
