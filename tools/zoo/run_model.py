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
    "llama-1b-prefill": "transformers",
    "llama-1b-decode": "transformers",
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
    "llama3.2-1b-prefill": "llama-1b-prefill",
    "llama3.2-1b-decode": "llama-1b-decode",
}
BERT_SEQ_LEN = 128
# Llama-3.2-1B-shaped decoder (the published config.json of
# meta-llama/Llama-3.2-1B): 16 layers, hidden 2048, FFN 8192, 32 query heads
# and 8 key/value heads of 64, vocabulary 128256, tied embeddings. The rope
# scaling (llama3, factor 32) is left out: it changes the rotary
# frequencies' values, computed once, not the kernels of a forward pass.
LLAMA_1B = {
    "vocab_size": 128256,
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": True,
}
# Prompt length of the prefill, and the KV-cache length a decode step reads.
LLAMA_PROMPT_LEN = 128


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
        f"inceptionv3); BERT-base token ids of length {BERT_SEQ_LEN}; Llama-3.2-1B-shaped "
        f"decoder (built from a LlamaConfig): prefill of a {LLAMA_PROMPT_LEN}-token prompt, or "
        f"one decode step against a {LLAMA_PROMPT_LEN}-token KV cache.")
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


class Request:
    """One inference request of a built model: `call()` enqueues it (no
    synchronization), `reset()` restores the model's state afterwards (the
    decode step's KV cache back to the prompt; a no-op elsewhere) and
    enqueues no GPU work."""

    def __init__(self, model, call, reset, what):
        self.model = model
        self.call = call
        self.reset = reset
        self.what = what


def _no_reset():
    pass


def _logits_to_keep(model):
    """{'logits_to_keep': 1} where the forward takes it (the last position's
    logits only, as generation computes them), else {}."""
    import inspect
    params = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: 1}
    return {}


def build_llama(torch, dtype, device):
    """The Llama-3.2-1B-shaped decoder with random weights, built on `device`
    in `dtype` directly (no float32 copy on the CPU)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(**LLAMA_1B)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    return model.to(device=device, dtype=dtype).eval()


def llama_request(torch, model, name, batch, device):
    """Prefill: a prompt of LLAMA_PROMPT_LEN tokens, KV cache built, last
    logits. Decode: one token per sequence against a KV cache of
    LLAMA_PROMPT_LEN tokens (built once here); reset() crops the cache back."""
    keep = _logits_to_keep(model)
    vocab = LLAMA_1B["vocab_size"]
    prompt = torch.randint(0, vocab, (batch, LLAMA_PROMPT_LEN), device=device)
    if name == "llama-1b-prefill":
        def call():
            return model(input_ids=prompt, use_cache=True, **keep)
        return Request(model, call, _no_reset, f"prompt {batch}x{LLAMA_PROMPT_LEN} tokens")

    token = torch.randint(0, vocab, (batch, 1), device=device)
    state = {}

    def prefill():
        with torch.inference_mode():
            state["cache"] = model(input_ids=prompt, use_cache=True, **keep).past_key_values

    prefill()

    def call():
        return model(input_ids=token, past_key_values=state["cache"], use_cache=True, **keep)

    def reset():
        cache = state["cache"]
        if hasattr(cache, "crop"):
            cache.crop(LLAMA_PROMPT_LEN)  # views only: no GPU work
        else:  # an older cache class: build it again (GPU work, outside any timing)
            prefill()

    return Request(model, call, reset,
                   f"one token x{batch} against a {LLAMA_PROMPT_LEN}-token KV cache")


def build_request(torch, name, batch, dtype, device, model=None):
    """The model in eval mode on `device` and one request of it. `model`, if
    given, is an already built model of the same family (the two Llama
    phases share one)."""
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
        return Request(model, lambda: model(x), _no_reset, f"images {batch}x3x{size}x{size}")
    if name.startswith("llama-1b-"):
        if model is None:
            model = build_llama(torch, dtype, device)
        return llama_request(torch, model, name, batch, device)
    from transformers import BertConfig, BertModel
    config = BertConfig()  # BERT-base: 12 layers, hidden 768, 12 heads, vocab 30522
    model = BertModel(config).to(device=device, dtype=dtype).eval()
    ids = torch.randint(0, config.vocab_size, (batch, BERT_SEQ_LEN), device=device)
    inputs = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
    }
    return Request(model, lambda: model(**inputs), _no_reset, f"token ids {batch}x{BERT_SEQ_LEN}")


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
    request = build_request(torch, args.model, args.batch, dtype, device)
    model, what = request.model, request.what
    params = sum(p.numel() for p in model.parameters())
    print(f"{PROG}: {args.model} ({params / 1e6:.1f} M parameters, random weights) batch "
          f"{args.batch} {args.dtype} on {torch.cuda.get_device_name(device)}; inputs {what}",
          flush=True)

    with torch.inference_mode():
        for _ in range(args.warmup):
            request.call()
            torch.cuda.synchronize()
            request.reset()

        times = []
        if args.kineto:
            from torch.profiler import ProfilerActivity, profile, record_function
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                         record_shapes=True) as prof:
                for _ in range(args.iters):
                    t0 = time.perf_counter()
                    with record_function(REQUEST_RANGE):
                        request.call()
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - t0)
                    request.reset()
            prof.export_chrome_trace(args.kineto)
            where = f"torch.profiler, Chrome trace written to {args.kineto}"
        elif args.window == "none":
            t_all = time.perf_counter()
            for _ in range(args.iters):
                t0 = time.perf_counter()
                request.call()
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t0)
                request.reset()
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
                    request.call()
                    torch.cuda.synchronize()
                    torch.cuda.nvtx.range_pop()
                    times.append(time.perf_counter() - t0)
                    request.reset()
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
