"""Networks loaded from weights skip torch's initialisation, in the loading thread only."""

from __future__ import annotations

import threading

import torch

from workbench.models.builders.no_init import skipped_init


def test_init_functions_leave_the_tensor_alone_inside_the_block_and_initialise_outside():
    tensor = torch.zeros(4, 4)
    with skipped_init():
        torch.nn.init.normal_(tensor)
        torch.nn.init.xavier_uniform_(tensor)
        assert torch.equal(tensor, torch.zeros(4, 4))
    torch.nn.init.normal_(tensor)
    assert not torch.equal(tensor, torch.zeros(4, 4))


def test_another_thread_initialises_as_usual_while_one_thread_skips():
    inside, started, other = threading.Event(), threading.Event(), {}

    def train_elsewhere() -> None:
        inside.wait(5)
        torch.manual_seed(0)
        other["weight"] = torch.nn.Linear(8, 8).weight.detach().clone()
        started.set()

    thread = threading.Thread(target=train_elsewhere)
    thread.start()
    with skipped_init():
        inside.set()
        assert started.wait(5)
    thread.join()
    torch.manual_seed(0)
    assert torch.equal(other["weight"], torch.nn.Linear(8, 8).weight.detach())  # a normal, seeded initialisation
    assert other["weight"].abs().sum() > 0
