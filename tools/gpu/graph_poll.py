#!/usr/bin/env python3
"""A CUDA Graph replayed with cudaEventQuery polling, under torch.profiler.

The structure serving engines give their traces (vLLM, SGLang): a decode-like
step (a small MLP, several kernels) captured once as a CUDA Graph and
replayed, each replay followed by an event the host polls with
`Event.query()` until it completes. Writes a Kineto Chrome trace for
`cotenant import kineto` (issue 14: graph launches, polls as host waits).

usage: graph_poll.py OUT.json [--replays N] [--hidden H] [--batch B]
"""
import argparse
import sys
import time


def main(argv):
    p = argparse.ArgumentParser(prog="graph_poll.py")
    p.add_argument("out")
    p.add_argument("--replays", type=int, default=8)
    p.add_argument("--hidden", type=int, default=4096)
    p.add_argument("--batch", type=int, default=8)
    a = p.parse_args(argv)
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    dev = torch.device("cuda")
    h = a.hidden
    layers = [torch.nn.Linear(h, h, bias=False, device=dev, dtype=torch.float16) for _ in range(4)]
    x = torch.randn(a.batch, h, device=dev, dtype=torch.float16)

    def step():
        y = x
        for layer in layers:
            y = torch.nn.functional.silu(layer(y))
        return y

    with torch.inference_mode():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = step()
        torch.cuda.synchronize()
        polls = 0
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(a.replays):
                graph.replay()
                done = torch.cuda.Event()
                done.record()
                while not done.query():
                    polls += 1
                    time.sleep(0)
                out.sum().item()  # a small kernel and a copy back, as sampling does
        prof.export_chrome_trace(a.out)
    print(f"graph_poll.py: {a.replays} graph replays, {polls} polls -> {a.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
