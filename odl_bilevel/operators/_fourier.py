r"""The unitary discrete Fourier transform, with cached FFTW plans.

:math:`(F x)_k = N^{-1/2} \sum_j x_j e^{-2\pi i \langle j, k/n\rangle}`,
:math:`N = \prod_d n_d`, is unitary: :math:`F^H F = I`, :math:`\|Fx\| = \|x\|`.
``odl.trafos.FourierTransform`` is neither unitary nor has an exact adjoint
(DESIGN.md §3.2), so the library uses :class:`UnitaryDFT` instead.

Plans (``pyfftw.FFTW`` objects with preallocated aligned input/output buffers)
are planned once per (kind, shape, dtype, threads, effort) and cached per
thread, so operators of the same shape share them and a thread pool never
races on a buffer. FFTW's wisdom makes re-planning in a new thread cheap.
Operators look their plans up at call time (a dictionary look-up) and never
hold them, so they stay picklable for process pools.
"""

import threading

import numpy as np
import odl

from .._validation import require_unit_cell_space

try:  # pragma: no cover - exercised whichever way the environment is set up
    import pyfftw
except ImportError:  # pragma: no cover
    pyfftw = None

__all__ = ["FourierMultiplier", "UnitaryDFT"]

_PLANNER_EFFORTS = ("FFTW_ESTIMATE", "FFTW_MEASURE", "FFTW_PATIENT", "FFTW_EXHAUSTIVE")
_LOCAL = threading.local()


def _flip_k(arr):
    """Return ``arr[-k mod n]`` (index reversal modulo n on every axis): the mirror frequency."""
    return np.roll(np.flip(arr), 1, axis=tuple(range(arr.ndim)))


def _check_fft_options(impl, threads, planner_effort):
    """Validate the FFT options; return ``(impl, threads, planner_effort)``."""
    if impl not in ("pyfftw", "numpy"):
        raise ValueError(f"`impl` must be 'pyfftw' or 'numpy', got {impl!r}")
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ValueError(f"`threads` must be a positive int, got {threads!r}")
    if planner_effort not in _PLANNER_EFFORTS:
        raise ValueError(
            f"`planner_effort` must be one of {_PLANNER_EFFORTS}, got {planner_effort!r}"
        )
    if impl == "pyfftw" and pyfftw is None:  # pragma: no cover
        impl = "numpy"
    return impl, int(threads), planner_effort


class _Plan:
    """An unnormalised FFT on preallocated buffers.

    Fill ``plan.input`` and call ``plan.execute()``; the (unnormalised) result is
    in ``plan.output``. ``kind`` is ``"fwd"``/``"bwd"`` (complex to complex,
    sign -/+), ``"r2c"`` or ``"c2r"`` (all axes). The numpy variant has the
    same interface (``output`` is rebound on each call).
    """

    def __init__(self, kind, shape, dtype, impl, threads, planner_effort):
        dtype = np.dtype(dtype)
        cdtype = np.result_type(dtype, np.complex64)
        rdtype = np.dtype(cdtype.char.lower())
        half = shape[:-1] + (shape[-1] // 2 + 1,)
        in_shape, in_dtype, out_shape, out_dtype = {
            "fwd": (shape, cdtype, shape, cdtype),
            "bwd": (shape, cdtype, shape, cdtype),
            "r2c": (shape, rdtype, half, cdtype),
            "c2r": (half, cdtype, shape, rdtype),
        }[kind]
        self.kind = kind
        self.shape = shape
        self.impl = impl
        axes = tuple(range(len(shape)))
        if impl == "pyfftw":
            self.input = pyfftw.empty_aligned(in_shape, dtype=in_dtype)
            self.output = pyfftw.empty_aligned(out_shape, dtype=out_dtype)
            direction = "FFTW_BACKWARD" if kind in ("bwd", "c2r") else "FFTW_FORWARD"
            flags = (planner_effort, "FFTW_DESTROY_INPUT")
            self._fftw = pyfftw.FFTW(
                self.input, self.output, axes=axes, direction=direction,
                flags=flags, threads=threads,
            )
            self.input[...] = 0
        else:
            self.input = np.zeros(in_shape, dtype=in_dtype)
            self.output = np.zeros(out_shape, dtype=out_dtype)
            self._fftw = None

    def execute(self):
        """Transform ``self.input`` into ``self.output`` (unnormalised); return ``output``."""
        if self._fftw is not None:
            self._fftw.execute()
            return self.output
        kind, inp = self.kind, self.input
        if kind == "fwd":
            res = np.fft.fftn(inp)
        elif kind == "bwd":
            res = np.fft.ifftn(inp, norm="forward")
        elif kind == "r2c":
            res = np.fft.rfftn(inp)
        else:
            res = np.fft.irfftn(inp, s=self.shape, norm="forward")
        self.output = res.astype(self.output.dtype, copy=False)
        return self.output


def _plan(kind, shape, dtype, *, impl="pyfftw", threads=1, planner_effort="FFTW_MEASURE"):
    """Return the cached :class:`_Plan` of this thread (planning it on first use).

    ``dtype`` is the real or complex dtype of the transform; float32/complex64
    plans run in single precision, float64/complex128 ones in double.
    """
    if impl == "pyfftw" and pyfftw is None:  # pragma: no cover
        impl = "numpy"
    cache = _LOCAL.__dict__.setdefault("plans", {})
    key = (kind, tuple(shape), np.dtype(dtype).char.lower(), impl, threads, planner_effort)
    plan = cache.get(key)
    if plan is None:
        plan = _Plan(kind, tuple(shape), dtype, impl, threads, planner_effort)
        cache[key] = plan
    return plan


class _HalfSpectrumFilter:
    r"""Fourier multiplier :math:`v \mapsto \mathrm{c2r}(w \odot \mathrm{r2c}(v))` (unnormalised).

    An r2c and a c2r plan sharing one preallocated half-spectrum buffer; with
    ``w`` the half of a symmetrised real weight divided by :math:`N` this is
    :math:`\mathrm{Re}\,F^H W F v` for real :math:`v` at the cost of one
    real FFT pair.
    """

    def __init__(self, shape, dtype, impl, threads, planner_effort):
        rdtype = np.dtype(dtype)
        cdtype = np.result_type(rdtype, np.complex64)
        half = shape[:-1] + (shape[-1] // 2 + 1,)
        self.shape = shape
        self.rdtype = rdtype
        if impl == "pyfftw":
            axes = tuple(range(len(shape)))
            flags = (planner_effort, "FFTW_DESTROY_INPUT")
            self._real_in = pyfftw.empty_aligned(shape, dtype=rdtype)
            self._spec = pyfftw.empty_aligned(half, dtype=cdtype)
            self._real_out = pyfftw.empty_aligned(shape, dtype=rdtype)
            self._r2c = pyfftw.FFTW(
                self._real_in, self._spec, axes=axes, direction="FFTW_FORWARD",
                flags=flags, threads=threads,
            )
            self._c2r = pyfftw.FFTW(
                self._spec, self._real_out, axes=axes, direction="FFTW_BACKWARD",
                flags=flags, threads=threads,
            )
        else:
            self._r2c = None

    def apply(self, v, w_half):
        """Return ``c2r(w_half * r2c(v))`` in a buffer that the next call overwrites."""
        if self._r2c is not None:
            np.copyto(self._real_in, v, casting="unsafe")
            self._r2c.execute()
            np.multiply(self._spec, w_half, out=self._spec)
            self._c2r.execute()
            return self._real_out
        spec = np.fft.rfftn(v)
        spec *= w_half
        res = np.fft.irfftn(spec, s=self.shape, norm="forward")
        return res.astype(self.rdtype, copy=False)


def _half_spectrum_filter(shape, dtype, *, impl="pyfftw", threads=1,
                          planner_effort="FFTW_MEASURE"):
    """Return this thread's cached :class:`_HalfSpectrumFilter` (planned on first use)."""
    if impl == "pyfftw" and pyfftw is None:  # pragma: no cover
        impl = "numpy"
    cache = _LOCAL.__dict__.setdefault("plans", {})
    key = ("filter", tuple(shape), np.dtype(dtype).char, impl, threads, planner_effort)
    filt = cache.get(key)
    if filt is None:
        filt = _HalfSpectrumFilter(tuple(shape), dtype, impl, threads, planner_effort)
        cache[key] = filt
    return filt


def _unitary_fftn(arr, *, inverse=False, dtype=np.complex128):
    """Return the unitary DFT (or its inverse) of ``arr`` as a new complex array.

    A helper for precomputations (not a hot path): it uses the cached
    complex-to-complex plan of ``arr``'s shape in ``dtype``.
    """
    arr = np.asarray(arr)
    plan = _plan("bwd" if inverse else "fwd", arr.shape, dtype)
    np.copyto(plan.input, arr, casting="unsafe")
    res = plan.execute()
    return res * (1.0 / np.sqrt(arr.size))


class UnitaryDFT(odl.Operator):
    r"""Unitary discrete Fourier transform :math:`F: X \to \mathbb{C}^{n}` (``norm='ortho'``).

    .. math::
        (Fx)_k = \frac{1}{\sqrt N}\sum_j x_j\,
        \exp\Big(-2\pi i \sum_d \frac{j_d k_d}{n_d}\Big),\qquad N = \prod_d n_d .

    :math:`F` is unitary on :math:`\mathbb{C}^n`, so its adjoint is the inverse
    DFT :math:`F^H = F^{-1}`. For a real domain :math:`X=\mathbb{R}^n`,
    seen as a real inner-product space with
    :math:`\langle u, v\rangle = \mathrm{Re}\, u^H v` on the range, the adjoint is
    :math:`F^* z = \mathrm{Re}\,F^H z`; then :math:`F^*F = I` (an isometry, not
    onto), so :attr:`inverse` is the left inverse :math:`F^*`.

    Parameters
    ----------
    space : odl.DiscretizedSpace or odl.TensorSpace
        Unit-cell domain, real (float32/float64) or complex
        (complex64/complex128), any number of dimensions.
    impl : {"pyfftw", "numpy"}
        FFT backend; falls back to numpy when pyfftw is not installed.
    threads : int
        FFTW threads (default 1).
    planner_effort : str
        FFTW planner flag, planned once per shape and dtype
        (default ``"FFTW_MEASURE"``).

    Raises
    ------
    TypeError
        If ``space`` is not a discretised or tensor space.
    ValueError
        If ``space`` does not have unit cells or a supported dtype, or an
        option is invalid.

    Notes
    -----
    The plans are unnormalised FFTW transforms; the factor :math:`N^{-1/2}`
    is fused into the copy out of the plan's output buffer, so one call costs
    one FFT plus two passes over memory.

    References
    ----------
    M. Frigo and S. G. Johnson, "The design and implementation of FFTW3",
    Proc. IEEE 93(2):216-231, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint, random_element
    >>> X = unit_cell_space((4, 6))
    >>> F = UnitaryDFT(X)
    >>> x = random_element(X, rng=0)
    >>> round(float(F(x).norm() / x.norm()), 10), round(float((F.adjoint(F(x)) - x).norm()), 10)
    (1.0, 0.0)
    >>> check_adjoint(F, rng=0).passed, check_adjoint(UnitaryDFT(X.complex_space), rng=0).passed
    (True, True)
    """

    def __init__(self, space, *, impl="pyfftw", threads=1, planner_effort="FFTW_MEASURE"):
        if isinstance(space, odl.core.space.base_tensors.TensorSpace) and space.is_complex:
            require_unit_cell_space(space.real_space, "space")
        else:
            require_unit_cell_space(space, "space")
        impl, threads, planner_effort = _check_fft_options(impl, threads, planner_effort)
        super().__init__(space, space.complex_space, linear=True)
        self._opts = {"impl": impl, "threads": threads, "planner_effort": planner_effort}
        self._cdtype = space.complex_space.dtype
        self._scale = 1.0 / np.sqrt(float(np.prod(space.shape)))
        self._adjoint = _UnitaryDFTAdjoint(self)

    @property
    def impl(self):
        """The FFT backend in use (``"pyfftw"`` or ``"numpy"``)."""
        return self._opts["impl"]

    def _call(self, x, out):
        plan = _plan("fwd", x.shape, self._cdtype, **self._opts)
        np.copyto(plan.input, x.data, casting="unsafe")
        res = plan.execute()
        np.multiply(res, self._scale, out=out.data, casting="unsafe")

    @property
    def adjoint(self):
        r"""The inverse DFT :math:`F^H` (real part for a real domain)."""
        return self._adjoint

    @property
    def inverse(self):
        r""":math:`F^{-1} = F^H` (for a real domain the left inverse :math:`\mathrm{Re}\,F^H`)."""
        return self._adjoint

    def norm(self, estimate=False, **kwargs):
        """Operator norm: exactly 1 (``F`` is an isometry)."""
        return 1.0

    def __repr__(self):
        return f"UnitaryDFT({self.domain!r}, impl={self.impl!r})"


class _UnitaryDFTAdjoint(odl.Operator):
    r""":math:`F^H` (``Re F^H`` onto a real domain), built once by :class:`UnitaryDFT`."""

    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op
        self._real = op.domain.is_real
        self._scale = op._scale

    def _call(self, z, out):
        op = self._op
        plan = _plan("bwd", z.shape, op._cdtype, **op._opts)
        np.copyto(plan.input, z.data)
        res = plan.execute()
        if self._real:
            np.multiply(res.real, self._scale, out=out.data, casting="unsafe")
        else:
            np.multiply(res, self._scale, out=out.data, casting="unsafe")

    @property
    def adjoint(self):
        return self._op

    @property
    def inverse(self):
        return self._op

    def norm(self, estimate=False, **kwargs):
        return 1.0


class FourierMultiplier(odl.Operator):
    r"""Real Fourier multiplier :math:`Mv = \mathrm{Re}\,F^H\mathrm{diag}(m)Fv`, symmetric symbol.

    For a real symbol :math:`m` on the DFT grid (NumPy's unshifted ``fftfreq``
    order) with :math:`m_k = m_{-k}`, :math:`M` maps real images to real
    images, is self-adjoint, and is positive definite when :math:`m > 0`.
    One real FFT pair per application (cached plans, no allocation but the
    output). It serves as a preconditioner: with :math:`m = 1/h`, for
    :math:`h` the Fourier symbol of an approximately translation-invariant
    Hessian (:meth:`ParametrisedFunctional.fourier_symbol
    <odl_bilevel.functionals.ParametrisedFunctional.fourier_symbol>`),
    :math:`M \approx H^{-1}`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Real unit-cell space :math:`X`.
    symbol : array-like
        Real, finite :math:`m` of shape ``space.shape`` with
        :math:`m_k = m_{-k}` (checked to rounding).
    impl, threads, planner_effort
        FFT options, as in :class:`UnitaryDFT`.

    Raises
    ------
    ValueError
        If ``symbol`` has the wrong shape, is not finite and real, or not symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint
    >>> X = unit_cell_space((4, 6))
    >>> M = FourierMultiplier(X, np.full((4, 6), 2.0))
    >>> np.allclose(M(X.one()).data, 2.0), check_adjoint(M, rng=0).passed
    (True, True)
    """

    def __init__(self, space, symbol, *, impl="pyfftw", threads=1, planner_effort="FFTW_MEASURE"):
        require_unit_cell_space(space)
        impl, threads, planner_effort = _check_fft_options(impl, threads, planner_effort)
        m = np.asarray(symbol)
        if m.dtype.kind not in "fiu" or m.shape != tuple(space.shape):
            raise ValueError(
                f"`symbol` must be a real array of shape {tuple(space.shape)}, got "
                f"{m.dtype} of shape {m.shape}"
            )
        m = np.array(m, dtype=np.float64)
        if not np.all(np.isfinite(m)):
            raise ValueError("`symbol` contains NaN or Inf")
        if not np.allclose(m, _flip_k(m), rtol=1e-12, atol=1e-12 * float(np.abs(m).max())):
            raise ValueError("`symbol` must be symmetric: symbol[k] == symbol[-k]")
        super().__init__(space, space, linear=True)
        self._opts = {"impl": impl, "threads": threads, "planner_effort": planner_effort}
        half = m.shape[-1] // 2 + 1
        # 1/N of the unnormalised FFT pair folded into the multiplier
        self._m_half = np.ascontiguousarray(m[..., :half] / m.size).astype(space.dtype)
        m.flags.writeable = False
        self._symbol = m

    @property
    def symbol(self):
        """The symbol :math:`m` (read-only float64 array)."""
        return self._symbol

    def _call(self, v, out):
        filt = _half_spectrum_filter(v.shape, v.dtype, **self._opts)
        np.copyto(out.data, filt.apply(v.data, self._m_half))

    @property
    def adjoint(self):
        """:math:`M` itself (self-adjoint)."""
        return self
