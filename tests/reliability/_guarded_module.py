"""Module-level state the guard tests change between calls."""
import numpy as np

G = np.arange(4.0)
M = np.eye(3) * 2.0
TUP = (1.0, 2.0)
NAME = "abc"
LIST = [np.ones(3), np.full(3, 2.0)]
DICT = {"w": np.ones(3)}
RNG = np.random.default_rng(0)
ACC = np.zeros(1)
SCALE = 2.0


class Config:
    k = 2.0


class Slotted:
    __slots__ = ("v",)

    def __init__(self):
        self.v = 3.0


SLOTS = Slotted()
CFG = Config()


def helper(v):
    return v * 2.0


def f_sum(x):
    return x * G.sum()


def f_mul(x):
    return x + G * 2


def f_exp(x):
    return x + np.exp(G)


def f_copy(x):
    return x + G.copy()


def f_float(x):
    return x * float(G[0])


def f_max(x):
    return x * G.max()


def f_matmul(x):
    return (M @ M)[0, 0] * x


def f_class_attr(x):
    return x * Config.k


def f_instance_class_attr(x):
    return x * CFG.k


def f_slots(x):
    return x * SLOTS.v


def f_tuple(x):
    return x * TUP[1]


def f_string(x):
    return x * len(NAME)


def f_list(x):
    s = x * 0.0
    for a in LIST:
        s = s + a.sum()
    return s


def f_dict(x):
    return x + DICT["w"].sum()


def f_helper(x):
    return helper(x)


def f_scale_in_loop(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = SCALE * x[i] + G[i % 4]
    return out


def f_generator(x):
    return x + RNG.standard_normal(x.shape[0])


def f_generator_in_loop(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] + RNG.normal()
    return out


def f_accumulate(x):
    ACC[0] += x.sum()
    return x * 2.0
