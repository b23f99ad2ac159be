"""The known mistakes of this assignment: what each looks like, and the fix in one sentence.

Each was seen in public solutions of the assignment or is a classic of the
derivation; a check that recognises one names it on its FAIL line.
"""

MISTAKES = {
    "stub": ("the function still holds the starter's stub",
             "implement the TODO in it"),
    "no-bias-column": ("there is no bias column: X is still [N, 784]",
                       "append a column of ones, so X becomes [N, 785] and the last weight is the bias"),
    "bias-column-first": ("the bias column of ones is the first column",
                          "append it as the last column (np.concatenate([X, ones], axis=1)), "
                          "as the weight images and the starter's [785] layout expect"),
    "per-batch-min-max": ("the pixels are min-max normalised per batch, so the same image maps to "
                          "different inputs in different batches",
                          "use the fixed map x / 127.5 - 1 from 0..255 to [-1, 1]"),
    "range-0-1": ("the pixels are scaled to [0, 1]",
                  "the assignment asks for [-1, 1]: x / 127.5 - 1"),
    "standardised": ("the pixels are standardised by the batch's mean and standard deviation",
                     "the assignment asks for the fixed map x / 127.5 - 1 to [-1, 1]"),
    "loss-sum": ("the loss is summed over the batch, not averaged",
                 "divide by the batch size (take the mean over images)"),
    "loss-not-scalar": ("the loss is an array, not one number",
                        "return a float: the mean over the batch, e.g. float(-np.mean(...))"),
    "loss-nan-at-0-1": ("the cross-entropy is NaN where an output is exactly 0 or 1 (0 * log 0)",
                        "clip the outputs to [eps, 1 - eps] before the log, or use np.where so that "
                        "only the target's term is computed"),
    "no-batch-mean": ("the gradient is not divided by the batch size",
                      "divide X^T (Y - Y_hat) by N, the number of images in the batch"),
    "gradient-sign": ("the gradient has the wrong sign",
                      "dC/dw = -X^T (Y - Y_hat) / N: mind the minus"),
    "grad-not-stored": ("backward did not store the gradient in self.grad",
                        "assign the gradient to self.grad (the trainer reads it from there)"),
    "no-max-shift": ("the softmax overflows at large logits (NaN once a logit passes ~710)",
                     "subtract each row's maximum before np.exp: softmax(z) = softmax(z - max(z))"),
    "one-hot-off-by-one": ("the one-hot index is off by one",
                           "put the 1 at column Y[n], not Y[n] - 1 or Y[n] + 1"),
    "one-hot-not-2d": ("one_hot_encode does not return [N, num_classes]",
                       "make an [N, num_classes] array of zeros and set [n, Y[n, 0]] = 1"),
    "l2-sum": ("your L2 term is lambda * sum(w), one number added to every weight",
               "dR/dw = w element by element: use lambda * w"),
    "l2-divided-by-batch": ("the L2 term of the gradient is divided by the batch size",
                            "add lambda * w after dividing the data term by N, not before"),
    "no-l2-in-gradient": ("the gradient has no L2 term",
                          "add self.l2_reg_lambda * self.w to the gradient"),
    "l2-loss-disagrees": ("the L2 term of the loss does not match the one the gradient implements",
                          "with R = 1/2 ||w||^2 the gradient gains lambda * w, with R = ||w||^2 it gains "
                          "2 lambda * w: use the same R in both"),
    "patience-9": ("early stopping fires after 9 validation checks without a new best, not 10",
                   "stop when the last 10 checks all failed to beat the best loss (count to 10)"),
    "patience-in-epochs": ("early stopping counts epochs, not validation checks",
                           "count the validation checks (5 per epoch) since the best validation loss"),
    "no-early-stopping": ("early stopping never fires",
                          "in train(), stop when 10 validation checks in a row bring no new best loss"),
    "shuffle-separates": ("the shuffle moves the images and the labels apart",
                          "draw one permutation and index both X and Y with it"),
    "shuffle-repeats": ("every epoch is shuffled into the same order (np.random is reseeded each time)",
                        "seed once, at the start of the script, not inside the loader or the trainer"),
    "shuffle-unseeded": ("the shuffle does not follow np.random's seed, so runs cannot be reproduced",
                         "shuffle with np.random (the task modules seed it) or a generator seeded once"),
    "no-shuffle": ("shuffle_dataset=True does not shuffle",
                   "permute the indices each epoch when shuffle is True (np.random.shuffle(indices))"),
    "shuffles-when-told-not-to": ("the data is shuffled although shuffle_dataset is False",
                                  "shuffle only when asked: task 2b compares the two"),
    "changes-inputs": ("the function changes the arrays it was given",
                       "work on a copy (X = X.astype(float) makes one) instead of writing into the input"),
    "weights-not-updated": ("train_step does not change the weights",
                            "do model.w = model.w - learning_rate * model.grad after backward"),
}


def describe(key):
    """'name of the mistake: fix' in one sentence, for a FAIL line."""
    what, fix = MISTAKES[key]
    return f"known mistake: {what}; {fix}."
