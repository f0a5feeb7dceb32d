"""``DataLoader``: batches from a dataset, optionally shuffled with a seeded generator."""

from __future__ import annotations

import numbers

import numpy as np

from ...creation import randperm, tensor
from ...ops.shape import stack
from ...tensor import Tensor


def default_collate(batch):
    """Stack tensors, numbers and arrays; recurse into tuples, lists and dicts."""
    first = batch[0]
    if isinstance(first, Tensor):
        if type(first._data) is np.ndarray:
            return Tensor._make(np.stack([b._data for b in batch]))
        return stack(list(batch))
    if isinstance(first, np.ndarray):
        return Tensor._make(np.stack(batch))
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, numbers.Integral):
        return tensor(batch)
    if isinstance(first, numbers.Real):
        return tensor(batch, dtype="float64")
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(first, (tuple, list)):
        sizes = {len(b) for b in batch}
        if len(sizes) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(first)}")


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, **_ignored):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or default_collate
        self.drop_last = drop_last
        self.generator = generator

    def _indices(self):
        if self.sampler is not None:
            return list(iter(self.sampler))
        n = len(self.dataset)
        if self.shuffle:
            return randperm(n, generator=self.generator).tolist()
        return list(range(n))

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        idx = self._indices()
        bs = self.batch_size
        if bs is None:
            yield from ([i] for i in idx)
            return
        for s in range(0, len(idx), bs):
            chunk = idx[s:s + bs]
            if len(chunk) < bs and self.drop_last:
                return
            yield chunk

    def __iter__(self):
        ds = self.dataset
        fast = _tensor_rows(ds)
        for chunk in self._batches():
            if self.batch_size is None and self.batch_sampler is None:
                yield ds[chunk[0]]
            elif fast is not None and self.collate_fn is default_collate:
                ix = np.asarray(chunk)
                yield tuple(Tensor._make(a[ix]) for a in fast)
            else:
                yield self.collate_fn([ds[i] for i in chunk])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _tensor_rows(ds):
    """For a TensorDataset on the CPU, the arrays to index directly (one gather per batch)."""
    from .dataset import TensorDataset
    if type(ds) is TensorDataset and all(type(t._data) is np.ndarray for t in ds.tensors):
        return [t._data for t in ds.tensors]
    return None
