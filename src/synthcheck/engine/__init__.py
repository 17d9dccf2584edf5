"""The engine shared by the CLI, the Python API and the server."""

from synthcheck.engine.detector import Detector, PixelModel, PixelPrediction

__all__ = ["Detector", "PixelModel", "PixelPrediction"]
