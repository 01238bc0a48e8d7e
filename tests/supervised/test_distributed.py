"""DDP: two gloo processes with batch B end with the weights of one process with batch 2B."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bioSNN.supervised import ClassReadout, GuidedBilayer, LossSpec, TrainConfig, Trainer

from .helpers import toy_guidance, toy_split


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(out, batch_size):
    torch.manual_seed(0)
    net = GuidedBilayer(12, 2, dynamics="model", w_init=2.0)
    config = TrainConfig(epochs=2, batch_size=batch_size, lr=0.05, progress=False)
    trainer = Trainer(net, LossSpec.parse("huber-guidance", rows="all"), ClassReadout.identity(2), toy_split(), out,
                      config=config, guidance=toy_guidance())
    trainer.fit()
    return net


def _worker(rank, world, port, out, result):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        net = _train(out, 4)
        if rank == 0:
            torch.save(net.state_dict(), result)
        dist.barrier()  # neither process tears the group down while the other still uses it
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_two_process_ddp_matches_single_process_with_doubled_batch(tmp_path):
    result = tmp_path / "ddp.pt"
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "ddp"), str(result)), nprocs=2, join=True)
    single = _train(tmp_path / "single", 8).state_dict()
    ddp = torch.load(result)
    for k in single:
        torch.testing.assert_close(ddp[k], single[k], rtol=1e-5, atol=1e-6)
    assert not torch.equal(single["weight"], _initial_weight()), "training changed nothing: the test would be vacuous"


def _initial_weight():
    torch.manual_seed(0)
    return GuidedBilayer(12, 2, dynamics="model", w_init=2.0).weight.detach()
