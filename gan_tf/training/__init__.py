"""Training: models and optimizers built for a strategy (`build`), the epoch loop (`loop`),
checkpoints (`checkpoint`), what is measured and drawn between epochs (`monitor`), Ctrl-C and
SIGTERM (`signals`), and the checks a run folder passes before a run writes (`preflight`)."""
