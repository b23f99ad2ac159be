"""The training loop (a fixture: the starter's trainer.py with early stopping)."""
import numpy as np
import utils


class BaseTrainer:

    def __init__(self, model, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val):
        self.X_train, self.Y_train, self.X_val, self.Y_val = X_train, Y_train, X_val, Y_val
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.model, self.shuffle_dataset = model, shuffle_dataset
        self.patience = 10

    def train(self, num_epochs):
        num_batches_per_epoch = self.X_train.shape[0] // self.batch_size
        num_steps_per_val = num_batches_per_epoch // 5
        train_history = dict(loss={}, accuracy={})
        val_history = dict(loss={}, accuracy={})
        best, since_best = np.inf, 0
        global_step = 0
        for epoch in range(num_epochs):
            loader = utils.batch_loader(self.X_train, self.Y_train, self.batch_size, shuffle=self.shuffle_dataset)
            for X_batch, Y_batch in loader:
                train_history["loss"][global_step] = self.train_step(X_batch, Y_batch)
                if global_step % num_steps_per_val == 0:
                    val_loss, accuracy_train, accuracy_val = self.validation_step()
                    train_history["accuracy"][global_step] = accuracy_train
                    val_history["loss"][global_step] = val_loss
                    val_history["accuracy"][global_step] = accuracy_val
                    if val_loss < best:
                        best, since_best = val_loss, 0
                    else:
                        since_best += 1
                    if since_best >= self.patience:
                        return train_history, val_history
                global_step += 1
        return train_history, val_history
