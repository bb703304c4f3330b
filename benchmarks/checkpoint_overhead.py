"""Cost of checkpointing a learning run with many parameters: free MRI sampling patterns.

``learn_sampling_pattern`` with a ``checkpoint`` directory writes a checkpoint after
every L-BFGS-B iteration (the history so far, the warm starts, the continuation's
state), so that an interrupted run loses at most one iteration. With a free N x N
pattern there are N^2 learned parameters, and every ``IterationRecord`` of the
history holds phi and theta (2 N^2 numbers). The benchmark runs the same short
learning (``--slices`` brain slices, ``--stages`` continuation stages of
``--iterations`` L-BFGS-B iterations each, binary pattern at 25 %, no alpha search)
without and with a checkpoint (``--repeat`` times each, alternating, after a warm-up
run; the median run of each kind is shown), and prints the wall times, their ratio,
the number of checkpoints written and the time per checkpoint. Both kinds do the
same work up to the rounding of FFTW's timed plans (the table shows the lower-level
iterations of each).

Measured on the 2-core development VM (2026-11-26, 256^2, 2 slices, 2 stages x 8
iterations, defaults), with this script on the commit before checkpoints kept vectors
in their NPZ file (649d366, ``--repeat 1``: phi, the history's phi and theta and the
65,536 parameter names went into the JSON file at every checkpoint) and after:

==========================  ==============  ==============
quantity                    before          after
==========================  ==============  ==============
no checkpoint [s]           11.0            10.4
checkpoint [s]              40.1            11.5
ratio                       3.66            1.10
per checkpoint [ms]         1389            50
==========================  ==============  ==============

The cost of a version-1 checkpoint grew with the history (it was rewritten whole at
every iteration): in the 256^2 MRI table (``benchmarks/mri_table.py``, 7 stages x 30
iterations, checkpointed) learning the free pattern took 1285 s before and 444 s
after (2,976 and 2,964 solves), the whole job 40 and 25 minutes.

Usage::

    python benchmarks/checkpoint_overhead.py                 # 256^2, about 1.5 min
    python benchmarks/checkpoint_overhead.py --size 512      # about 2 min
"""

import argparse
import json
import pathlib
import statistics
import tempfile
import time

from odl_bilevel.datasets import brain_slices
from odl_bilevel.problems import learn_sampling_pattern, simulate_kspace


def _run(clean, kspace, args, checkpoint):
    t0 = time.perf_counter()
    res = learn_sampling_pattern(
        clean,
        kspace,
        0.25,
        alpha=3e-4,
        max_stages=args.stages,
        max_iter=args.iterations,
        refine=0,
        reoptimise_alpha=False,
        checkpoint=checkpoint,
    )
    wall = time.perf_counter() - t0
    iterations = sum(s.iterations for s in res.stages)
    return {"wall_time": wall, "lower_iterations": int(res.work["lower_iterations"]),
            "lbfgsb_iterations": iterations}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256, help="image side N")
    parser.add_argument("--slices", type=int, default=2)
    parser.add_argument("--stages", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=8, help="L-BFGS-B iterations/stage")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    parser.add_argument("--json", type=pathlib.Path, help="also write the numbers here")
    args = parser.parse_args()

    clean = brain_slices(args.slices, size=args.size)
    kspace = simulate_kspace(clean, 0.003, rng=0)
    _run(clean, kspace, argparse.Namespace(stages=1, iterations=1), None)  # FFTW plans, caches
    runs = {"plain": [], "checkpoint": []}
    for _ in range(args.repeat):  # alternate, so that a change of machine load hits both
        runs["plain"].append(_run(clean, kspace, args, None))
        with tempfile.TemporaryDirectory() as tmp:
            runs["checkpoint"].append(_run(clean, kspace, args, pathlib.Path(tmp) / "run"))
    plain, checked = (
        min(rs, key=lambda r: abs(r["wall_time"] - statistics.median(x["wall_time"] for x in rs)))
        for rs in (runs["plain"], runs["checkpoint"])
    )
    # one checkpoint per accepted iteration (the start included) and one per finished stage
    saves = checked["lbfgsb_iterations"] + 2 * args.stages + 1
    extra = checked["wall_time"] - plain["wall_time"]
    print(f"free {args.size}x{args.size} pattern ({args.size ** 2} parameters), "
          f"{args.slices} slices, {args.stages} stages x {args.iterations} iterations")
    print(f"median of {args.repeat} runs each")
    print(f"{'run':<16}{'wall [s]':>10}{'lower its':>11}{'L-BFGS-B its':>14}")
    for name, r in (("no checkpoint", plain), ("checkpoint", checked)):
        print(f"{name:<16}{r['wall_time']:>10.1f}{r['lower_iterations']:>11d}"
              f"{r['lbfgsb_iterations']:>14d}")
    print(f"ratio checkpoint / none: {checked['wall_time'] / plain['wall_time']:.2f}; "
          f"about {saves} checkpoints, {1e3 * extra / saves:.0f} ms each")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "checkpoints": saves, "size": args.size},
                                        indent=1))


if __name__ == "__main__":
    main()
