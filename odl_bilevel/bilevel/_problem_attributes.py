"""Read-only attributes of a :class:`~odl_bilevel.bilevel.BilevelProblem` and its warm starts.

The mixin :class:`ProblemAttributes` exposes what the problem was built with
(energies, targets, parameter map, loss, penalty, solver and its defaults, the
executor) and the per-sample warm starts, all stored by
:class:`~odl_bilevel.bilevel.BilevelProblem` in private attributes.
"""

from ._checks import check_executor

__all__ = ["ProblemAttributes"]


class ProblemAttributes:
    """Attributes and warm starts (mixin of ``BilevelProblem``)."""

    @property
    def n_samples(self):
        """Number :math:`n` of training samples."""
        return len(self._energies)

    @property
    def domain(self):
        """Space of the lower-level variable :math:`x`."""
        return self._energies[0].domain

    @property
    def energies(self):
        """The lower-level energies (tuple)."""
        return self._energies

    @property
    def targets(self):
        """The ground truths :math:`x_i^\\dagger` (tuple of elements)."""
        return self._targets

    @property
    def parameter_map(self):
        """The :class:`ParameterMap` :math:`\\theta = T(\\varphi)`."""
        return self._map

    @property
    def penalty(self):
        """The penalty :math:`J` or ``None``."""
        return self._penalty

    @property
    def loss(self):
        """The upper loss :math:`\\ell`."""
        return self._loss

    @property
    def solver(self):
        """Name of the lower-level solver."""
        return self._solver

    @property
    def solver_options(self):
        """More keyword arguments of the lower-level solver (a copy)."""
        return dict(self._solver_options)

    @property
    def lower_tol(self):
        """Default tolerance on the certified lower-level error."""
        return self._lower_tol

    @property
    def lower_max_iter(self):
        """Default iteration cap of a lower-level solve."""
        return self._lower_max_iter

    @property
    def cg_tol(self):
        """Default relative-residual tolerance of CG."""
        return self._cg_tol

    @property
    def cg_max_iter(self):
        """Default iteration cap of CG."""
        return self._cg_max_iter

    @property
    def executor(self):
        """The executor of the per-sample tasks (``None``: inline); settable."""
        return self._executor

    @executor.setter
    def executor(self, executor):
        self._executor = check_executor(executor)

    @property
    def warm_starts(self):
        """Last finite lower-level solution per sample (list; ``None`` where none yet)."""
        return list(self._x_warm)

    @property
    def adjoint_warm_starts(self):
        """Last adjoint :math:`w_i` per sample (list; ``None`` where none yet)."""
        return list(self._w_warm)

    def reset_warm_starts(self):
        """Forget all warm starts (the next solves start from zero)."""
        n = self.n_samples
        self._x_warm, self._w_warm, self._y_warm = [None] * n, [None] * n, [None] * n
