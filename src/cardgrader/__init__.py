"""cardgrader: train and check computer-vision models for trading-card grading."""

__version__ = "0.1.0"
