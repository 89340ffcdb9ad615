"""Unit 09, provided modules: the generated corpus and vocabulary (``text``) and truncated-BPTT
training (``bptt``), run on the reference."""

import math

import numpy as np
import pytest

from autograder.oracle import load_reference

cw = load_reference()
text, bptt, rnn = cw.text, cw.bptt, cw.rnn


def test_corpus_is_deterministic_and_structured():
    corpus = text.make_corpus(5000, seed=3)
    assert corpus == text.make_corpus(5000, seed=3)
    assert corpus != text.make_corpus(5000, seed=4)
    assert len(corpus) >= 5000 and corpus.endswith("\n")
    lines = corpus.splitlines()
    # every bracket is closed, on its own line, in the right order
    for line in lines:
        depth = 0
        for ch in line:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            assert depth >= 0, line
        assert depth == 0, line
    sums = [line for line in lines if "+" in line]
    assert sums
    for line in sums:
        left, right = line.rstrip(".").split("=")
        a, b = left.split("+")
        assert int(a) + int(b) == int(right)
    assert any(" an " in f" {line}" for line in lines)
    assert not any(" a " + v in f" {line}" for line in lines for v in "aeiou")


def test_vocabulary_round_trip_and_errors():
    vocab = text.Vocabulary("hello world")
    assert vocab.chars == sorted(set("hello world")) and vocab.size == 8
    ids = vocab.encode("world hello")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "world hello"
    with pytest.raises(ValueError, match="'z'"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match="ids must lie"):
        vocab.decode([0, 8])


def test_split_and_copy_task():
    train, val = text.split_ids(np.arange(100), 0.2)
    assert len(train) == 80 and np.array_equal(val, np.arange(80, 100))
    x, y, symbols = text.make_copy_task(7, 5, num_symbols=3, seed=1)
    assert x.shape == y.shape == (7, 7) and symbols == ".?abc"
    assert np.array_equal(x[:, 1:], y[:, :-1])               # y is x shifted by one
    assert np.array_equal(y[:, -1], x[:, 0])                 # the last target repeats the first
    assert np.all(x[:, 1:6] == 0) and np.all(x[:, 6] == 1) and np.all((x[:, 0] >= 2)
                                                                       & (x[:, 0] < 5))


def test_batchify_and_chunks_continue_each_stream():
    streams = bptt.batchify(np.arange(23), 4)
    assert streams.shape == (4, 5) and np.array_equal(streams[1], np.arange(5, 10))
    pieces = list(bptt.chunks(streams, 3))
    assert [x.shape[1] for x, _ in pieces] == [3, 1]
    x = np.concatenate([p[0] for p in pieces], axis=1)
    y = np.concatenate([p[1] for p in pieces], axis=1)
    assert np.array_equal(x, streams[:, :-1]) and np.array_equal(y, streams[:, 1:])


def test_clip_grad_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = bptt.clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert np.allclose(clipped["a"], [0.6, 0.0]) and np.allclose(clipped["b"], [[0.8]])
    assert np.array_equal(grads["a"], [3.0, 0.0])            # not modified in place
    same, _ = bptt.clip_grad_norm(grads, 10.0)
    assert np.array_equal(same["a"], grads["a"])
    with pytest.raises(ValueError, match="max_norm"):
        bptt.clip_grad_norm(grads, 0)


def test_evaluate_carries_the_state():
    """evaluate on chunks with the carried state equals one pass over each whole stream."""
    rng = np.random.default_rng(0)
    model = rnn.CharRNN(5, 4, cell="lstm", weight_scale=0.5, rng=rng)
    ids = rng.integers(0, 5, 81)
    mean, ppl = bptt.evaluate(model, ids, seq_len=7, batch_size=4)
    streams = bptt.batchify(ids, 4)
    whole, _, _ = model.loss(streams[:, :-1], streams[:, 1:])
    assert mean == pytest.approx(whole, rel=1e-12) and ppl == pytest.approx(math.exp(whole))


def test_uniform_model_has_perplexity_v():
    model = rnn.CharRNN(6, 3, cell="rnn", rng=np.random.default_rng(0))
    model.params["W_out"][:] = 0
    _, ppl = bptt.evaluate(model, np.arange(60) % 6, seq_len=5, batch_size=2)
    assert ppl == pytest.approx(6.0)


def test_a_diverged_model_has_infinite_perplexity_not_an_error():
    """A loss above 709 nats made math.exp raise OverflowError inside this provided
    function, where the notebook's hint could name no function of the student's."""
    class Diverged:
        def loss(self, x, y, h0=None):
            return 1000.0, None, None

    mean, ppl = bptt.evaluate(Diverged(), np.arange(60) % 6, seq_len=5, batch_size=2)
    assert mean == 1000.0 and ppl == math.inf


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_train_bptt_learns_a_periodic_sequence(cell):
    ids = np.tile(np.array([0, 1, 2, 3, 2, 1]), 60)
    model = rnn.CharRNN(4, 16, embed_dim=4, cell=cell, rng=np.random.default_rng(0))
    # validation streams of 12 ids (8 of them), each starting at the phase training starts at
    history = bptt.train_bptt(model, ids, val_ids=ids[:96], seq_len=8, batch_size=4,
                              num_steps=150, learning_rate=3e-2, eval_every=50, progress=False)
    assert len(history["loss"]) == len(history["grad_norm"]) == 150
    assert history["step"] == [0, 50, 100, 150]
    assert history["val_perplexity"][0] > 3 and history["val_perplexity"][-1] < 1.2
    assert max(history["grad_norm"]) > 0


def test_train_sequences_and_sgd_clipping():
    x, y, _ = text.make_copy_task(64, 2, seed=0)
    model = rnn.CharRNN(6, 8, cell="rnn", weight_scale=0.5, rng=np.random.default_rng(0))
    history = bptt.train_sequences(model, x, y, batch_size=16, num_steps=200, learning_rate=1.0,
                                   optimizer="sgd", max_norm=1.0, rng=np.random.default_rng(1),
                                   progress=False)
    assert np.mean(history["loss"][-20:]) < 0.5 * np.mean(history["loss"][:20])
    with pytest.raises(ValueError, match="optimizer"):
        bptt.train_sequences(model, x, y, optimizer="rmsprop", rng=np.random.default_rng(0))
