"""The ReLU vs LeakyReLU study: its grid of runs, and the report and comparisons made from
run folders.

A study is a grid of DCGAN runs that differ only in the discriminator's hidden activation
(the variant), the optimiser setting and the seed. Each part has one job; a part uses only
the parts listed above it (`->` names the main ones), never one below:

    settings      the optimiser settings known by name
    records       RunResult, one run's record (steps and images seen counted once), and
                  reading a run folder into one               -> settings
    stats         Welch, Holm, correlations with permutation p and bootstrap CI, on plain
                  numbers
    measures      one run's figures: quality over training and at the end, the collapse
                  rule, speed, time to quality                -> records, stats
    analysis      groups by setting and variant, comparisons, the mechanism, slopes, Holm
                  over all of them                            -> measures, stats
    findings, evaluations
                  the numbers that the report's sentences say -> analysis, measures
    formatting    how a number, a correlation or a markdown table is written
    tables        the report's tables                         -> analysis, formatting
    notes, description, reading, method
                  the report's sentences, written from the numbers above
    frames        progress grids side by side, the progress GIF
    figures       the plots                                   -> analysis, frames
    wording       what a report prints of the command line, as the caller hands it in
    report        report.md assembled with the plots and GIF  -> all of the above
    compare       runs side by side, the `compare` command's library
                                                              -> records, tables, frames
    grid          the grid (StudyConfig) and running it; writes the report at the end
                                                              -> records, report, training
    confirm_runs, confirm, confirm_report
                  study v3's pre-registered analysis (docs/study/v3/plan.md): its run
                  folders and log, the primary family and decision rule, its report

Nothing here speaks the command line: what a report prints of it (the command that
rebuilds a study, a run's training command, a setting's flag) comes in a `Wording` from the
command layer (`gan_tf.cli.study`, `gan_tf.cli.compare`). Only `grid` imports TensorFlow,
and only to train: a report can be rebuilt from run folders with numpy, scipy, matplotlib
and imageio.
"""
