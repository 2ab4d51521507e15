#!/usr/bin/python3
"""Plot a `cotenant search` or `cotenant fleet` result as PNGs.

  tools/plot.py REPORT.json [--curves R2.json ...] [--timeline NAME=FILE ...] -o OUTDIR

REPORT.json is a search report (`cotenant search --json`, schema
cotenant.search/1). Writes

  OUTDIR/curve.png  the best-so-far objective against simulations done, one
                    line per report (REPORT.json and each --curves report:
                    runs of other strategies or seeds on the same workload
                    and objective); the baselines of REPORT.json as dashed
                    lines; the lower bound (the native plan's, and the best
                    plan's where it differs) as dotted lines when the
                    objective is the makespan. For `slo`, the makespan that
                    breaks ties has a panel of its own, bounds included.
  OUTDIR/gantt.png  with --timeline: the GPU tasks of each timeline, one row
                    per tenant stream, one panel per timeline in the order
                    given, all on one time axis in ms, coloured by tenant,
                    each makespan marked.

REPORT.json may instead be a fleet report (`cotenant fleet --json`, schema
cotenant.fleet-result/1); then it writes

  OUTDIR/fleet.png  one panel per placement (cotenant's, one model per GPU,
                    bin packing, bin packing tightened): one bar per GPU used,
                    stacked by its model replicas' utilisation alone (what bin
                    packing adds up), coloured by model, the GPU's utilisation
                    simulated with them together marked, GPUs that miss an
                    SLO hatched, the GPU kind under each bar.

The report holds plans and results, not timelines, so they are given as
files (Chrome trace-event JSON, as `--timeline` of `search` and `simulate`
write them), e.g.

  cotenant search -w W.json --json r.json --timeline best.json
  cotenant simulate -w W.json --plan native --timeline native.json
  tools/plot.py r.json --timeline native=native.json --timeline best=best.json -o plots

A NAME that is `best` or the name of a baseline of REPORT.json takes that
plan's makespan and objective from the report (`NAME=` may be left out: the
file name is used). The timelines must come from the same workload and
request counts as the report: after `search --requests N`, simulate a copy
of the workload with N requests per tenant.
"""

import argparse
import gzip
import json
import os
import sys

PROG = "plot.py"
SEARCH_SCHEMA = "cotenant.search/1"
FLEET_SCHEMA = "cotenant.fleet-result/1"
DPI = 110

# Objective name -> (axis label, unit, factor from the report's value to the unit).
OBJECTIVES = {
    "makespan": ("makespan", "ms", 1e-6),
    "mean_latency": ("weighted mean latency", "ms", 1e-6),
    "p99_latency": ("weighted p99 latency", "ms", 1e-6),
    "throughput": ("weighted throughput", "requests/s", 1.0),
    "slo": ("weighted SLO misses", "", 1.0),
}


class PlotError(Exception):
    """A problem with an input or output, reported on one line."""


def fail(message, status=1):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(status)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block)."""

    def error(self, message):
        fail(f"{message} (see {PROG} --help)", 2)


def parse_args(argv):
    p = Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plot a cotenant search report: best-so-far curves and a Gantt chart.",
        epilog="example:\n  tools/plot.py r.json --curves r-random.json "
        "--timeline native=native.json --timeline best=best.json -o plots",
    )
    p.add_argument(
        "report",
        help="search report (cotenant search --json, cotenant.search/1) or fleet report "
        "(cotenant fleet --json, cotenant.fleet-result/1)",
    )
    p.add_argument(
        "--curves",
        nargs="+",
        default=[],
        metavar="REPORT",
        help="more search reports of the same workload and objective, for their curves "
        "(give REPORT before --curves)",
    )
    p.add_argument(
        "--timeline",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="a timeline (trace-event JSON from --timeline) for the Gantt chart; "
        "repeatable, drawn top to bottom in the order given",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the PNGs")
    p.add_argument(
        "--linear-x", action="store_true", help="linear simulation axis (default: logarithmic)"
    )
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# Inputs


def read_json(path):
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise PlotError(f"{path}: cannot open: {e.strerror or e}") from None
    except (EOFError, UnicodeDecodeError) as e:
        raise PlotError(f"{path}: cannot read: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise PlotError(f"{path}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None


def describe(value):
    if isinstance(value, str):
        return json.dumps(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return "an array" if isinstance(value, list) else "an object"


def field(doc, path, key, kind, where):
    """doc[key], checked to be of `kind` (a type or tuple of types)."""
    if key not in doc:
        raise PlotError(f"{path}: {where}{key}: missing required field")
    value = doc[key]
    ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in _tuple(kind))
    if not ok:
        names = {dict: "an object", list: "an array", str: "a string", int: "a number",
                 float: "a number"}
        want = " or ".join(dict.fromkeys(names[k] for k in _tuple(kind)))
        raise PlotError(f"{path}: {where}{key}: expected {want}, found {describe(value)}")
    return value


def _tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)


NUMBER = (int, float)


def read_report(path):
    """The parts of a cotenant.search/1 report that the plots use, checked."""
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise PlotError(f"{path}: expected a search report (a JSON object), found {describe(doc)}")
    schema = doc.get("schema")
    if schema != SEARCH_SCHEMA:
        raise PlotError(
            f"{path}: schema: expected {json.dumps(SEARCH_SCHEMA)}, found "
            + ("nothing" if "schema" not in doc else describe(schema))
        )
    objective = field(doc, path, "objective", str, "")
    if objective not in OBJECTIVES:
        raise PlotError(
            f"{path}: objective: expected one of {', '.join(OBJECTIVES)}, "
            f"found {json.dumps(objective)}"
        )
    r = {
        "path": path,
        "objective": objective,
        "workload": field(doc, path, "workload", str, ""),
        "gpu": field(doc, path, "gpu", str, ""),
        "strategy": field(doc, path, "strategy", str, ""),
        "requested": doc.get("requested_strategy", ""),
        "seed": doc.get("seed"),
        "threads": doc.get("threads"),
        "evaluations": field(doc, path, "evaluations", int, ""),
        "lower_bound_ns": field(doc, path, "lower_bound_ns", int, ""),
    }
    best = field(doc, path, "best", dict, "")
    r["best"] = {
        "objective": field(best, path, "objective", NUMBER, "best."),
        "tie": best.get("tie", 0.0),
        "found_by": best.get("found_by", ""),
        "makespan_ns": field(field(best, path, "result", dict, "best."), path, "makespan_ns", int,
                             "best.result."),
        "lower_bound_ns": best.get("result", {}).get("lower_bound_ns"),
        "requests": _requests(best["result"]),
    }
    r["baselines"] = []
    for i, b in enumerate(field(doc, path, "baselines", list, "")):
        where = f"baselines[{i}]."
        if not isinstance(b, dict):
            raise PlotError(f"{path}: baselines[{i}]: expected an object, found {describe(b)}")
        name = field(b, path, "name", str, where)
        if "missing" in b:
            continue
        res = field(b, path, "result", dict, where)
        r["baselines"].append({
            "name": name,
            "objective": field(b, path, "objective", NUMBER, where),
            "makespan_ns": field(res, path, "makespan_ns", int, where + "result."),
        })
    r["curve"] = []
    for i, pt in enumerate(field(doc, path, "curve", list, "")):
        where = f"curve[{i}]."
        if not isinstance(pt, dict):
            raise PlotError(f"{path}: curve[{i}]: expected an object, found {describe(pt)}")
        r["curve"].append({
            "evaluation": field(pt, path, "evaluation", int, where),
            "objective": field(pt, path, "objective", NUMBER, where),
            "tie": field(pt, path, "tie", NUMBER, where),
            "strategy": pt.get("strategy", ""),
        })
    if not r["curve"]:
        raise PlotError(f"{path}: curve: expected at least one point, found none")
    return r


def _requests(result):
    tenants = result.get("tenants")
    if not isinstance(tenants, dict):
        return None
    return {k: v.get("requests") for k, v in tenants.items() if isinstance(v, dict)}


def parse_timeline_arg(text):
    name, sep, path = text.partition("=")
    if not sep:
        path = text
        base = os.path.basename(text)
        for ext in (".gz", ".json"):
            if base.endswith(ext):
                base = base[: -len(ext)]
        name = base
    if not name or not path:
        raise PlotError(f"--timeline {text}: expected NAME=FILE or FILE")
    return name, path


def read_timeline(path):
    """Tracks of GPU tasks: [(tenant, track name, [(start_ms, end_ms), ...])], in pid/tid order."""
    doc = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        raise PlotError(
            f"{path}: expected a trace-event timeline (an object with a \"traceEvents\" array, "
            "as --timeline writes)"
        )
    tenants, tracks, spans, requests = {}, {}, {}, {}
    end_ms = 0.0
    for i, e in enumerate(doc["traceEvents"]):
        if not isinstance(e, dict):
            raise PlotError(f"{path}: traceEvents[{i}]: expected an object, found {describe(e)}")
        ph = e.get("ph")
        pid, tid = e.get("pid"), e.get("tid")
        if ph == "M":
            name = (e.get("args") or {}).get("name")
            if e.get("name") == "process_name" and isinstance(name, str):
                tenants[pid] = name[len("tenant "):] if name.startswith("tenant ") else name
            elif e.get("name") == "thread_name" and isinstance(name, str):
                tracks[(pid, tid)] = name
            continue
        if ph != "X":
            continue
        ts, dur = e.get("ts"), e.get("dur")
        if not all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in (ts, dur)):
            raise PlotError(
                f"{path}: traceEvents[{i}]: expected numbers \"ts\" and \"dur\" (µs), "
                f"found {describe(ts)} and {describe(dur)}"
            )
        end_ms = max(end_ms, (ts + dur) / 1e3)
        request = (e.get("args") or {}).get("request")
        if isinstance(request, int):
            requests[pid] = max(requests.get(pid, 0), request + 1)
        if e.get("cat") in ("launch", "sync"):  # host-side work
            continue
        spans.setdefault((pid, tid), []).append((ts / 1e3, (ts + dur) / 1e3))
    out = []
    for key in sorted(spans, key=lambda k: (_order(k[0]), _order(k[1]))):
        pid, tid = key
        track = tracks.get(key, f"track {tid}")
        if track.startswith("host thread"):
            continue
        out.append((tenants.get(pid, f"process {pid}"), track, sorted(spans[key])))
    if not out:
        raise PlotError(f"{path}: no GPU tasks in the timeline")
    counts = {tenants.get(pid, f"process {pid}"): n for pid, n in requests.items()}
    return out, end_ms, counts


def check_requests(path, counts, report):
    """A timeline must come from the report's workload, request counts included."""
    want = report["best"]["requests"]
    if not want:
        return
    for tenant, n in sorted(counts.items()):
        if tenant not in want:
            raise PlotError(
                f"{path}: tenant {json.dumps(tenant)} is not in {report['path']} "
                f"(its tenants: {', '.join(sorted(want))})"
            )
        if want[tenant] is not None and n != want[tenant]:
            raise PlotError(
                f"{path}: tenant {tenant} ran {n} requests, the plans of {report['path']} "
                f"{want[tenant]} (a timeline must come from the workload as searched, "
                "--requests included)"
            )


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


# ---------------------------------------------------------------------------
# Formatting


def fmt_ms(ms):
    if ms >= 1000:
        return f"{ms / 1000:.4g} s"
    if ms >= 1:
        return f"{ms:.4g} ms"
    return f"{ms * 1000:.4g} µs"


def fmt_objective(value, objective):
    _, unit, factor = OBJECTIVES[objective]
    if unit == "ms":
        return fmt_ms(value * factor)
    if objective == "throughput":
        return f"{value:.1f} req/s"
    return f"{value:.4g} weighted SLO misses"


def run_label(r, others):
    """The strategy of a run, with seed/threads when another run has the same strategy."""
    s = r["strategy"]
    if r["requested"] and r["requested"] != s:
        s = f"{s} ({r['requested']})"
    same = [o for o in others if o is not r and o["strategy"] == r["strategy"]]
    if same:
        if any(o["seed"] == r["seed"] for o in same):
            s += f" [{os.path.basename(r['path'])}]"
        else:
            s += f", seed {r['seed']}"
    return s


def write_png(fig, path):
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        fig.savefig(tmp, format="png", dpi=DPI)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise PlotError(f"{path}: cannot write: {e.strerror or e}") from None


# ---------------------------------------------------------------------------
# Curves


def plot_curves(plt, main, runs, out, log_x):
    from matplotlib.ticker import FuncFormatter

    objective = main["objective"]
    label, unit, factor = OBJECTIVES[objective]
    slo = objective == "slo"
    # For `slo` the tie (makespan) gets its own panel: improvements there are
    # invisible in the SLO misses.
    panels = [("objective", factor, f"{label}" + (f" ({unit})" if unit else ""))]
    if slo:
        panels.append(("tie", 1e-6, "its makespan, breaks ties (ms)"))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(13, 4.4 + 2.8 * (len(panels) - 1)), sharex=True, squeeze=False
    )
    axes = [a[0] for a in axes]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    max_x = max([1] + [max(r["evaluations"], r["curve"][-1]["evaluation"]) for r in runs])
    baseline_colors = ["#555555", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf"]
    for ax, (key, scale, ylabel) in zip(axes, panels):
        # The y range covers the curves from the best baseline on (the worse
        # baselines at evaluation 0 would flatten the part that matters), the
        # baselines near it and the lower bound; the others are listed as off scale.
        shown = []
        for i, r in enumerate(runs):
            xs = [p["evaluation"] for p in r["curve"]]
            ys = [p[key] * scale for p in r["curve"]]
            end = max(r["evaluations"], xs[-1])
            xs.append(end)
            ys.append(ys[-1])
            best = fmt_objective(r["best"]["objective"], objective)
            if slo:
                best = f"{r['best']['objective']:.4g} misses, {fmt_ms(r['best']['tie'] * 1e-6)}"
            c = colors[i % len(colors)]
            # The runs are in the first panel's legend only.
            text = f"{run_label(r, runs)}: best {best} after {r['evaluations']:,} sims"
            ax.step(xs, ys, where="post", color=c, linewidth=2, zorder=3 + len(runs) - i,
                    label=text if ax is axes[0] else "_nolegend_")
            ax.plot(xs[:-1], ys[:-1], "o", color=c, markersize=3.5, zorder=3 + len(runs) - i)
            first = max(k for k, x in enumerate(xs) if x == xs[0])
            shown += ys[first:]
        lo, hi = min(shown), max(shown)
        # The lower bound depends on the plan (batch splits change the SM-work):
        # the native plan's, and the best plan's where it differs.
        bounds = []
        if (key == "objective" and objective == "makespan") or key == "tie":
            bounds.append(("native plan", main["lower_bound_ns"] * 1e-6))
            best_bound = main["best"]["lower_bound_ns"]
            if isinstance(best_bound, int) and best_bound != main["lower_bound_ns"]:
                bounds.append(("best plan", best_bound * 1e-6))
            lo = min([lo] + [b for _, b in bounds])
        values = [
            (b["objective"] if key == "objective" else b["makespan_ns"]) * scale
            for b in main["baselines"]
        ]
        if slo and key == "objective":
            lo = 0.0  # no misses: the bound of a count
        span = max(hi - lo, abs(hi) * 0.01)
        near = [v for v in values if lo - span <= v <= hi + span]
        lo, hi = min([lo] + near), max([hi] + near)
        pad = max(hi - lo, span) * 0.08
        ylim = (lo - pad, hi + pad)
        for j, (b, v) in enumerate(zip(main["baselines"], values)):
            if key == "objective":
                text = fmt_objective(b["objective"], objective).replace(" weighted SLO", "")
            else:
                text = fmt_ms(b["makespan_ns"] * 1e-6)
            off = not (ylim[0] <= v <= ylim[1])
            ax.axhline(v, linestyle=(0, (6, 3)), linewidth=1.1, zorder=2,
                       color=baseline_colors[j % len(baseline_colors)],
                       label=f"baseline {b['name']}: {text}" + (" (off scale)" if off else ""))
        for k, (whose, b) in enumerate(bounds):
            ax.axhline(b, linestyle=":", linewidth=1.6, color=["black", "#d62728"][k], zorder=2,
                       label=f"lower bound of the {whose}: {fmt_ms(b)}")
        ax.set_ylim(*ylim)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    if log_x:
        for ax in axes:
            ax.set_xscale("symlog", linthresh=1, linscale=0.4)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        axes[-1].set_xlim(0, max_x * 1.08)
    else:
        axes[-1].set_xlim(0, max_x * 1.02)
    axes[-1].set_xlabel(
        "simulations done (0 = the baselines)" + (", log scale" if log_x else "")
    )
    direction = "higher" if objective == "throughput" else "lower"
    fig.suptitle(
        f"Best so far: {os.path.basename(main['workload'])} on {main['gpu']}, "
        f"objective {objective} ({direction} is better)",
        fontsize=11,
    )
    fig.tight_layout()
    path = os.path.join(out, "curve.png")
    write_png(fig, path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------
# Gantt


def merge(spans, gap):
    """Union of [start, end) spans, joining those less than `gap` apart."""
    out = []
    for s, e in spans:
        if out and s <= out[-1][1] + gap:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e - s) for s, e in out]


def plot_gantt(plt, main, timelines, out):
    from matplotlib.patches import Patch

    # Rows: every (tenant, track) of any timeline, tenants in the order first seen.
    tenant_order, rows = [], []
    for _, _, tracks, _ in timelines:
        for tenant, track, _ in tracks:
            if tenant not in tenant_order:
                tenant_order.append(tenant)
    for tenant in tenant_order:
        for _, _, tracks, _ in timelines:
            for t, track, _ in tracks:
                if t == tenant and (t, track) not in rows:
                    rows.append((t, track))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    color = {t: colors[i % len(colors)] for i, t in enumerate(tenant_order)}
    by_name = {b["name"]: b for b in main["baselines"]}

    spans_ms = []
    for name, _, _, end_ms in timelines:
        known = main["best"] if name == "best" else by_name.get(name)
        makespan = known["makespan_ns"] * 1e-6 if known else end_ms
        spans_ms.append(makespan)
    x_max = max(max(spans_ms), max(t[3] for t in timelines)) * 1.04
    width_in = 12.0
    gap = x_max / (width_in * DPI * 0.8) / 2  # about half a pixel of the plot area

    row_h = 0.36
    top_in = 0.3  # suptitle and legend
    panel_in = [(len(rows) + 0.7) * row_h + 0.55 for _ in timelines]
    height = sum(panel_in) + top_in + 0.45
    fig, axes = plt.subplots(
        len(timelines), 1, figsize=(width_in, height), sharex=True, squeeze=False
    )
    axes = [a[0] for a in axes]
    for ax, (name, path, tracks, end_ms), makespan in zip(axes, timelines, spans_ms):
        spans = {(t, track): s for t, track, s in tracks}
        for y, (tenant, track) in enumerate(rows):
            s = spans.get((tenant, track))
            if s:
                ax.broken_barh(merge(s, gap), (y - 0.38, 0.76), facecolors=color[tenant],
                               edgecolor="none")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f"{t} · {track}" for t, track in rows], fontsize=8)
        # A free strip above the rows for the makespan label.
        ax.set_ylim(len(rows) - 0.5, -1.2)
        ax.axvline(makespan, color="black", linestyle="--", linewidth=1.2)
        left = makespan > 0.25 * x_max
        ax.annotate(f"makespan {fmt_ms(makespan)}", xy=(makespan, -0.85),
                    xytext=(-5 if left else 5, 0), textcoords="offset points",
                    ha="right" if left else "left", va="center", fontsize=8)
        if name == "best":
            title = f"best plan (found by {main['best']['found_by']})"
            value = main["best"]["objective"]
        elif name in by_name:
            title = f"baseline {name}"
            value = by_name[name]["objective"]
        else:
            title, value = name, None
        if value is not None and main["objective"] != "makespan":
            shown = fmt_objective(value, main["objective"])
            if main["objective"] != "slo":
                shown = f"{OBJECTIVES[main['objective']][0]} {shown}"
            title += f": {shown}"
        if ax is not axes[0] and makespan > 0:
            title += f"; makespan speedup {spans_ms[0] / makespan:.2f}x over {timelines[0][0]}"
        ax.set_title(f"{title}   ({os.path.basename(path)})", fontsize=9, loc="left")
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_xlim(0, x_max)
    axes[-1].set_xlabel("time (ms)")
    handles = [Patch(color=color[t], label=t) for t in tenant_order]
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.995, 1 - 0.08 / height),
               ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(
        f"GPU tasks by tenant and stream: {os.path.basename(main['workload'])} on {main['gpu']}",
        fontsize=11, x=0.01, y=1 - 0.12 / height, ha="left", va="top",
    )
    fig.tight_layout()
    path = os.path.join(out, "gantt.png")
    write_png(fig, path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Fleet


def plot_fleet(plt, doc, path, out):
    """fleet.png: one panel per placement, one stacked bar per GPU."""
    for key in ("models", "placements"):
        if not isinstance(doc.get(key), list):
            raise PlotError(f"{path}: {key}: expected an array, found {describe(doc.get(key))}")
    alone = {}
    for m in doc["models"]:
        alone[m["name"]] = {k: v.get("sm_busy", 0.0) for k, v in m["alone"].items()}
    names = [m["name"] for m in doc["models"]]
    cmap = plt.get_cmap("tab20")
    colour = {n: cmap(i % 20) for i, n in enumerate(names)}
    placements = [p for p in doc["placements"] if p.get("exists")]
    width = max(len(p["gpus"]) for p in placements) if placements else 1
    fig, axes = plt.subplots(
        len(placements), 1, figsize=(max(8, 0.45 * width + 3), 2.6 * len(placements) + 0.6),
        squeeze=False,
    )
    for ax, p in zip(axes[:, 0], placements):
        for g in p["gpus"]:
            x, bottom = g["index"], 0.0
            for r in g["models"]:
                h = alone[r["model"]].get(g["gpu"], 0.0)
                ax.bar(x, h, bottom=bottom, color=colour[r["model"]], edgecolor="white",
                       linewidth=0.5, hatch=None if g["slos_met"] else "//")
                bottom += h
            ax.plot([x - 0.4, x + 0.4], [g["sm_busy"]] * 2, color="black", linewidth=1.2)
        ax.axhline(1.0, color="grey", linestyle=":", linewidth=0.8)
        met = "every SLO met" if p.get("all_slos_met") else "SLOs missed"
        unplaced = len(p.get("unplaced", []))
        title = f"{p['name']}: {p['gpus_used']} GPUs, {met}"
        if p.get("util_cap"):
            title += f" (cap {100 * p['util_cap']:.0f}%)"
        if unplaced:
            title += f", {unplaced} replicas unplaced"
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel("utilisation")
        ticks = [g["index"] for g in p["gpus"]]
        ax.set_xlim(-0.7, width - 0.3)
        ax.set_xticks(ticks)
        ax.set_xticklabels([g["gpu"].split("-")[0] for g in p["gpus"]], rotation=90, fontsize=6)
    axes[-1, 0].set_xlabel("GPU (bars: models' utilisation alone, stacked; line: simulated together;"
                           " hatched: misses an SLO)", fontsize=8)
    fig.tight_layout()
    target = os.path.join(out, "fleet.png")
    write_png(fig, target)
    plt.close(fig)
    return target



def main(argv):
    args = parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail(
            f"matplotlib is not installed for {sys.executable} (on Debian: apt-get install "
            "python3-matplotlib, for /usr/bin/python3)"
        )
    try:
        doc = read_json(args.report)
        if isinstance(doc, dict) and doc.get("schema") == FLEET_SCHEMA:
            if args.curves or args.timeline:
                raise PlotError(f"{args.report}: a fleet report takes no --curves or --timeline")
            try:
                os.makedirs(args.output, exist_ok=True)
            except OSError as e:
                raise PlotError(f"{args.output}: cannot create: {e.strerror or e}") from None
            print(plot_fleet(plt, doc, args.report, args.output))
            return 0
        report = read_report(args.report)
        runs = [report]
        for path in args.curves:
            r = read_report(path)
            for key in ("objective", "workload"):
                if r[key] != report[key]:
                    raise PlotError(
                        f"{path}: {key}: expected {json.dumps(report[key])} (as in "
                        f"{args.report}), found {json.dumps(r[key])}"
                    )
            if r["best"]["requests"] != report["best"]["requests"]:
                raise PlotError(
                    f"{path}: best.result.tenants: requests differ from {args.report}'s "
                    "(a search with another --requests)"
                )
            runs.append(r)
        timelines = []
        for text in args.timeline:
            name, path = parse_timeline_arg(text)
            tracks, end_ms, counts = read_timeline(path)
            check_requests(path, counts, report)
            timelines.append((name, path, tracks, end_ms))
        try:
            os.makedirs(args.output, exist_ok=True)
        except OSError as e:
            raise PlotError(f"{args.output}: cannot create: {e.strerror or e}") from None
        written = [plot_curves(plt, report, runs, args.output, not args.linear_x)]
        if timelines:
            written.append(plot_gantt(plt, report, timelines, args.output))
    except PlotError as e:
        fail(str(e))
    for path in written:
        print(path)
    if not timelines:
        print(f"{PROG}: no --timeline given, so no gantt.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
