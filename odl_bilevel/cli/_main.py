"""Command line: ``odl-bilevel learn CONFIG.toml --out DIR`` and ``odl-bilevel demo --out DIR``."""

import argparse
import logging
import sys

from ._config import ConfigError, load_config, validate_config
from ._progress import ProgressBar

__all__ = ["DEMO_CONFIG", "main"]

#: the default job: learn (alpha, nu, xi) of smoothed TV + Tikhonov on embedded
#: 96x96 crops of natural images (4 training, 4 test), sigma = 0.1
DEMO_CONFIG = {
    "data": {"kind": "natural_images", "n_train": 4, "n_test": 4, "size": 96, "sigma": 0.1},
    "problem": {
        "regulariser": "tv_tikhonov",
        "learn": ["alpha", "nu", "xi"],
        "init": {"alpha": 0.05, "nu": 0.05, "xi": 0.01},
        "bounds": {"alpha": [1e-4, 1.0], "nu": [1e-4, 1.0], "xi": [1e-8, 1.0]},
    },
    "lower": {"solver": "fista", "tol": 1e-6, "max_iter": 20000},
    "hypergradient": {"cg_tol": 1e-6},
    "upper": {"max_iter": 30},
}


def _parser():
    parser = argparse.ArgumentParser(
        prog="odl-bilevel",
        description="Learn parameters of variational reconstruction methods by bilevel "
        "optimisation.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    learn = sub.add_parser("learn", help="run the job described by a TOML configuration")
    learn.add_argument("config", help="TOML configuration (see examples/configs/)")
    demo = sub.add_parser("demo", help="run the default job on the embedded images")
    for p in (learn, demo):
        p.add_argument("--out", required=True, help="output directory")
        p.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return parser


def main(argv=None):
    """Entry point of the ``odl-bilevel`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        cfg = load_config(args.config) if args.command == "learn" else validate_config(DEMO_CONFIG)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"odl-bilevel: error: {exc}", file=sys.stderr)
        return 2
    from ._job import job_steps, run_job  # heavy imports only once the config is valid

    bar = None if args.quiet else ProgressBar(job_steps(cfg), label=args.command)
    try:
        summary = run_job(
            cfg,
            args.out,
            resume=args.resume,
            progress=None if bar is None else bar.update,
        )
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        if bar is not None:
            bar.close()
        print(f"odl-bilevel: error: {exc}", file=sys.stderr)
        return 2
    if bar is not None:
        bar.close()
    if summary.get("kind") == "brain_mri":
        from ._mri_report import format_mri_summary

        print(format_mri_summary(summary))
        print(f"wrote {args.out}/result.json")
        return 0
    learned = ", ".join(f"{k}={v:.4g}" for k, v in summary["learned_parameters"].items())
    test = summary["metrics"]["test"].get("learned") or summary["metrics"]["train"]["learned"]
    print(
        f"{summary['status']}: {learned}; objective {summary['objective']:.6g}; "
        f"PSNR {test['psnr_mean']:.2f} dB, SSIM {test['ssim_mean']:.3f} "
        f"({'test' if summary['metrics']['test'].get('learned') else 'train'}); "
        f"wrote {args.out}/result.json"
    )
    return 0
