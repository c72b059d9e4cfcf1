package dev.shears.io.keras;

import dev.shears.io.ImportException;
import io.jhdf.HdfFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.ZipFile;

/**
 * The Keras file kinds Shears reads, told apart by their first bytes (not by the file name, which
 * users rename): HDF5 files start with the 8-byte HDF5 signature, {@code .keras} archives are zip
 * files holding {@code config.json}, and architecture-only configs are JSON text.
 */
public enum KerasFormat {
    /** HDF5 with a {@code model_config} attribute and a {@code model_weights} group ({@code model.save}). */
    HDF5_FULL_MODEL,
    /** HDF5 holding only weights ({@code model.save_weights}); needs a config beside it. */
    HDF5_WEIGHTS,
    /** A model config as JSON text ({@code model.to_json()}); needs a weights file. */
    CONFIG_JSON,
    /** A Keras 3 {@code .keras} zip archive: {@code config.json} + {@code model.weights.h5}. */
    KERAS_ARCHIVE;

    /** The HDF5 format signature (HDF5 File Format Specification, "Format Signature"). */
    static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /** What the first bytes say a file is, before anything opens it as that (package-private: the importer's first step). */
    enum Container { HDF5, ZIP, JSON }

    /**
     * What kind of Keras file this is, or empty when it is none of them (e.g. an ONNX model).
     * Fails with an {@link ImportException} only when the file cannot be read at all. Opens HDF5
     * files and zip archives to look inside; {@link KerasImporter} instead opens them once and
     * looks inside then ({@link #container}, {@link #ofHdf5}).
     */
    public static Optional<KerasFormat> detect(Path file) {
        return container(file).flatMap(c -> switch (c) {
            case HDF5 -> {
                try (var h5 = Hdf5.open(file)) {
                    yield Optional.of(ofHdf5(file, h5));
                }
            }
            case ZIP -> {
                try (ZipFile zip = new ZipFile(file.toFile())) {
                    yield isArchive(zip) ? Optional.of(KERAS_ARCHIVE) : Optional.empty();
                } catch (IOException e) {
                    throw new ImportException("looks like a zip archive but cannot be opened (truncated or corrupt?): " + e.getMessage(), file, null);
                }
            }
            case JSON -> Optional.of(CONFIG_JSON);
        });
    }

    /**
     * The container by the first bytes only: the HDF5 signature, a zip's local header, or JSON
     * text starting with '{'; empty for anything else.
     */
    static Optional<Container> container(Path file) {
        byte[] head = new byte[1024 + 8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new ImportException("cannot read the file: " + e.getMessage(), file, null);
        }
        // The signature sits at 0, or at 512, 1024, ... when the file has a user block.
        for (int at = 0; at + 8 <= n; at = at == 0 ? 512 : at * 2) {
            if (startsWith(head, at, n, HDF5_SIGNATURE)) return Optional.of(Container.HDF5);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return Optional.of(Container.ZIP);
        for (int i = 0; i < n; i++) {
            byte b = head[i];
            if (b == ' ' || b == '\n' || b == '\r' || b == '\t') continue;
            return b == '{' ? Optional.of(Container.JSON) : Optional.empty();
        }
        return Optional.empty();
    }

    /** An open HDF5 file: a full model when it has the {@code model_config} root attribute, else weights only. */
    static KerasFormat ofHdf5(Path file, HdfFile h5) {
        return Hdf5.call(file, null, () -> h5.getAttribute("model_config") != null) ? HDF5_FULL_MODEL : HDF5_WEIGHTS;
    }

    /** An open zip is a Keras 3 archive when it holds {@code config.json}. */
    static boolean isArchive(ZipFile zip) {
        return zip.getEntry("config.json") != null;
    }

    private static boolean startsWith(byte[] head, int at, int n, byte[] sig) {
        if (at + sig.length > n) return false;
        for (int i = 0; i < sig.length; i++) if (head[at + i] != sig[i]) return false;
        return true;
    }
}
