"""Loads every .keras archive Shears exported with Keras 3 itself and compares Keras' predictions
with Shears' (an optional check: it needs Keras 3 and a backend, which the Java build does not).

    ./mvnw -o -pl model-import -am test -Dtest=KerasArchiveExporterTest -Dsurefire.failIfNoSpecifiedTests=false \
        -Dshears.keras3.dump=/tmp/shears-keras3
    KERAS_BACKEND=jax python model-import/src/test/python/keras_load_check.py /tmp/shears-keras3

Each NAME.keras sits beside NAME_input.npy and NAME_output.npy (Shears' output for that input).
Exits non-zero when an archive does not load, or an output differs by more than atol + rtol * |expected|.
"""
import glob
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4  # float32 kernels in another order of summation (XLA vs Shears' CPU backend)


def main(folder):
    failed = 0
    archives = sorted(glob.glob(os.path.join(folder, "*.keras")))
    if not archives:
        print("no .keras files in " + folder)
        return 1
    for path in archives:
        name = path[: -len(".keras")]
        try:
            model = keras.saving.load_model(path)
            x = np.load(name + "_input.npy")
            want = np.load(name + "_output.npy")
            got = np.asarray(model.predict(x, verbose=0))
            worst = float(np.max(np.abs(got - want)))
            ok = got.shape == want.shape and np.all(np.abs(got - want) <= ATOL + RTOL * np.abs(want))
            print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}: {len(model.layers)} layers, "
                  f"output {got.shape}, max |keras - shears| = {worst:.3g}")
            failed += 0 if ok else 1
        except Exception as e:  # report every file, then fail
            print(f"FAIL {os.path.basename(path)}: {type(e).__name__}: {e}")
            failed += 1
    print(f"{len(archives) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
