"""Measuring a generator: the dying-ReLU probes of the discriminator (`diagnostics`), sample
quality from a small MNIST classifier (`classifier`, on the formulas of `metrics`), and drawing
samples from a saved generator (`sampling`)."""
