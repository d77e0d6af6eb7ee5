"""python src/use_network.py explain: one training step's matrix multiplies."""

import use_network as un


def test_explain_lists_the_eight_matrix_multiplies_with_real_shapes(capsys):
    assert un.main(["explain", "--batch-size", "16"]) == 0
    out = capsys.readouterr().out
    assert (
        "layer 1: z = input @ weights + bias: (16, 784) @ (784, 128) + (128,) -> (16, 128); "
        "output = relu(z)" in out
    )
    assert "layer 3: z = input @ weights + bias: (16, 64) @ (64, 10) + (10,) -> (16, 10)" in out
    assert "grad_weights = input.T @ grad_z: (784, 16) @ (16, 128) -> (784, 128)" in out
    assert "no grad_input (first layer)" in out
    # 3 forward, 3 weight-gradient and 2 input-gradient multiplies, as references/backprop.md says
    assert out.count("z = input @ weights") == 3
    assert out.count("grad_weights = input.T @ grad_z") == 3
    assert out.count("grad_input = grad_z @ weights.T") == 2
