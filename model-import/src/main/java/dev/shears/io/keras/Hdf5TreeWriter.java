package dev.shears.io.keras;

import io.jhdf.Superblock;
import io.jhdf.WritableGroupImpl;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import io.jhdf.storage.HdfFileChannel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Builds an HDF5 file as a jhdf tree and writes it, doing the last step of jhdf 0.13's
 * {@code WritableHdfFile.close()} itself. That method writes the tree, then appends an
 * informational "jHDF - version" string at the file channel's current position, which is the end
 * of the last dataset's data, not the end of the file: any group header written after the last
 * dataset (an empty group, such as the {@code vars} group Keras 3 gives every weight-less layer)
 * is overwritten and the file no longer opens (measured with jhdf and h5py). Here the tree is
 * written with jhdf's own public writer, then only the superblock, with the true end of file; the
 * informational string is left out.
 */
final class Hdf5TreeWriter {
    private Hdf5TreeWriter() {}

    /** A new, empty root group to fill with {@code putGroup}, {@code putDataset} and {@code putAttribute}. */
    static WritableGroup newRoot() {
        return new WritableGroupImpl(null, "/");
    }

    /** Writes the tree under {@code root} to {@code file}, replacing it. */
    static void write(WritableGroup root, Path file) throws IOException {
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Superblock.SuperblockV2V3 superblock = new Superblock.SuperblockV2V3();
            HdfFileChannel channel = new HdfFileChannel(fc, superblock);
            long end = root.write(channel, WritableHdfFile.ROOT_GROUP_ADDRESS);
            channel.write(superblock.toBuffer(Math.max(end, fc.size())), 0L);
        } catch (RuntimeException e) {
            throw new IOException("HDF5 writing failed: " + e, e);
        }
    }
}
