"""A TPE sampler whose randomness is a function of (sweep seed, study, trial number) only.

Optuna's samplers draw from one random state per sampler object, so when several workers share a study the
proposal a trial gets depends on which worker asked for it and how many draws that worker had made before — two
runs of the same sweep file with ``--workers 2`` proposed different hyperparameters for the same trial. Here the
random state is re-seeded before every trial from a hash of the sweep's ``sampler.seed``, the study name and the
trial number, so a trial's proposal is the same whichever worker, process or machine runs it. Two workers on one
study get different trial numbers, hence different draws.

What stays timing-dependent with several workers: TPE's model (after its ``n_startup_trials`` random trials, 10 by
default) reads the trials that have *finished* when a trial is asked, which depends on the workers' relative speed;
with one worker, or with at most ``n_startup_trials`` trials per study, a sweep proposes exactly the same trials on
every run.
"""

from __future__ import annotations

import hashlib
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


def trial_seed(seed: int, study_name: str, number: int) -> int:
    """The 32-bit seed of trial ``number`` of ``study_name`` in a sweep seeded with ``seed``."""
    return int(hashlib.sha256(f"{seed}/{study_name}/{number}".encode()).hexdigest()[:8], 16)


class TrialSeededSampler(BaseSampler):
    """TPE (Optuna's defaults) re-seeded per trial (see the module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._tpe = TPESampler(seed=seed)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._tpe = TPESampler(seed=trial_seed(self.seed, study.study_name, trial.number))
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: list[float] | None) -> None:
        self._tpe.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:  # the seeds are the point: nothing to reseed
        return None



