"""Linear classifiers on MNIST, from scratch in NumPy.

The modules follow the data, one concern each:

    mnist          IDX files -> uint8 arrays (find, download, verify, parse), MNIST or Fashion-MNIST
    data           splits, pre-processing (+bias), one-hot, mini-batches
    losses         sigmoid, softmax, cross-entropy from logits
    models         BinaryModel (sigmoid) and SoftmaxModel: forward/backward side by side
    gradient_check central-difference check of any model's gradient
    metrics        accuracy, evaluate, confusion matrix, confident mistakes, weight norm and roughness
    trainer        mini-batch SGD, validation, early stopping -> History
    experiment     one training run from its Settings; what every training command shares
    parallel       independent runs in a pool of processes, one BLAS thread each
    plots          PNG figures from histories and weights
    outputs        a run's outputs as one transaction (staged, hashed, locked)
    report         figures/README.md from the metrics and figures
    modelfile      saved models (.npz, never unpickled)
    images         photos of digits -> MNIST-style 28x28 images

Commands: `python -m src` (the main job), `src.report`, `src.train`,
`src.predict`, `src.sweep`, `src.draw` (a page to draw on: what the model
sees and why it decides, served from `draw_page/`); `cli` is what they and the task scripts share,
`errors` the one kind of error a user sees as a single line, `fileio`
atomic writes.
"""

__version__ = "1.1.0"
