"""Writes the Keras 3 reference files in this folder with real Keras (run once; the outputs are committed).

    KERAS_BACKEND=jax python make_reference_files.py      # Keras 3.15.1, JAX 0.10.2, h5py 3.16, numpy 2.4

all_layers.keras: a Functional model using every layer class Shears' Keras exporter writes, with
  random weights (BatchNormalization statistics and PReLU slopes included) and linear Dense/Conv2D
  followed by separate Activation layers, so that importing it into Shears and exporting it again
  gives the same layer sequence. all_layers_input.npy / all_layers_output.npy: 4 inputs and
  Keras' own predictions for them.
mlp_sequential.keras: a Sequential MLP whose layers have custom names ("hidden", "logits", ...), so
  that the weights file's groups (layers/dense, layers/dense_1, named after the class) differ from
  the layer names. mlp_sequential_input.npy / mlp_sequential_output.npy as above.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261121)


def randomise(model):
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w in ws:
            v = rng.normal(0.0, 0.4, size=w.shape).astype("float32")
            new.append(v)
        if isinstance(layer, layers.BatchNormalization):  # gamma, beta, moving_mean, moving_variance
            new[3] = np.abs(new[3]) + 0.5
        layer.set_weights(new)


def save(model, name, x):
    model.save(os.path.join(here, name + ".keras"))
    np.save(os.path.join(here, name + "_input.npy"), x)
    np.save(os.path.join(here, name + "_output.npy"), np.asarray(model.predict(x, verbose=0), dtype="float32"))


x = keras.Input((8, 8, 3))
a = layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
a = layers.Conv2D(4, 3, padding="same")(a)
a = layers.BatchNormalization()(a)
a = layers.Activation("relu")(a)
b = layers.Conv2D(4, 1, use_bias=False)(x)
b = layers.ZeroPadding2D(((1, 0), (0, 1)))(b)
c = layers.Add()([a, b])
c = layers.MaxPooling2D(2)(c)
d = layers.AveragePooling2D(2, padding="same")(c)
d = layers.PReLU(shared_axes=[1, 2])(d)
e = layers.Concatenate(axis=-1)([d, d])
g = layers.GlobalAveragePooling2D()(e)
e = layers.Permute((3, 1, 2))(e)
e = layers.Flatten()(e)
e = layers.Concatenate()([e, g])
e = layers.Dense(12)(e)
e = layers.LeakyReLU(negative_slope=0.2)(e)
e = layers.ELU(alpha=0.5)(e)
e = layers.Multiply()([e, e])
e = layers.Dropout(0.25)(e)
e = layers.Reshape((3, 4))(e)
e = layers.Flatten()(e)
e = layers.Dense(10)(e)
e = layers.Activation("softmax")(e)
model = keras.Model(x, e)
randomise(model)
save(model, "all_layers", rng.uniform(0, 1, size=(4, 8, 8, 3)).astype("float32"))

mlp = keras.Sequential([keras.Input((20,)), layers.Dense(16, name="hidden"), layers.Activation("relu", name="hidden_relu"),
                        layers.Dropout(0.2, name="drop"), layers.Dense(5, name="logits"), layers.Activation("softmax", name="probs")])
randomise(mlp)
save(mlp, "mlp_sequential", rng.uniform(0, 1, size=(4, 20)).astype("float32"))
