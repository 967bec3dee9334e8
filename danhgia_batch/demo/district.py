"""Alias of :mod:`danhgia_batch.sample.district`, kept for existing imports: the sample district moved
to :mod:`danhgia_batch.sample` so that ``workdir`` (which writes its registry) need not import the demo."""

from ..sample.district import *  # noqa: F403
