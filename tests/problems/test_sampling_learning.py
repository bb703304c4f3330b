"""Sampling patterns by learning, greedy selection and alpha search: invariants and work counts."""

import concurrent.futures
import dataclasses
import json
import pickle

import numpy as np
import pytest

from odl_bilevel.datasets import brain_slices
from odl_bilevel.functionals import H1Seminorm, SmoothedTV, SmoothedTV2
from odl_bilevel.problems import (
    REGULARISERS,
    AlphaResult,
    GreedyResult,
    SamplingLearningResult,
    StageRecord,
    greedy_cartesian_pattern,
    learn_sampling_pattern,
    optimise_alpha,
    reconstruct_sampled,
    sampling_phi,
    sampling_problem,
    simulate_kspace,
)

SIZE = 16
# cheap lower levels for the tests: strong convexity mu = alpha * xi = 1e-2
FAST = {"alpha": 1e-2, "xi": 1.0}


def _data(n=2, size=SIZE, sigma=0.03, seed=0):
    clean = brain_slices(n, size=size)
    return clean, simulate_kspace(clean, sigma, rng=seed)


@pytest.fixture(scope="module")
def data():
    """One 16 x 16 slice and its k-space."""
    return _data(n=1)


@pytest.fixture(scope="module")
def free_run():
    """A short free-pattern run on two slices (shared by the invariant tests)."""
    clean, kspace = _data(n=2)
    return learn_sampling_pattern(
        clean, kspace, 0.25, beta_factor=2.0, max_stages=6, max_iter=6, refine=0, **FAST
    )


# -- reconstruction and regularisers ------------------------------------------------------


def test_reconstruct_sampled_full_pattern_recovers_noiseless_images():
    clean, kspace = _data(sigma=0.0)
    xs = reconstruct_sampled(kspace, np.ones((SIZE, SIZE)), alpha=1e-5, tol=1e-6)
    assert len(xs) == 2 and all(x.shape == (SIZE, SIZE) and x.dtype == float for x in xs)
    for x, c in zip(xs, clean, strict=True):
        np.testing.assert_allclose(x, c, atol=2e-3)
    full = reconstruct_sampled(kspace, np.ones((SIZE, SIZE)), alpha=1e-5, full_result=True)
    assert full.work.lower_solves == 2 and all(e <= full.tol for e in full.errors)


def test_reconstruct_sampled_reads_only_sampled_data(rng):
    clean, kspace = _data(n=1)
    pattern = (rng.uniform(size=(SIZE, SIZE)) < 0.4).astype(float)
    changed = [kspace[0] + (1 - pattern) * rng.standard_normal((SIZE, SIZE))]
    a = reconstruct_sampled(kspace, pattern, tol=1e-6, **FAST)
    b = reconstruct_sampled(changed, pattern, tol=1e-6, **FAST)
    np.testing.assert_allclose(a[0], b[0], atol=1e-5)


@pytest.mark.parametrize(
    ("name", "kind"), [("tv", SmoothedTV), ("tv2", SmoothedTV2), ("h1", H1Seminorm)]
)
def test_regulariser_names(name, kind, data):
    clean, kspace = data
    assert name in REGULARISERS
    problem = sampling_problem(clean, kspace, regulariser=name, alpha=0.03, nu=0.05)
    E = problem.energy(0, sampling_phi(problem))
    assert isinstance(E.terms[1], kind)
    assert E.terms[1].params[0] == pytest.approx(0.03)
    if name != "h1":
        assert E.terms[1].params[1] == pytest.approx(0.05)
    E2 = pickle.loads(pickle.dumps(E))  # named regularisers keep problems picklable
    assert isinstance(E2.terms[1], kind)
    xs = reconstruct_sampled(kspace, np.ones((SIZE, SIZE)), regulariser=name, **FAST)
    assert np.all(np.isfinite(xs[0]))


def test_reconstruct_sampled_through_an_executor_matches_serial(rng):
    clean, kspace = _data(n=2)
    pattern = (rng.uniform(size=(SIZE, SIZE)) < 0.5).astype(float)
    serial = reconstruct_sampled(kspace, pattern, **FAST)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        parallel = reconstruct_sampled(kspace, pattern, executor=pool, **FAST)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pattern": np.full((SIZE, SIZE), 1.5)}, ValueError, "`pattern`"),
        ({"pattern": np.ones((SIZE, SIZE), dtype=complex)}, TypeError, "`pattern`"),
        ({"pattern": np.ones((SIZE, SIZE + 1))}, ValueError, r"`kspace\[0\]`"),
        ({"alpha": 0.0}, ValueError, "`alpha`"),
        ({"regulariser": "tgv"}, ValueError, "`regulariser`"),
        ({"tol": -1.0}, ValueError, "`tol`"),
        ({"max_iter": 0}, ValueError, "`max_iter`"),
    ],
)
def test_reconstruct_sampled_bad_arguments_are_named(kwargs, error, match, data):
    _, kspace = data
    args = {"pattern": np.ones((SIZE, SIZE)), "alpha": 0.01, **kwargs}
    with pytest.raises(error, match=match):
        reconstruct_sampled(kspace, args.pop("pattern"), **args)


# -- alpha search -------------------------------------------------------------------------


def test_optimise_alpha_finds_the_grid_minimiser(rng):
    clean, kspace = _data(n=1)
    # weights >= 0.3 keep the lower level well conditioned, so the grid is cheap
    pattern = np.where(rng.uniform(size=(SIZE, SIZE)) < 0.5, 1.0, 0.3)
    tol = 1e-6
    res = optimise_alpha(
        clean, kspace, pattern, alpha_bounds=(1e-4, 1.0), xatol=0.05, lower_tol=tol, xi=0.1
    )
    assert isinstance(res, AlphaResult)
    problem = sampling_problem(
        clean, kspace, alpha=0.01, xi=0.1, init_weights=pattern.ravel(), lower_tol=tol
    )

    def f(t):
        return problem.objective(sampling_phi(problem, pattern.ravel(), np.exp(t))).value

    coarse = np.linspace(np.log(1e-4), 0.0, 13)
    t0 = coarse[np.argmin([f(t) for t in coarse])]
    fine = np.arange(t0 - 0.8, t0 + 0.8, 0.02)
    t_grid = fine[np.argmin([f(t) for t in fine])]
    assert abs(np.log(res.alpha) - t_grid) <= 0.05 + 0.02
    assert res.objective <= f(t_grid) + 1e-6
    assert res.evaluations == len(res.history) <= 30
    assert res.work["lower_solves"] == res.evaluations  # n = 1
    assert res.objective == min(v for _, v in res.history)
    assert json.loads(json.dumps(res.as_dict()))["evaluations"] == res.evaluations
    assert res.at_bound is None and "bound" not in res.message
    # the same search with the minimiser outside the bounds says so, on the side it lies
    for bounds, side in (((1e-4, 0.3 * res.alpha), "upper"), ((3 * res.alpha, 1.0), "lower")):
        off = optimise_alpha(
            clean, kspace, pattern, alpha_bounds=bounds, xatol=0.05, lower_tol=tol, xi=0.1
        )
        assert off.at_bound == side and f"{side} bound" in off.message
        assert np.isclose(off.alpha, bounds[side == "upper"], rtol=0.06)


def test_optimise_alpha_respects_the_budget(data):
    clean, kspace = data
    res = optimise_alpha(clean, kspace, np.ones((SIZE, SIZE)), max_evals=3, xi=0.1)
    assert res.evaluations == 3 and "budget" in res.message
    assert res.work["lower_solves"] == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"alpha_bounds": (0.0, 1.0)}, ValueError, "`alpha_bounds"),
        ({"xatol": 0.0}, ValueError, "`xatol`"),
        ({"max_evals": 1}, ValueError, "`max_evals`"),
        ({"alpha0": -1.0}, ValueError, "`alpha0`"),
        ({"lower_tol": 0.0}, ValueError, "`lower_tol`"),
    ],
)
def test_optimise_alpha_bad_arguments_are_named(kwargs, error, match, data):
    clean, kspace = data
    with pytest.raises(error, match=match):
        optimise_alpha(clean, kspace, np.ones((SIZE, SIZE)), **kwargs)


def test_optimise_alpha_checks_shapes(data):
    clean, kspace = data
    with pytest.raises(ValueError, match=r"`clean\[0\]`"):
        optimise_alpha(clean, kspace, np.ones((SIZE, 8)))
    with pytest.raises(ValueError, match="same length"):
        optimise_alpha(clean * 2, kspace, np.ones((SIZE, SIZE)))


# -- learning ------------------------------------------------------------------------------


def test_learned_free_pattern_fields_and_rate(free_run):
    res = free_run
    assert isinstance(res, SamplingLearningResult)
    k = round(0.25 * SIZE * SIZE)
    assert res.weights.shape == res.pattern.shape == res.binary.shape == (SIZE, SIZE)
    assert set(np.unique(res.binary)) <= {0.0, 1.0} and res.binary.sum() == k
    assert res.rate == k / SIZE**2
    assert res.weights.min() >= 0.0 and res.weights.max() <= 1.0
    np.testing.assert_array_equal(res.pattern, res.weights)
    # the binary pattern holds the whole support of the learned weights, then fills up
    assert np.all(res.binary[res.weights > 1e-2] == 1.0)
    assert res.weights[res.binary == 0].max() <= 1e-2
    assert res.alpha == FAST["alpha"] and 1e-5 <= res.alpha_binary <= 1.0
    # the continuation ends once the support is at most the rate
    assert res.status == "converged" and res.stages[-1].support_rate <= 0.25
    assert res.objective == res.stages[-1].objective
    assert res.binary_objective == res.alpha_search.objective
    json.dumps(res.as_dict())


def test_continuation_raises_beta_and_thins_the_support(free_run):
    stages = free_run.stages
    assert all(isinstance(s, StageRecord) for s in stages) and len(stages) >= 2
    betas = [s.beta1 for s in stages]
    supports = [s.support_rate for s in stages]
    # beta1 grows by beta_factor = 2, or by 4 after a stage that closed < 10 % of the gap
    previous = [1.0, *supports[:-2]]
    for j, (prev, now) in enumerate(zip(previous, supports[:-1], strict=True)):
        slow = prev - now < 0.1 * (prev - 0.25)
        assert betas[j + 1] / betas[j] == pytest.approx(4.0 if slow else 2.0, rel=1e-12), j
    assert all(b <= a for a, b in zip(supports, supports[1:], strict=False))
    assert all(s.support_rate > 0.25 for s in stages[:-1])
    assert all(0 < s.iterations <= 6 and s.status in ("MAX_ITER", "CONVERGED") for s in stages)


def test_stage_plan_grows_beta_faster_after_a_stage_without_progress():
    from odl_bilevel.problems._sampling_continuation import StagePlan

    def stage(beta1, support):
        return StageRecord(beta1, support, 1.0, 3, 6, "MAX_ITER", 0.1)

    phi0 = np.ones(10)
    plan = StagePlan(0.3, 1.0, 4.0, 2, 0.1, phi0, start_support=1.0)
    assert not plan.add(stage(1.0, 0.98), phi0)  # closed 0.02 of a gap of 0.7: slow
    assert plan.next_beta == 16.0
    assert not plan.add(stage(16.0, 0.6), phi0)  # closed 0.38 of 0.68
    assert plan.next_beta == 64.0
    assert not plan.add(stage(64.0, 0.58), phi0)  # closed 0.02 of 0.3: slow again
    assert plan.next_beta == 1024.0
    assert not plan.add(stage(1024.0, 0.1), phi0)  # overshoot: bisect as before
    assert plan.next_beta == pytest.approx(np.sqrt(64.0 * 1024.0))
    assert plan.add(stage(256.0, 0.29), phi0)  # in [0.27, 0.3]: done
    # a start at the rate leaves no gap to close: the usual factor
    plan = StagePlan(0.3, 1.0, 4.0, 2, 0.1, phi0, start_support=0.3)
    assert not plan.add(stage(1.0, 0.5), phi0) and plan.next_beta == 4.0


def test_work_counts_add_up(free_run):
    res, n = free_run, 2
    alpha_solves = res.alpha_search.work["lower_solves"]
    assert alpha_solves == n * res.alpha_search.evaluations
    assert sum(s.lower_solves for s in res.stages) + alpha_solves == res.work["lower_solves"]
    assert all(s.lower_solves % n == 0 for s in res.stages)
    for key in ("lower_iterations", "cg_iterations", "hessian_products", "wall_time"):
        assert res.work[key] > 0
    assert res.work["wall_time"] >= sum(s.wall_time for s in res.stages)


def test_learned_cartesian_pattern_samples_whole_lines(data):
    clean, kspace = data
    res = learn_sampling_pattern(
        clean, kspace, 0.3, sampling="cartesian", max_stages=5, max_iter=5, **FAST
    )
    assert res.weights.shape == (SIZE,)
    k = round(0.3 * SIZE)
    lines = res.binary[:, 0]
    assert lines.sum() == k and res.rate == k / SIZE
    np.testing.assert_array_equal(res.binary, np.repeat(lines[:, None], SIZE, axis=1))
    np.testing.assert_array_equal(res.pattern, np.repeat(res.weights[:, None], SIZE, axis=1))


def test_overshoot_is_refined_and_binary_keeps_the_rate(data):
    clean, kspace = data
    # a huge factor overshoots; with rate_tol = 0 the refinement bisects until max_stages
    res = learn_sampling_pattern(
        clean,
        kspace,
        0.3,
        beta_factor=64.0,
        max_stages=4,
        max_iter=6,
        refine=2,
        rate_tol=0.0,
        reoptimise_alpha=False,
        **FAST,
    )
    stages = res.stages
    first = next(j for j, s in enumerate(stages) if s.support_rate <= 0.3)
    assert first < len(stages) - 1  # the overshoot was refined
    for j in range(1, first + 1):
        assert stages[j].beta1 == pytest.approx(64 * stages[j - 1].beta1, rel=1e-12)
    for j in range(first + 1, len(stages)):
        lo = max(s.beta1 for s in stages[:j] if s.support_rate > 0.3)
        hi = min(s.beta1 for s in stages[:j] if s.support_rate <= 0.3)
        assert stages[j].beta1 == pytest.approx(np.sqrt(lo * hi), rel=1e-12)
    assert res.binary.sum() == round(0.3 * SIZE * SIZE)
    assert res.alpha_binary == res.alpha and np.isnan(res.binary_objective)
    # the final weights are those of the stage with the largest support at most the rate
    final = max((s for s in stages if s.support_rate <= 0.3), key=lambda s: s.support_rate)
    assert res.objective == final.objective


def test_callback_stops_and_sees_stages(data):
    clean, kspace = data
    seen = []

    def callback(stage, record):
        seen.append((stage, record.iteration))
        return stage == 1 and record.iteration == 2

    res = learn_sampling_pattern(clean, kspace, 0.25, max_iter=4, callback=callback, **FAST)
    assert res.status == "stopped" and seen[-1] == (1, 2) and seen[0] == (0, 0)
    assert res.alpha_search is None and res.binary.sum() == round(0.25 * SIZE**2)


class _Interrupt(Exception):
    pass


def test_checkpoint_resume_gives_the_uninterrupted_result(data, tmp_path):
    clean, kspace = data
    options = dict(max_stages=4, max_iter=4, refine=0)
    full = learn_sampling_pattern(clean, kspace, 0.3, checkpoint=tmp_path / "a", **options, **FAST)

    def crash(stage, record):
        if stage == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        learn_sampling_pattern(
            clean, kspace, 0.3, checkpoint=tmp_path / "b", callback=crash, **options, **FAST
        )
    resumed = learn_sampling_pattern(
        clean, kspace, 0.3, checkpoint=tmp_path / "b", resume=True, **options, **FAST
    )
    assert [s.beta1 for s in resumed.stages] == [s.beta1 for s in full.stages]
    np.testing.assert_allclose(resumed.weights, full.weights, atol=1e-6)
    np.testing.assert_array_equal(resumed.binary, full.binary)
    assert resumed.alpha_binary == pytest.approx(full.alpha_binary, rel=1e-6)
    for j, (a, b) in enumerate(zip(resumed.stages, full.stages, strict=True)):
        if j == 2:  # the resumed stage evaluates its stored start once more: n more solves
            assert a.lower_solves - b.lower_solves in (0, 1)
            a = dataclasses.replace(a, lower_solves=b.lower_solves)
        assert dataclasses.replace(a, wall_time=0.0) == dataclasses.replace(b, wall_time=0.0)
    # a finished run is returned as stored, without new solves
    again = learn_sampling_pattern(
        clean, kspace, 0.3, checkpoint=tmp_path / "a", resume=True, **options, **FAST
    )
    np.testing.assert_array_equal(again.binary, full.binary)
    assert again.work["lower_solves"] == full.work["lower_solves"]
    with pytest.raises(ValueError, match="`checkpoint`"):
        learn_sampling_pattern(
            clean, kspace, 0.2, checkpoint=tmp_path / "a", resume=True, **options, **FAST
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rate": 0.0}, ValueError, "`rate`"),
        ({"rate": 1.5}, ValueError, "`rate`"),
        ({"rate": "0.3"}, TypeError, "`rate`"),
        ({"sampling": "radial"}, ValueError, "`sampling`"),
        ({"beta": 0.0}, ValueError, "`beta`"),
        ({"beta_factor": 1.0}, ValueError, "`beta_factor`"),
        ({"beta2": -1.0}, ValueError, "`beta2`"),
        ({"alpha": -1.0}, ValueError, "`alpha`"),
        ({"max_stages": 0}, ValueError, "`max_stages`"),
        ({"max_iter": 1.5}, TypeError, "`max_iter`"),
        ({"refine": -1}, ValueError, "`refine`"),
        ({"memory": 0}, ValueError, "`memory`"),
        ({"max_line_search": 2.0}, TypeError, "`max_line_search`"),
        ({"learn_alpha": 1}, TypeError, "`learn_alpha`"),
        ({"support_threshold": 1.0}, ValueError, "`support_threshold`"),
        ({"lower_tol": 0.0}, ValueError, "`lower_tol`"),
        ({"init_weights": 2.0}, ValueError, "`init_weights`"),
        ({"regulariser": "tgv"}, ValueError, "`regulariser`"),
        ({"callback": 3}, TypeError, "`callback`"),
        ({"resume": True}, ValueError, "`checkpoint`"),
        ({"checkpoint": 3}, TypeError, "`checkpoint`"),
    ],
)
def test_learning_bad_arguments_are_named(kwargs, error, match, data):
    clean, kspace = data
    args = {"rate": 0.3, **kwargs}
    with pytest.raises(error, match=match):
        learn_sampling_pattern(clean, kspace, args.pop("rate"), **args)


# -- greedy ---------------------------------------------------------------------------------


def test_greedy_first_step_is_the_brute_force_best(data):
    clean, kspace = data
    tol = 1e-4
    res = greedy_cartesian_pattern(clean, kspace, 2 / SIZE, lower_tol=tol, **FAST)
    assert isinstance(res, GreedyResult)
    assert res.lines.sum() == 2 and res.lines[0] and res.rate == 2 / SIZE
    assert len(res.order) == 1 and len(res.objective_history) == 2
    assert res.objective_history[0] >= res.objective_history[1]
    # n = 1 solve for the start, then one per candidate line
    assert res.lower_solves == res.work["lower_solves"] == 1 + 15
    np.testing.assert_array_equal(res.binary, np.repeat(res.lines[:, None], SIZE, axis=1))
    values = {}
    for c in range(1, SIZE):
        mask = np.zeros((SIZE, SIZE))
        mask[[0, c], :] = 1.0
        xs = reconstruct_sampled(kspace, mask, tol=tol, **FAST)
        values[c] = np.mean([np.sum((x - t) ** 2) for x, t in zip(xs, clean, strict=True)])
    best = min(values, key=values.get)
    # the greedy pick is the brute-force best (or tied with it within the solve accuracy)
    assert res.order[0] == best or values[res.order[0]] - values[best] < 1e-3
    assert res.objective_history[1] == pytest.approx(values[res.order[0]], abs=1e-3)


def test_greedy_stochastic_variant_counts_and_reproduces(data):
    clean, kspace = data
    kwargs = dict(candidates_per_step=3, rng=7, initial_lines=(0, 1), **FAST)
    a = greedy_cartesian_pattern(clean, kspace, 5 / SIZE, **kwargs)
    b = greedy_cartesian_pattern(clean, kspace, 5 / SIZE, **kwargs)
    assert a.lower_solves == 1 + 3 * 3
    assert a.order == b.order and a.lines.sum() == 5
    assert json.loads(json.dumps(a.as_dict()))["order"] == list(a.order)


def test_greedy_callback_stops(data):
    clean, kspace = data
    calls = []
    res = greedy_cartesian_pattern(
        clean,
        kspace,
        0.5,
        callback=lambda *args: calls.append(args) or True,
        candidates_per_step=2,
        rng=0,
        **FAST,
    )
    assert len(calls) == 1 and res.lines.sum() == 2 and calls[0][:2] == (1, res.order[0])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rate": 0.0}, ValueError, "`rate`"),
        ({"alpha": 0.0}, ValueError, "`alpha`"),
        ({"initial_lines": (0, SIZE)}, ValueError, "`initial_lines`"),
        ({"initial_lines": (1, 1)}, ValueError, "`initial_lines`"),
        ({"initial_lines": (0.5,)}, TypeError, "`initial_lines`"),
        ({"initial_lines": tuple(range(8))}, ValueError, "`initial_lines`"),
        ({"candidates_per_step": 0}, ValueError, "`candidates_per_step`"),
        ({"callback": "x"}, TypeError, "`callback`"),
    ],
)
def test_greedy_bad_arguments_are_named(kwargs, error, match, data):
    clean, kspace = data
    args = {"rate": 0.25, "alpha": 0.01, **kwargs}
    with pytest.raises(error, match=match):
        greedy_cartesian_pattern(clean, kspace, args.pop("rate"), **args)


def test_greedy_needs_images():
    clean = [np.linspace(0, 1, 16)]
    with pytest.raises(ValueError, match="2-D"):
        greedy_cartesian_pattern(clean, simulate_kspace(clean, 0.0), 0.5, alpha=0.01)


@pytest.mark.slow
def test_learned_free_pattern_beats_the_baselines_on_held_out_slices():
    """64² brain slices, 30 %: learned > variable density > data-adapted (alpha re-optimised)."""
    from odl_bilevel.datasets import brain_train_test
    from odl_bilevel.metrics import psnr
    from odl_bilevel.problems import data_adapted_pattern, variable_density_pattern

    train, test = brain_train_test(4, 4, size=64)
    k_train = simulate_kspace(train, 0.03, rng=0)
    k_test = simulate_kspace(test, 0.03, rng=1)

    def test_psnr(pattern, alpha):
        xs = reconstruct_sampled(k_test, pattern, alpha=alpha)
        return np.mean([psnr(x, t, data_range=1.0) for x, t in zip(xs, test, strict=True)])

    learned = learn_sampling_pattern(train, k_train, 0.3)
    scores = {"learned": test_psnr(learned.binary, learned.alpha_binary)}
    for name, pattern in [
        ("data_adapted", data_adapted_pattern(train, 0.3)),
        ("variable_density", variable_density_pattern((64, 64), 0.3, rng=0)),
    ]:
        alpha = optimise_alpha(train, k_train, pattern, alpha0=1e-2).alpha
        scores[name] = test_psnr(pattern, alpha)
    # measured: 34.8, 34.4 and 33.4 dB
    assert scores["learned"] > scores["variable_density"] + 0.2
    assert scores["learned"] > scores["data_adapted"] + 1.0


def test_binary_ties_go_to_low_frequencies_not_to_the_first_rows():
    # the rule of learn_sampling_pattern's binary pattern when the denser stage's weights all sit
    # on the upper bound and the final ones on the lower bound: lowest |k| first
    from odl_bilevel.problems._sampling_common import top_k
    from odl_bilevel.problems._sampling_continuation import _frequency_radius

    shape, k = (16, 16), 21
    m = shape[0] * shape[1]
    chosen = top_k(k, [np.zeros(m), np.ones(m), np.zeros(m), -_frequency_radius(shape)])
    chosen = chosen.reshape(shape)
    assert chosen.sum() == k and chosen[0, 0] == 1.0
    fy, fx = np.meshgrid(np.fft.fftfreq(16), np.fft.fftfreq(16), indexing="ij")
    radius = np.hypot(fy, fx)
    assert radius[chosen == 1].max() <= radius[chosen == 0].min() + 1e-12
    assert chosen[:, 8].sum() == 0  # no full rows: the highest frequencies stay unsampled
