"""Measuring a generator: the dying-ReLU probes of the discriminator (`diagnostics`), sample
quality (`quality`) judged by a small MNIST classifier (`classifier`) with the formulas of
`metrics` and `knn`, and drawing samples from a saved generator (`sampling`)."""
