"""Optimisation and the fitted model: objective, optimizers, the loop, model files, metrics."""
