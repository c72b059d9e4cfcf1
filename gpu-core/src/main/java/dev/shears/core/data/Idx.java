package dev.shears.core.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reader of IDX files (the MNIST format: http://yann.lecun.com/exdb/mnist/), raw or gzip.
 * Header: two zero bytes, a type byte (0x08 = unsigned byte, the only type used by the image
 * sets), the number of dimensions, then each dimension as a big-endian 32-bit integer.
 */
public final class Idx {
    private Idx() {}

    /** An IDX array of unsigned bytes. */
    public record Array(int[] dims, byte[] data) {
        public int count() { return dims[0]; }
        /** Elements per item (product of the dimensions after the first). */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return s;
        }
    }

    /**
     * Reads an unsigned-byte IDX array with the expected number of dimensions.
     *
     * @param source name of the file, for error messages
     */
    public static Array read(InputStream raw, String source, int expectedRank) {
        try (InputStream in = maybeGunzip(new BufferedInputStream(raw, 1 << 16), source)) {
            byte[] head = in.readNBytes(4);
            if (head.length < 4) throw new DataException(source + ": truncated IDX file (no header); re-download the data set");
            if (head[0] != 0 || head[1] != 0)
                throw new DataException(source + ": not an IDX file (magic " + hex(head) + ", expected 00 00 08 0" + expectedRank + ")");
            if (head[2] != 0x08)
                throw new DataException(source + ": IDX element type 0x" + Integer.toHexString(head[2] & 0xff) + " is not supported (only unsigned bytes, 0x08)");
            int rank = head[3] & 0xff;
            if (rank != expectedRank)
                throw new DataException(source + ": IDX array has " + rank + " dimensions, expected " + expectedRank
                        + (expectedRank == 3 ? " (an images file)" : " (a labels file)") + "; are the images and labels files swapped?");
            int[] dims = new int[rank];
            byte[] db = in.readNBytes(4 * rank);
            if (db.length < 4 * rank) throw new DataException(source + ": truncated IDX header");
            for (int i = 0; i < rank; i++) {
                dims[i] = ((db[4 * i] & 0xff) << 24) | ((db[4 * i + 1] & 0xff) << 16) | ((db[4 * i + 2] & 0xff) << 8) | (db[4 * i + 3] & 0xff);
                if (dims[i] < 0) throw new DataException(source + ": negative IDX dimension " + dims[i]);
            }
            // Item size, then the whole, each checked against one Java array before the next factor: both factors stay
            // below 2^31, so the long cannot wrap (three dimensions of 2^30, 2^30 and 16 would wrap an unchecked product to 0).
            long item = 1;
            for (int i = 1; i < rank; i++) {
                item *= dims[i];
                if (item > Integer.MAX_VALUE - 16)
                    throw new DataException(source + ": IDX header " + Arrays.toString(dims) + " declares items of more than "
                            + (Integer.MAX_VALUE - 16) + " bytes; the file is corrupt, re-download the data set");
            }
            long total = item * dims[0];
            if (total > Integer.MAX_VALUE - 16)
                throw new DataException(source + ": IDX header " + Arrays.toString(dims) + " declares " + total
                        + " bytes, more than one array holds; the file is corrupt, re-download the data set");
            byte[] data = in.readNBytes((int) total);
            if (data.length < total)
                throw new DataException(source + ": truncated IDX file: header " + Arrays.toString(dims) + " promises " + total
                        + " bytes, found " + data.length + "; re-download the data set");
            return new Array(dims, data);
        } catch (IOException e) {
            throw new DataException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static InputStream maybeGunzip(BufferedInputStream in, String source) throws IOException {
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            // GZIPInputStream throws EOFException on a cut-off stream; name the file in that case.
            return new GZIPInputStream(in, 1 << 16) {
                @Override public int read(byte[] buf, int off, int len) throws IOException {
                    try {
                        return super.read(buf, off, len);
                    } catch (java.io.EOFException e) {
                        throw new DataException(source + ": truncated gzip stream; re-download the data set", e);
                    } catch (java.util.zip.ZipException e) {
                        throw new DataException(source + ": corrupt gzip data (" + e.getMessage() + ")", e);
                    }
                }
            };
        }
        return in;
    }

    /** Writes an unsigned-byte IDX array (uncompressed), for tests and data preparation. */
    public static byte[] encode(int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8 + 4 * dims.length + data.length);
        out.write(0);
        out.write(0);
        out.write(0x08);
        out.write(dims.length);
        for (int d : dims) {
            out.write(d >>> 24);
            out.write(d >>> 16);
            out.write(d >>> 8);
            out.write(d);
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x ", x & 0xff));
        return s.toString().trim();
    }
}
