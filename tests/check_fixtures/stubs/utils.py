"""Unfinished (a fixture): batches in order, no shuffling yet."""


def batch_loader(X, Y, batch_size, shuffle=False, drop_last=True):
    for i in range(len(X) // batch_size):
        yield X[i * batch_size:(i + 1) * batch_size], Y[i * batch_size:(i + 1) * batch_size]
