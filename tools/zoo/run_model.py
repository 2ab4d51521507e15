#!/usr/bin/env python3
"""Run one model-zoo model in inference, for `cotenant profile`.

Builds the model with random weights (nothing is downloaded), runs warm-up
requests, then exactly one steady-state request (--iters of them) inside a
profiler window:

  torch.cuda.synchronize()
  with torch.autograd.profiler.emit_nvtx():      # an NVTX range per operator
      torch.cuda.profiler.start()                # cudaProfilerStart (--window profiler)
      nvtx push "cotenant.request"
      model(inputs); torch.cuda.synchronize()    # the request, until its result is ready
      nvtx pop
      torch.cuda.profiler.stop()                 # cudaProfilerStop

Profile it with
  cotenant profile --nvtx --window profiler --tenant resnet50 -o resnet50_b8.json -- \\
      python3 tools/zoo/run_model.py --model resnet50 --batch 8
or, with --window range, cut the trace to the NVTX range instead:
  cotenant profile --nvtx --window range:cotenant.request -o ... -- \\
      python3 tools/zoo/run_model.py --model resnet50 --batch 8 --window range

--kineto OUT.json captures the same request with torch.profiler instead and
writes a Chrome trace for `cotenant import kineto OUT.json -o T.json`.
"""

import argparse
import os
import sys
import time

PROG = "run_model.py"
REQUEST_RANGE = "cotenant.request"

# Canonical name -> (library, input description). Names match traces/synthetic.
MODELS = {
    "resnet50": "torchvision",
    "mobilenetv2": "torchvision",
    "vgg16": "torchvision",
    "inceptionv3": "torchvision",
    "densenet121": "torchvision",
    "bert-base": "transformers",
}
ALIASES = {
    "resnet-50": "resnet50",
    "mobilenet_v2": "mobilenetv2",
    "mobilenet-v2": "mobilenetv2",
    "inception_v3": "inceptionv3",
    "inception-v3": "inceptionv3",
    "densenet-121": "densenet121",
    "bert": "bert-base",
    "bert_base": "bert-base",
    "bert-base-uncased": "bert-base",
}
BERT_SEQ_LEN = 128


def fail(message, status=1):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(status)


def model_name(text):
    name = ALIASES.get(text.lower(), text.lower())
    if name not in MODELS:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; expected one of {', '.join(MODELS)}")
    return name


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {value}")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {value}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run one model-zoo model in inference (random weights, no downloads) with "
        "warm-up, NVTX operator labels and a profiler window around one steady-state request.",
        epilog="Models: " + ", ".join(MODELS) + ". Inputs: 3x224x224 images (3x299x299 for "
        f"inceptionv3); BERT-base token ids of length {BERT_SEQ_LEN}.")
    p.add_argument("--model", required=True, type=model_name, help="model to run")
    p.add_argument("--batch", required=True, type=positive_int, help="batch size")
    p.add_argument("--warmup", type=non_negative_int, default=20,
                   help="warm-up requests before the profiled one (default 20)")
    p.add_argument("--iters", type=positive_int, default=1,
                   help="profiled requests, each in its own NVTX range (default 1: a "
                   "cotenant trace holds one request)")
    p.add_argument("--window", choices=["profiler", "range", "none"], default="profiler",
                   help="profiler: cudaProfilerStart/Stop around the request (cotenant "
                   f"profile --window profiler); range: only the NVTX range {REQUEST_RANGE!r} "
                   f"(cotenant profile --window range:{REQUEST_RANGE}); none: plain inference, "
                   "no NVTX and no window, for timing (bench/profiler_overhead.sh) "
                   "(default profiler)")
    p.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32",
                   help="weights and activations (default fp32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs (default 0)")
    p.add_argument("--kineto", metavar="OUT.json",
                   help="capture the request with torch.profiler (CPU+CUDA, record_shapes) "
                   "and export a Chrome trace for `cotenant import kineto`, instead of the "
                   "cudaProfilerStart window and NVTX labels")
    return p.parse_args(argv)


def import_torch(model):
    """Imports torch and the model's library, or exits with what is missing."""
    try:
        import torch
    except ImportError as e:
        fail(f"PyTorch is not installed (import torch: {e}); install torch with CUDA support")
    if MODELS[model] == "torchvision":
        try:
            import torchvision  # noqa: F401
        except ImportError as e:
            fail(f"{model} needs torchvision, which is not installed (import torchvision: {e})")
    else:
        try:
            import transformers  # noqa: F401
        except ImportError as e:
            fail(f"{model} needs transformers, which is not installed (import transformers: {e})")
    if not torch.cuda.is_available():
        fail("PyTorch sees no CUDA device (torch.cuda.is_available() is False; torch "
             f"{torch.__version__}, built for CUDA {torch.version.cuda})")
    return torch


def build(torch, name, batch, dtype, device):
    """The model in eval mode on `device`, and its inputs as keyword arguments."""
    if MODELS[name] == "torchvision":
        from torchvision import models
        if name == "resnet50":
            model = models.resnet50(weights=None)
        elif name == "mobilenetv2":
            model = models.mobilenet_v2(weights=None)
        elif name == "vgg16":
            model = models.vgg16(weights=None)
        elif name == "densenet121":
            model = models.densenet121(weights=None)
        else:  # inceptionv3: no aux head; init_weights=False avoids scipy's truncnorm
            model = models.inception_v3(weights=None, aux_logits=False, init_weights=False)
        size = 299 if name == "inceptionv3" else 224
        model = model.to(device=device, dtype=dtype).eval()
        x = torch.randn(batch, 3, size, size, device=device, dtype=dtype)
        return model, {"x": x}, f"images {batch}x3x{size}x{size}"
    from transformers import BertConfig, BertModel
    config = BertConfig()  # BERT-base: 12 layers, hidden 768, 12 heads, vocab 30522
    model = BertModel(config).to(device=device, dtype=dtype).eval()
    ids = torch.randint(0, config.vocab_size, (batch, BERT_SEQ_LEN), device=device)
    inputs = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
    }
    return model, inputs, f"token ids {batch}x{BERT_SEQ_LEN}"


def main(argv):
    args = parse_args(argv)
    # Never reach for the network: everything is built from code and configs.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch = import_torch(args.model)

    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = False  # same algorithms every run
    device = torch.device("cuda")
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    model, inputs, what = build(torch, args.model, args.batch, dtype, device)
    params = sum(p.numel() for p in model.parameters())
    print(f"{PROG}: {args.model} ({params / 1e6:.1f} M parameters, random weights) batch "
          f"{args.batch} {args.dtype} on {torch.cuda.get_device_name(device)}; inputs {what}",
          flush=True)

    with torch.inference_mode():
        for _ in range(args.warmup):
            model(**inputs)
        torch.cuda.synchronize()

        times = []
        if args.kineto:
            from torch.profiler import ProfilerActivity, profile, record_function
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                         record_shapes=True) as prof:
                for _ in range(args.iters):
                    t0 = time.perf_counter()
                    with record_function(REQUEST_RANGE):
                        model(**inputs)
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - t0)
            prof.export_chrome_trace(args.kineto)
            where = f"torch.profiler, Chrome trace written to {args.kineto}"
        elif args.window == "none":
            t_all = time.perf_counter()
            for _ in range(args.iters):
                t0 = time.perf_counter()
                model(**inputs)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t0)
            total = time.perf_counter() - t_all
            print(f"{PROG}: total {total * 1e3:.3f} ms for {args.iters} requests", flush=True)
            where = "no window, no NVTX"
        else:
            # emit_nvtx synchronizes the device when it starts and stops: keep
            # that outside the window.
            with torch.autograd.profiler.emit_nvtx():
                if args.window == "profiler":
                    torch.cuda.profiler.start()
                for _ in range(args.iters):
                    t0 = time.perf_counter()
                    torch.cuda.nvtx.range_push(REQUEST_RANGE)
                    model(**inputs)
                    torch.cuda.synchronize()
                    torch.cuda.nvtx.range_pop()
                    times.append(time.perf_counter() - t0)
                if args.window == "profiler":
                    torch.cuda.profiler.stop()
            where = f"NVTX range {REQUEST_RANGE!r}, emit_nvtx operator labels"
            if args.window == "profiler":
                where = "cudaProfilerStart/Stop window, " + where

    ms = ", ".join(f"{t * 1e3:.2f}" for t in times[:8]) + (", ..." if len(times) > 8 else "")
    print(f"{PROG}: {args.warmup} warm-up requests, then {args.iters} profiled request(s) "
          f"({where}): {ms} ms wall time each, profiler overhead included", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
