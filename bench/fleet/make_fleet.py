#!/usr/bin/python3
"""Writes the benchmark fleets bench/fleet/fleet_N.json (N = 16, 32, 64, 128 models).

  bench/fleet/make_fleet.py [N ...]

Each fleet mixes vision models, BERT-class encoders and small LLMs (the zoo
and LLM models `cotenant synth` knows) with request rates drawn from a fixed
seed, on N/2 GPUs: half A100-SXM4-40GB, half H100 SXM, A100s listed first
(taken first). The mix, SLOs and memory per model are this benchmark's
choices (assumptions of a plausible inference fleet), not measurements:
SLOs are a few times each model's latency alone on an A100, memory is the
weights plus workspace, rounded up.
"""
import json
import os
import random
import sys

# (zoo model, batch, SLO ms, memory GiB, rate range req/s)
VISION = [
    ("resnet50", 8, 30, 2, (20, 120)),
    ("resnet101", 8, 50, 2, (10, 60)),
    ("mobilenetv2", 8, 15, 1, (40, 200)),
    ("vgg16", 8, 80, 3, (5, 30)),
    ("inception_v3", 8, 40, 2, (10, 60)),
]
BERT = [("bert-base", 8, 40, 2, (10, 80))]
# (LLM, memory GiB, rate range req/s, TTFT ms, TPOT ms)
LLMS = [("llama-3.2-1b", 8, (0.5, 3), 500, 50), ("llama-3.2-3b", 16, (0.3, 1.5), 800, 60)]


def fleet(n, seed=1):
    rng = random.Random(seed)
    models = []
    for i in range(n):
        r = i % 8
        if r < 5:
            zoo, batch, slo, mem, (lo, hi) = VISION[rng.randrange(len(VISION))]
        elif r < 7:
            zoo, batch, slo, mem, (lo, hi) = BERT[0]
        else:
            llm, mem, (lo, hi), ttft, tpot = LLMS[rng.randrange(len(LLMS))]
            models.append({
                "name": "%s-%d" % (llm, i), "kind": "llm", "model": llm,
                "rate_hz": round(rng.uniform(lo, hi), 2), "memory_gib": mem,
                "prompt_tokens": {"kind": "uniform", "min": 64, "max": 512, "seed": i + 1},
                "output_tokens": {"kind": "uniform", "min": 16, "max": 128, "seed": i + 1},
                "slo": {"ttft_ms": ttft, "tpot_ms": tpot}})
            continue
        models.append({"name": "%s-%d" % (zoo, i), "zoo": zoo, "batch": batch,
                       "rate_hz": round(rng.uniform(lo, hi), 1), "slo_ms": slo,
                       "memory_gib": mem})
    gpus = max(2, n // 2)
    return {"schema": "cotenant.fleet/1",
            "gpus": [{"gpu": "a100-sxm4-40g", "count": gpus // 2},
                     {"gpu": "h100-sxm", "count": gpus - gpus // 2}],
            "models": models, "seed": 1}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [16, 32, 64, 128]
    here = os.path.dirname(os.path.abspath(__file__))
    for n in sizes:
        path = os.path.join(here, "fleet_%d.json" % n)
        with open(path + ".tmp", "w") as f:
            json.dump(fleet(n), f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        print(path)


if __name__ == "__main__":
    main()
