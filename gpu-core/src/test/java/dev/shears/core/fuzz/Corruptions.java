package dev.shears.core.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Seeded, deterministic damage to a seed file: truncations and byte mutations, and for zip
 * archives whole-entry damage. The same seed and file always give the same cases, so a failure
 * reproduces from its case name alone.
 *
 * <p>Offsets are drawn half from the file's head (the first 4 KiB, where headers, lengths and
 * dimensions live in every format Shears reads) and half from anywhere, so a 2 MB weights file is
 * not fuzzed only in its float payload.
 */
public final class Corruptions {
    private Corruptions() {}

    /** The modification time of every entry {@link #rezip} writes (2020-01-01T00:00:00Z). */
    private static final long FIXED_TIME = 1577836800000L;

    /** The head where headers live: half of all offsets fall here. */
    private static final int HEAD = 4096;

    /**
     * {@code count} truncations: lengths 0, 1, len-1, each boundary and its neighbours, then seeded
     * lengths, all distinct and shorter than the file.
     *
     * @param boundaries offsets where the format changes structure (end of magic, end of header, ...)
     */
    public static List<Corruption> truncations(byte[] seed, long rngSeed, int count, int... boundaries) {
        int len = seed.length;
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int c : new int[]{0, 1, len - 1}) if (c >= 0 && c < len) cuts.add(c);
        for (int b : boundaries) for (int c = b - 1; c <= b + 1; c++) if (c >= 0 && c < len) cuts.add(c);
        SplittableRandom r = random(rngSeed);
        for (int tries = 0; cuts.size() < Math.min(count, len) && tries < 100 * count; tries++) cuts.add(offset(r, len));
        List<Corruption> out = new ArrayList<>();
        for (int c : cuts) out.add(new Corruption("truncate@" + c, Arrays.copyOf(seed, c)));
        return out;
    }

    /**
     * {@code count} mutations: single bit flips, a byte set to 0x00 or 0xff, a 16/32/64-bit field
     * (either byte order) set to 0, -1, the largest positive value or the most negative one, and
     * short runs of random bytes.
     */
    public static List<Corruption> mutations(byte[] seed, long rngSeed, int count) {
        SplittableRandom r = random(rngSeed);
        List<Corruption> out = new ArrayList<>();
        int len = seed.length;
        if (len == 0) return out;
        long[] special = {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0x7fffffffL, 0x80000000L, 0xffffL, 1L << 40};
        for (int i = 0; i < count; i++) {
            byte[] b = seed.clone();
            int at = offset(r, len);
            String name;
            switch (i % 5) {
                case 0 -> {
                    int bit = r.nextInt(8);
                    b[at] ^= (byte) (1 << bit);
                    name = "bitflip" + bit + "@" + at;
                }
                case 1 -> {
                    byte v = r.nextBoolean() ? 0 : (byte) 0xff;
                    b[at] = v;
                    name = "byte=" + (v & 0xff) + "@" + at;
                }
                case 2, 3 -> {
                    int width = new int[]{2, 4, 4, 8}[r.nextInt(4)];
                    at = Math.max(0, Math.min(at, len - width));
                    long v = special[r.nextInt(special.length)];
                    boolean little = r.nextBoolean();
                    for (int k = 0; k < width && at + k < len; k++) {
                        int shift = 8 * (little ? k : width - 1 - k);
                        b[at + k] = (byte) (v >>> shift);
                    }
                    name = "int" + 8 * width + (little ? "le" : "be") + "=" + v + "@" + at;
                }
                default -> {
                    int run = 1 + r.nextInt(Math.min(16, len));
                    at = Math.min(at, len - run);
                    for (int k = 0; k < run; k++) b[at + k] = (byte) r.nextInt(256);
                    name = "random" + run + "@" + at;
                }
            }
            out.add(new Corruption(name, b));
        }
        return out;
    }

    /**
     * For each entry of a zip archive: the archive without it, with the entry cut to half its
     * length, with the entry emptied, and with {@code mutationsPerEntry} mutations of the entry's
     * content (the archive itself stays valid, so the reader of that entry is what is exercised).
     */
    public static List<Corruption> zipEntries(byte[] zip, long rngSeed, int mutationsPerEntry) {
        Map<String, byte[]> entries = unzip(zip);
        List<Corruption> out = new ArrayList<>();
        long s = rngSeed;
        for (String name : entries.keySet()) {
            out.add(new Corruption("zip-drop[" + name + "]", rezip(entries, name, null)));
            byte[] content = entries.get(name);
            out.add(new Corruption("zip-half[" + name + "]", rezip(entries, name, Arrays.copyOf(content, content.length / 2))));
            out.add(new Corruption("zip-empty[" + name + "]", rezip(entries, name, new byte[0])));
            for (Corruption c : mutations(content, ++s, mutationsPerEntry))
                out.add(new Corruption("zip[" + name + "]" + c.name(), rezip(entries, name, c.bytes())));
        }
        return out;
    }

    /** The entries of a zip archive, in order. */
    public static Map<String, byte[]> unzip(byte[] zip) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) entries.put(e.getName(), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    /**
     * A zip of {@code entries} with entry {@code name} replaced by {@code content}, or left out when
     * it is null; entry times are fixed, so {@code rezip(unzip(z), null, null)} makes a freshly
     * written archive a reproducible seed.
     */
    public static byte[] rezip(Map<String, byte[]> entries, String name, byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                byte[] b = e.getKey().equals(name) ? content : e.getValue();
                if (b == null) continue;
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setTime(FIXED_TIME); // not the clock: the same entries give the same bytes in every run
                out.putNextEntry(entry);
                out.write(b);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The random source for a case list: {@code rngSeed} shifted by the system property
     * {@code shears.fuzz.seed} (0 by default, the cases every build runs). Give another value
     * ({@code -Dshears.fuzz.seed=7}) to explore cases beyond the fixed ones; a failure found so
     * reproduces with the same value.
     */
    public static SplittableRandom random(long rngSeed) {
        return new SplittableRandom(rngSeed + Long.getLong("shears.fuzz.seed", 0L) * 1_000_003L);
    }

    private static int offset(SplittableRandom r, int len) {
        return r.nextBoolean() ? r.nextInt(Math.min(HEAD, len)) : r.nextInt(len);
    }
}
