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
    outputs        a run's outputs as one transaction (staged, hashed, locked); metrics files
                   read and checked against metrics.schema.json
    report         figures/README.md: the template report.md.j2 filled with the runs' facts
    modelfile      saved models (.npz, never unpickled)
    images         photos of digits -> MNIST-style 28x28 images

Commands: `python -m src` (the main job), `src.report`, `src.train`,
`src.predict`, `src.sweep`, `src.draw` (a page to draw on: what the model
sees and why it decides, served from `draw_page/`); `cli` is what they and the task scripts share,
`errors` the one kind of error a user sees as a single line, `fileio`
atomic writes, `stops` how Ctrl-C and SIGTERM end a command wherever they land.
"""

# First of all, before any heavy import: a command (python -m src..., a task script)
# owns Ctrl-C, SIGTERM and SIGHUP from here on; a program importing src keeps its own.
from . import stops as _stops

_stops.own_while_starting()

__version__ = "1.1.0"
