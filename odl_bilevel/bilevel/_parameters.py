r"""Parameter maps :math:`\theta = T(\varphi)` between the learned variables and the energy.

An upper-level optimiser works on the *learned variables* :math:`\varphi \in
\mathbb{R}^q` (what L-BFGS-B or a DFO method sees, with its box bounds); the
lower-level energy :math:`E(x;\theta)` takes its parameters
:math:`\theta = T(\varphi) \in \mathbb{R}^p`. Typical maps:

- the identity, :math:`\theta = \varphi` (e.g. MRI sampling weights in
  :math:`[0, 1]` with bounds);
- the log map, :math:`\theta_j = e^{\varphi_j}`, which keeps weights such as
  :math:`\alpha, \nu, \xi` positive without bounds, possibly with some entries
  of :math:`\theta` held fixed (then :math:`q < p`).

Gradients go back by the chain rule: for :math:`U(\varphi) = \tilde U(T(\varphi))`,

.. math::
    \nabla_\varphi U = J_T(\varphi)^T\,\nabla_\theta\tilde U,

the *vector-Jacobian product* (vjp) of :math:`T`. Error bounds go back with the
operator norm :math:`\|J_T(\varphi)\|`: an error :math:`\delta` in
:math:`\nabla_\theta\tilde U` becomes at most :math:`\|J_T\|\,\delta` in
:math:`\nabla_\varphi U`.
"""

import contextlib
import numbers

import numpy as np

__all__ = ["ParameterMap"]


def as_phi(phi, size, name="phi"):
    """Return ``phi`` as a fresh finite float64 vector of length ``size`` or raise naming it."""
    try:
        arr = np.array(phi, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`{name}` must be a real vector, got {phi!r}") from err
    if arr.ndim > 1:
        raise ValueError(f"`{name}` must be a vector, got shape {arr.shape}")
    arr = arr.ravel()
    if arr.size != size:
        raise ValueError(f"`{name}` must have {size} entries, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf: {arr.tolist()}")
    return arr


def _check_names(names, size, name):
    if isinstance(names, str):
        raise TypeError(f"`{name}` must be a sequence of str, got the string {names!r}")
    if isinstance(names, numbers.Integral) and not isinstance(names, bool):
        return tuple(f"theta[{k}]" for k in range(int(names)))
    try:
        names = tuple(names)
    except TypeError as err:
        raise TypeError(f"`{name}` must be a sequence of str, got {names!r}") from err
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"`{name}` must contain only str, got {names!r}")
    if size is not None and len(names) != size:
        raise ValueError(f"`{name}` must have {size} entries, got {len(names)}")
    if len(set(names)) != len(names):
        raise ValueError(f"`{name}` must be unique, got {names!r}")
    return names


def _check_bounds(bounds, size):
    """Return ``bounds`` as a tuple of ``(lo, hi)`` float-or-None pairs, or ``None``."""
    if bounds is None:
        return None
    try:
        pairs = [tuple(b) for b in bounds]
    except TypeError as err:
        raise TypeError(f"`bounds` must be a sequence of (lo, hi) pairs, got {bounds!r}") from err
    if len(pairs) != size:
        raise ValueError(f"`bounds` must have {size} (lo, hi) pairs, got {len(pairs)}")
    out = []
    checked = {}  # pairs seen before (one weight per pixel repeats one pair 1e5-1e6 times)
    for k, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"`bounds[{k}]` must be a (lo, hi) pair, got {pair!r}")
        key = (type(pair[0]), pair[0], type(pair[1]), pair[1])
        try:
            out.append(checked[key])
            continue
        except (KeyError, TypeError):  # new pair, or unhashable values
            pass
        sides = []
        for side, v, bad in (("lo", pair[0], np.inf), ("hi", pair[1], -np.inf)):
            if v is None:
                sides.append(None)
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or np.isnan(v):
                raise ValueError(f"`bounds[{k}]` {side} must be a real number or None, got {v!r}")
            if float(v) == bad:
                raise ValueError(f"`bounds[{k}]` {side} must not be {bad}")
            # infinite sides become None, the form scipy expects
            sides.append(None if np.isinf(v) else float(v))
        lo, hi = sides
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"`bounds[{k}]` must have lo < hi, got ({lo}, {hi})")
        out.append((lo, hi))
        with contextlib.suppress(TypeError):
            checked[key] = (lo, hi)
    return tuple(out)


class _Identity:
    """theta = phi (picklable)."""

    def forward(self, phi):
        return phi.copy()

    def vjp(self, phi, g):
        return np.array(g, dtype=float)

    def inverse(self, theta):
        return np.array(theta, dtype=float)

    def jacobian_norm(self, phi):
        return 1.0


class _Log:
    """theta[learned] = exp(phi), theta[fixed] = values (picklable)."""

    def __init__(self, size, learned, fixed_values):
        self.size = size
        self.learned = learned
        self.fixed_values = fixed_values  # full-size array; entries at learned are ignored

    def forward(self, phi):
        theta = self.fixed_values.copy()
        with np.errstate(over="ignore"):
            theta[self.learned] = np.exp(phi)
        return theta

    def vjp(self, phi, g):
        with np.errstate(over="ignore"):
            return np.asarray(g, dtype=float)[self.learned] * np.exp(phi)

    def inverse(self, theta):
        theta = np.asarray(theta, dtype=float)
        part = theta[self.learned]
        if np.any(part <= 0):
            raise ValueError(
                f"`theta` must be positive on the learned entries, got {part.tolist()}"
            )
        return np.log(part)

    def jacobian_norm(self, phi):
        # J_T = rows e_j exp(phi_j) at the learned indices: a scaled selection,
        # whose operator norm is max_j exp(phi_j).
        with np.errstate(over="ignore"):
            return float(np.max(np.exp(phi))) if phi.size else 0.0


class ParameterMap:
    r"""The map :math:`\theta = T(\varphi)` from learned variables to energy parameters.

    A generic map is given by two callables on float64 arrays; the class
    methods :meth:`identity` and :meth:`log` build the common ones.

    Parameters
    ----------
    forward : callable
        ``forward(phi) -> theta``: float64 array of shape ``(q,)`` to one of
        shape ``(p,)``.
    vjp : callable
        ``vjp(phi, g_theta) -> g_phi``: the vector-Jacobian product
        :math:`J_T(\varphi)^T g_\theta`, shape ``(q,)``.
    size : int
        Number :math:`q \ge 1` of learned variables.
    names : sequence of str or int
        One name per learned variable (an int :math:`q` gives
        ``"theta[0]", ...``).
    bounds : sequence of (lo, hi), optional
        Box bounds in :math:`\varphi`-space, one pair per learned variable,
        ``None`` (or an infinite value) for no bound on that side; ``None``
        for no bounds at all. Stored with ``None`` for infinite sides, the
        form ``scipy.optimize.minimize`` expects.
    theta_names : sequence of str, optional
        Names of the entries of :math:`\theta` (then :attr:`theta_size` is
        known and every :meth:`forward` output is checked against it).
    inverse : callable, optional
        ``inverse(theta) -> phi``, a right inverse of ``forward`` (used to start
        from parameters given in :math:`\theta` units).
    jacobian_norm : callable, optional
        ``jacobian_norm(phi) -> float``, an upper bound on the operator norm
        :math:`\|J_T(\varphi)\|_2`. Default: the exact norm of the Jacobian
        assembled from :math:`p` vjp calls (fine for small :math:`p`).

    Raises
    ------
    TypeError
        If ``forward``, ``vjp``, ``inverse`` or ``jacobian_norm`` is not callable, or
        ``names`` is not a sequence of str.
    ValueError
        If ``size < 1``, ``names`` or ``bounds`` have the wrong length, names
        repeat, or a bound pair has ``lo >= hi``. The message names the argument.

    Examples
    --------
    Learn :math:`\log\alpha` and :math:`\log\nu` while :math:`\xi = 10^{-3}` stays fixed:

    >>> import numpy as np
    >>> T = ParameterMap.log(("alpha", "nu", "xi"), fixed={"xi": 1e-3})
    >>> T.size, T.names, T.theta_size
    (2, ('log_alpha', 'log_nu'), 3)
    >>> [round(float(t), 6) for t in T.forward([0.0, np.log(0.1)])]
    [1.0, 0.1, 0.001]
    >>> [round(float(g), 6) for g in T.vjp([0.0, np.log(0.1)], [1.0, 1.0, 1.0])]
    [1.0, 0.1]
    """

    def __init__(
        self,
        forward,
        vjp,
        *,
        size,
        names,
        bounds=None,
        theta_names=None,
        inverse=None,
        jacobian_norm=None,
    ):
        for arg, fn in (("forward", forward), ("vjp", vjp)):
            if not callable(fn):
                raise TypeError(f"`{arg}` must be callable, got {type(fn).__name__}")
        for arg, fn in (("inverse", inverse), ("jacobian_norm", jacobian_norm)):
            if fn is not None and not callable(fn):
                raise TypeError(f"`{arg}` must be callable or None, got {type(fn).__name__}")
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"`size` must be an integer, got {size!r}")
        if size < 1:
            raise ValueError(f"`size` must be >= 1, got {size}")
        self._size = int(size)
        self._names = _check_names(names, self._size, "names")
        self._bounds = _check_bounds(bounds, self._size)
        self._theta_names = None if theta_names is None else _check_names(
            theta_names, None, "theta_names"
        )
        self._forward = forward
        self._vjp = vjp
        self._inverse = inverse
        self._jacobian_norm = jacobian_norm

    # -- construction helpers ------------------------------------------------------------
    @classmethod
    def identity(cls, names, *, bounds=None):
        r"""The identity :math:`\theta = \varphi` (:math:`J_T = I`, :math:`\|J_T\| = 1`).

        Parameters
        ----------
        names : sequence of str or int
            Names of the parameters (also the names of :math:`\theta`).
        bounds : sequence of (lo, hi), optional
            Box bounds, e.g. ``[(0, 1)] * m`` for sampling weights.

        Examples
        --------
        >>> T = ParameterMap.identity(("s0", "s1"), bounds=[(0, 1), (0, 1)])
        >>> T.forward([0.25, 0.5]).tolist(), T.bounds
        ([0.25, 0.5], ((0.0, 1.0), (0.0, 1.0)))
        """
        names = _check_names(names, None, "names")
        if not names:
            raise ValueError("`names` must not be empty")
        impl = _Identity()
        return cls(
            impl.forward,
            impl.vjp,
            size=len(names),
            names=names,
            bounds=bounds,
            theta_names=names,
            inverse=impl.inverse,
            jacobian_norm=impl.jacobian_norm,
        )

    @classmethod
    def log(cls, names, *, fixed=None, bounds=None):
        r"""The log map :math:`\theta_j = e^{\varphi_j}` on the learned entries, others fixed.

        With :math:`F` the indices in ``fixed`` and :math:`j_1 < \dots < j_q`
        the other (learned) indices of :math:`\theta \in \mathbb{R}^p`,

        .. math::
            \theta_{j_k} = e^{\varphi_k}, \qquad \theta_j = c_j\ (j \in F),
            \qquad (J_T^T g)_k = e^{\varphi_k} g_{j_k},
            \qquad \|J_T\| = \max_k e^{\varphi_k}.

        Positivity of the learned parameters is automatic, and a step in
        :math:`\varphi` is a relative change of :math:`\theta`, which suits
        weights spanning orders of magnitude.

        Parameters
        ----------
        names : sequence of str
            Names of all :math:`p` entries of :math:`\theta`, in order; the
            learned variables are named ``"log_" + name``.
        fixed : dict, optional
            ``{index_or_name: value}``: entries of :math:`\theta` held at
            ``value`` (any finite real; not learned).
        bounds : sequence of (lo, hi), optional
            Bounds on the learned :math:`\varphi_k = \log\theta_{j_k}` (log
            units), one pair per learned entry.

        Raises
        ------
        ValueError
            If a key of ``fixed`` is unknown or every entry is fixed, or a
            fixed value is not finite.

        Examples
        --------
        >>> import numpy as np
        >>> T = ParameterMap.log(("alpha", "nu"))
        >>> [round(float(t), 6) for t in T.inverse([2.0, 0.5])]
        [0.693147, -0.693147]
        """
        names = _check_names(names, None, "names")
        p = len(names)
        fixed = {} if fixed is None else dict(fixed)
        values = np.zeros(p)
        fixed_idx = set()
        for key, value in fixed.items():
            if isinstance(key, str):
                if key not in names:
                    raise ValueError(f"`fixed` key {key!r} is not one of {names}")
                idx = names.index(key)
            elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
                if not -p <= key < p:
                    raise ValueError(f"`fixed` index {key} is out of range for {p} parameters")
                idx = int(key) % p
            else:
                raise TypeError(f"`fixed` keys must be str or int, got {key!r}")
            if idx in fixed_idx:
                raise ValueError(f"`fixed` names the entry {names[idx]!r} twice")
            try:
                val = float(value)
            except (TypeError, ValueError) as err:
                raise TypeError(f"`fixed[{key!r}]` must be a real number, got {value!r}") from err
            if not np.isfinite(val):
                raise ValueError(f"`fixed[{key!r}]` must be finite, got {val}")
            values[idx] = val
            fixed_idx.add(idx)
        learned = np.array([j for j in range(p) if j not in fixed_idx], dtype=int)
        if learned.size == 0:
            raise ValueError("`fixed` must leave at least one parameter to learn")
        impl = _Log(p, learned, values)
        return cls(
            impl.forward,
            impl.vjp,
            size=int(learned.size),
            names=tuple(f"log_{names[j]}" for j in learned),
            bounds=bounds,
            theta_names=names,
            inverse=impl.inverse,
            jacobian_norm=impl.jacobian_norm,
        )

    # -- attributes ----------------------------------------------------------------------
    @property
    def size(self):
        r"""Number :math:`q` of learned variables."""
        return self._size

    @property
    def names(self):
        """Names of the learned variables (tuple of str, length :attr:`size`)."""
        return self._names

    @property
    def bounds(self):
        """Bounds in :math:`\\varphi`-space: tuple of ``(lo, hi)`` (``None`` sides) or ``None``."""
        return self._bounds

    @property
    def theta_names(self):
        r"""Names of the entries of :math:`\theta`, or ``None`` if not given."""
        return self._theta_names

    @property
    def theta_size(self):
        r"""Number :math:`p` of entries of :math:`\theta`, or ``None`` if not known."""
        return None if self._theta_names is None else len(self._theta_names)

    # -- maps ----------------------------------------------------------------------------
    def forward(self, phi):
        r"""Return :math:`\theta = T(\varphi)` (fresh float64 array).

        Raises
        ------
        ValueError
            If ``phi`` has the wrong size or holds NaN/Inf (naming ``phi``), or
            :math:`T(\varphi)` is not finite or has the wrong size (naming
            ``phi`` or ``forward``).
        """
        phi = as_phi(phi, self._size)
        theta = np.array(self._forward(phi), dtype=float).ravel()
        if self.theta_size is not None and theta.size != self.theta_size:
            raise ValueError(
                f"`forward` must return {self.theta_size} entries, got {theta.size}"
            )
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"`phi` = {phi.tolist()} gives non-finite theta = {theta.tolist()}")
        return theta

    __call__ = forward

    def vjp(self, phi, g_theta):
        r"""Return :math:`J_T(\varphi)^T g_\theta` (float64, shape ``(q,)``).

        Raises
        ------
        ValueError
            If ``phi`` or ``g_theta`` have the wrong size (naming them) or the
            callable returns the wrong size (naming ``vjp``).
        """
        phi = as_phi(phi, self._size)
        g = np.array(g_theta, dtype=float).ravel()
        if self.theta_size is not None and g.size != self.theta_size:
            raise ValueError(f"`g_theta` must have {self.theta_size} entries, got {g.size}")
        out = np.array(self._vjp(phi, g), dtype=float).ravel()
        if out.size != self._size:
            raise ValueError(f"`vjp` must return {self._size} entries, got {out.size}")
        return out

    def jacobian(self, phi):
        r"""Return the Jacobian :math:`J_T(\varphi)`, a ``(p, q)`` array (from :math:`p` vjps)."""
        phi = as_phi(phi, self._size)
        p = self.forward(phi).size
        rows = [self.vjp(phi, np.eye(1, p, k).ravel()) for k in range(p)]
        return np.array(rows, dtype=float).reshape(p, self._size)

    def jacobian_norm(self, phi):
        r"""Return an upper bound on :math:`\|J_T(\varphi)\|_2` (exact for identity and log)."""
        phi = as_phi(phi, self._size)
        if self._jacobian_norm is not None:
            return float(self._jacobian_norm(phi))
        return float(np.linalg.norm(self.jacobian(phi), 2))

    def inverse(self, theta):
        r"""Return :math:`\varphi` with :math:`T(\varphi) = \theta` (where ``inverse`` is known).

        Raises
        ------
        NotImplementedError
            If the map was built without ``inverse``.
        ValueError
            If ``theta`` has the wrong size, holds NaN/Inf, or (log map) is not
            positive on the learned entries.
        """
        if self._inverse is None:
            raise NotImplementedError("this ParameterMap was built without `inverse`")
        theta = np.array(theta, dtype=float).ravel()
        if self.theta_size is not None and theta.size != self.theta_size:
            raise ValueError(f"`theta` must have {self.theta_size} entries, got {theta.size}")
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"`theta` contains NaN or Inf: {theta.tolist()}")
        return as_phi(self._inverse(theta), self._size, "inverse(theta)")

    def __repr__(self):
        return f"ParameterMap(size={self._size}, names={self._names!r}, bounds={self._bounds!r})"
