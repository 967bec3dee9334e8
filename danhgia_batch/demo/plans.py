"""Alias of :mod:`danhgia_batch.sample.plans`, kept for existing imports: the sample district moved
to :mod:`danhgia_batch.sample` so that ``workdir`` (which writes its registry) need not import the demo."""

from ..sample.plans import *  # noqa: F403
