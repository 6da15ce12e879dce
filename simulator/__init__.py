"""The ward simulator: realistic vital signs and clinical events, with a ground truth.

Pure (numpy and the wire models): it feeds `crsmon simulate`, the cohort benchmark and tests,
and later a Kafka publisher, all through `Simulation.events()`.
"""

from simulator.settings import ArtifactRates, SimulationSettings, TruthThresholds
from simulator.truth import GroundTruth
from simulator.ward import Simulation

__all__ = ["ArtifactRates", "GroundTruth", "Simulation", "SimulationSettings", "TruthThresholds"]
