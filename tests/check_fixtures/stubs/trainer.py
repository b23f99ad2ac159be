"""Unfinished (a fixture): the loop without early stopping."""
import utils


class BaseTrainer:

    def __init__(self, model, learning_rate, batch_size, shuffle_dataset, X_train, Y_train, X_val, Y_val):
        self.X_train, self.Y_train, self.X_val, self.Y_val = X_train, Y_train, X_val, Y_val
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.model, self.shuffle_dataset = model, shuffle_dataset

    def train(self, num_epochs):
        steps_per_val = (self.X_train.shape[0] // self.batch_size) // 5
        train_history, val_history = dict(loss={}, accuracy={}), dict(loss={}, accuracy={})
        step = 0
        for _ in range(num_epochs):
            for X_batch, Y_batch in utils.batch_loader(self.X_train, self.Y_train, self.batch_size,
                                                       shuffle=self.shuffle_dataset):
                train_history["loss"][step] = self.train_step(X_batch, Y_batch)
                if step % steps_per_val == 0:
                    val_loss, acc_train, acc_val = self.validation_step()
                    train_history["accuracy"][step] = acc_train
                    val_history["loss"][step], val_history["accuracy"][step] = val_loss, acc_val
                step += 1
        return train_history, val_history
