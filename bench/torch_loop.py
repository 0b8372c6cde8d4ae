"""The PyTorch training loop that bench/course_run_torch.py (the course MLP) and bench/cnn_run_other.py
(the Fashion-MNIST CNN) time: every epoch reshuffles the training set and gathers each batch by index,
calls `loss.item()` every step (as a progress bar needs), then runs a validation pass over the test set
(batch max(batch, 256), as nnlab's). Prints one JSON object per epoch: its seconds (training +
validation, as a progress bar counts an epoch), the training part alone, and the epoch's loss and
accuracies.
"""
import json
import time


def fit_timed(torch, model, opt, loss_fn, train, test, batch, epochs, common):
    (x_train, y_train), (x_test, y_test) = train, test
    n, val_batch = x_train.shape[0], max(batch, 256)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for b in range(0, n, batch):
            idx = order[b:b + batch]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        t1 = time.perf_counter()
        model.eval()
        vloss, vcorrect = 0.0, 0
        with torch.inference_mode():
            for b in range(0, x_test.shape[0], val_batch):
                out = model(x_test[b:b + val_batch])
                yb = y_test[b:b + val_batch]
                vloss += loss_fn(out, yb).item() * len(yb)
                vcorrect += (out.argmax(1) == yb).sum().item()
        t2 = time.perf_counter()
        print(json.dumps({**common, "kind": "epoch", "epoch": epoch + 1, "seconds": t2 - t0, "train_seconds": t1 - t0,
                          "steps": (n + batch - 1) // batch, "loss": loss_sum / n, "accuracy": correct / n,
                          "val_loss": vloss / len(y_test), "val_accuracy": vcorrect / len(y_test)}), flush=True)
