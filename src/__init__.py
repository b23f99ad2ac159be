"""Linear classifiers on MNIST, from scratch in NumPy.

The modules follow the data, one concern each:

    mnist          IDX files -> uint8 arrays (find, download, verify, parse)
    data           splits, pre-processing (+bias), one-hot, mini-batches
    losses         cross-entropy, binary and multi-class
    models         BinaryModel (sigmoid) and SoftmaxModel, forward/backward
    gradient_check central-difference check of any model's gradient
    trainer        mini-batch SGD, validation, early stopping -> History
    plots          PNG figures from histories and weights
    experiment     what the training scripts share: runs, metrics JSON
    report         figures/README.md from the metrics and figures
    cli            what every script shares on the command line
    fileio         atomic writes (no half-written file is ever left)
"""

__version__ = "1.1.0"
