"""Dataset, DataLoader (batching, seeded shuffle, drop_last, collate) and random_split."""

import numpy as np
import pytest

import engine
from engine.utils.data import DataLoader, Dataset, TensorDataset, random_split


def test_tensor_dataset_batches_in_order():
    x = engine.arange(10).float().reshape(10, 1)
    y = engine.arange(10)
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == engine.Size([4, 1]) and batches[0][0].dtype == engine.float32


def test_drop_last_and_len():
    ds = TensorDataset(engine.zeros(10, 2))
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2


def test_shuffle_is_seeded_and_a_permutation():
    ds = TensorDataset(engine.arange(20))

    def order(seed):
        g = engine.Generator().manual_seed(seed)
        return [i for (b,) in DataLoader(ds, batch_size=6, shuffle=True, generator=g)
                for i in b.tolist()]
    a, b, c = order(1), order(1), order(2)
    assert a == b and a != c and sorted(a) == list(range(20))


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "y": i, "w": float(i) / 2, "name": f"s{i}"}


def test_default_collate_recurses_into_dicts_numbers_and_arrays():
    batch = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert batch["x"].shape == engine.Size([3, 3]) and batch["x"].dtype == engine.float32
    assert batch["y"].tolist() == [0, 1, 2] and batch["y"].dtype == engine.int64
    assert batch["w"].dtype == engine.float64
    assert batch["name"] == ["s0", "s1", "s2"]


def test_random_split_sizes_disjoint_and_deterministic():
    ds = TensorDataset(engine.arange(10))
    a, b = random_split(ds, [7, 3], generator=engine.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3
    ia = {int(a[i][0]) for i in range(7)}
    ib = {int(b[i][0]) for i in range(3)}
    assert not ia & ib and ia | ib == set(range(10))
    a2, _ = random_split(ds, [0.7, 0.3], generator=engine.Generator().manual_seed(0))
    assert [int(a2[i][0]) for i in range(7)] == [int(a[i][0]) for i in range(7)]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 6])


def test_size_mismatch_is_reported():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(engine.zeros(3), engine.zeros(4))
