package dev.shears.core.data;

import dev.shears.core.cpu.Parallel;
import dev.shears.core.tensor.Shape;
import dev.shears.core.util.HeapBudget;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A data set of image files, one subfolder per class, the layout of Keras'
 * {@code image_dataset_from_directory} and torchvision's {@code ImageFolder}:
 * <pre>
 * DIR/train/CLASS/IMAGE.png ...
 * DIR/test/CLASS/IMAGE.png ...     (or DIR/val/, DIR/validation/)
 * </pre>
 * read with {@code javax.imageio} (PNG, JPEG, BMP, GIF).
 *
 * <p><b>Classes.</b> A sample's label is the index of its class folder's name among the class
 * folders sorted by Unicode code point (Python's {@code sorted()}, which both Keras and
 * torchvision use; for ASCII names byte order, so {@code "10"} comes before {@code "2"}). Both
 * splits must hold the same class folders, else the load is refused naming the difference: the
 * same index must mean the same class in training and evaluation, and {@code eval} (which decodes
 * only the test split) still lists the train split's class folders when it is there.
 *
 * <p><b>Test split.</b> {@code test/}, else {@code val/}, else {@code validation/}: Shears uses one
 * held-out split, for the per-epoch evaluation during training and for {@code eval}, and a
 * train/val tree (ImageNet's layout, many Keras tutorials') has no other. A {@code test/} beside
 * a {@code val/} is read, and the log says that the other is not.
 *
 * <p><b>Samples.</b> Floats [C, H, W] in [0, 1]: an 8-bit value v becomes {@code v / 255f} (the
 * same floats as IDX gives for the same pixels), a 16-bit one {@code v / 65535f} (kept at full
 * precision), 1/2/4-bit gray {@code v / (2^bits - 1)}. C is 1 when every image of the tree is gray
 * (a palette whose colours are all gray counts as gray), else 3; gray images in a colour tree are
 * repeated into R, G and B, and the log says how many. Alpha is dropped (not blended onto a
 * background), as Keras' and PIL's RGB modes do. Palette images (GIF, indexed PNG) take their
 * palette's colours; colour spaces other than gray and RGB (a CMYK JPEG) go through Java's
 * conversion to sRGB. Every image of the tree must have one size: another is refused naming a file
 * of each size (the model's input size is not known yet when the files are read; {@link ImageFit}
 * later resizes the whole set to it). Channel conversion for a model that takes the other number
 * of channels, and resizing, happen once the model is known ({@link ImageFit}).
 *
 * <p><b>Skipped.</b> Hidden files and folders (a name starting with {@code .}: {@code .DS_Store},
 * {@code ._x.png}) and files without an image extension ({@code .png}, {@code .jpg},
 * {@code .jpeg}, {@code .bmp}, {@code .gif}, any case) are skipped and counted in the log. Images
 * in subfolders of a class folder belong to that class (both frameworks walk them too).
 *
 * <p><b>Errors.</b> An image that does not decode, or decodes with a warning (a truncated JPEG
 * decodes to gray padding with only a warning), is refused naming the file. An empty split or
 * class folder is refused naming it. The floats' size is computed from the headers and checked
 * against the free heap before any image is decoded; headers and images are read in parallel
 * ({@link Parallel}).
 */
public final class ImageFolder {
    private ImageFolder() {}

    /** The split folder names read as the test split, in order of preference. */
    private static final List<String> TEST_SPLITS = List.of("test", "val", "validation");
    private static final String TRAIN_SPLIT = "train";
    /** File name extensions read as images (lower case; matched in any case). */
    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");
    /** The layout, for messages listing what {@code --data} accepts. */
    public static final String LAYOUT = "a folder of image folders train/ and test/ (or val/, validation/), each holding one subfolder per class"
            + " of PNG, JPEG, BMP or GIF files (DIR/train/CLASS/IMAGE.png)";

    /** Python's {@code sorted()} order of str: by Unicode code point (String's own order differs above U+FFFF). */
    static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    };

    /** Told as images are decoded (from decoding threads, one call at a time): {@code done} of {@code total}. */
    @FunctionalInterface
    public interface DecodeProgress {
        DecodeProgress NONE = (done, total) -> {};

        /**
         * A split's decoding starts: {@code total} images of {@code name} ("DIR (train)"); called on the loading thread
         * before the first {@link #decoded} of that split. What a Ctrl-C then names (the CLI's interruption message).
         */
        default void started(String name, int total) {}

        void decoded(int done, int total);
    }

    /**
     * Whether {@code dir} is laid out as image split folders: it holds a {@code train/},
     * {@code test/}, {@code val/} or {@code validation/} folder. Checked after the IDX and NumPy
     * files, so a folder holding those is read as them whatever subfolders it also has.
     */
    public static boolean looksLike(Path dir) {
        if (Files.isDirectory(dir.resolve(TRAIN_SPLIT))) return true;
        for (String s : TEST_SPLITS) if (Files.isDirectory(dir.resolve(s))) return true;
        return false;
    }

    /**
     * What to do when {@code dir}, not laid out as split folders ({@link #looksLike} false), holds
     * images one or two levels down: the usual slips are giving a split folder ({@code DIR/train})
     * or a class folder instead of DIR, and a single folder of class folders (Keras'
     * {@code image_dataset_from_directory} with {@code validation_split}), which Shears cannot
     * split itself. Empty when it holds no images there (then it is no image data set at all).
     */
    public static String hint(Path dir) {
        if (holdsImages(dir)) {
            Path split = dir.getParent(), root = split == null ? null : split.getParent();
            return root != null && isSplitName(split) ? "; " + dir + " holds images itself, as one class's folder does: give --data " + root
                    : "; " + dir + " holds images itself, as one class's folder does: put each class's images in DIR/train/CLASS/ and DIR/test/CLASS/ and give --data DIR";
        }
        List<String> classes = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(Files::isDirectory).filter(d -> !d.getFileName().toString().startsWith(".")).filter(ImageFolder::holdsImages)
                    .map(d -> d.getFileName().toString()).sorted(CODE_POINT_ORDER).forEach(classes::add);
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
        if (classes.isEmpty()) return "";
        String found = "; " + dir + " holds class folders of images (" + String.join(", ", classes.subList(0, Math.min(3, classes.size())))
                + (classes.size() > 3 ? ", ..." : "") + ")";
        Path root = dir.getParent();
        if (root != null && isSplitName(dir))
            return found + ", as a split folder does: give --data " + root + " (with both " + root.resolve(TRAIN_SPLIT) + "/ and "
                    + root.resolve("test") + "/ or val/)";
        return found + " but no train/ and test/ splits: move them into " + dir.resolve(TRAIN_SPLIT) + "/ and put held-out images of every class"
                + " in " + dir.resolve("test") + "/CLASS/ (Shears does not split a data set itself)";
    }

    private static boolean isSplitName(Path dir) {
        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
        return name.equals(TRAIN_SPLIT) || TEST_SPLITS.contains(name);
    }

    /** Whether {@code dir} directly holds a visible file with an image extension. */
    private static boolean holdsImages(Path dir) {
        try (var s = Files.list(dir)) {
            return s.anyMatch(f -> { String n = f.getFileName().toString(); return !n.startsWith(".") && isImageName(n) && Files.isRegularFile(f); });
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /** Train and test sets; conversions, skipped files and timings are said on {@code log}. */
    public static Split load(Path dir, PrintStream log, DecodeProgress progress) {
        Path train = dir.resolve(TRAIN_SPLIT);
        Path test = testSplit(dir, log);
        if (!Files.isDirectory(train))
            throw new DataException("--data " + dir + ": there is no " + train + " folder beside " + test.getFileName() + "/; training reads "
                    + "DIR/train/CLASS/IMAGE files (eval needs only the test split)");
        Listing tr = list(train), te = list(test);
        sameClasses(tr, te);
        List<Listing> both = List.of(tr, te);
        Geometry g = geometry(both, dir);
        Dataset a = decode(tr, g, dir + " (train)", log, progress), b = decode(te, g, dir + " (test)", log, progress);
        return new Split(a, b);
    }

    /** Only the test split (what {@code eval} reads); the train split's class folders are still compared with it when it is there. */
    public static Dataset loadTest(Path dir, PrintStream log, DecodeProgress progress) {
        Path test = testSplit(dir, log);
        Listing te = list(test);
        Path train = dir.resolve(TRAIN_SPLIT);
        if (Files.isDirectory(train)) sameClasses(classesOf(train), te);
        return decode(te, geometry(List.of(te), dir), dir + " (test)", log, progress);
    }

    private static Path testSplit(Path dir, PrintStream log) {
        List<String> present = TEST_SPLITS.stream().filter(s -> Files.isDirectory(dir.resolve(s))).toList();
        if (present.isEmpty())
            throw new DataException("--data " + dir + ": there is no test split: give the held-out images as " + dir.resolve("test")
                    + "/CLASS/IMAGE files (or val/, validation/)");
        if (present.size() > 1)
            log.println("data: " + dir + ": reading " + present.get(0) + "/ as the test split; " + String.join("/, ", present.subList(1, present.size()))
                    + "/ is not read");
        return dir.resolve(present.get(0));
    }

    /**
     * One split's image files and their labels, in order: by class, then by path within the class.
     *
     * @param files   the image files, in sample order
     * @param labels  files.size() class indices
     * @param classes class folder names, sorted ({@link #CODE_POINT_ORDER})
     * @param skipped why files were skipped ("hidden", "not an image", "not in a class folder") and how many
     */
    record Listing(Path split, List<String> classes, List<Path> files, int[] labels, Map<String, Integer> skipped) {}

    /** Class folder names only, without the files (the train split's, for eval). */
    private static Listing classesOf(Path split) {
        return new Listing(split, classNames(split, new LinkedHashMap<>()), List.of(), new int[0], Map.of());
    }

    private static List<String> classNames(Path split, Map<String, Integer> skipped) {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(split)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) skipped.merge("hidden", 1, Integer::sum);
                else if (Files.isDirectory(p)) names.add(n);
                else skipped.merge("not in a class folder", 1, Integer::sum);
            }
        } catch (IOException e) {
            throw new DataException(split + ": cannot list the folder (" + e + ")", e);
        }
        if (names.isEmpty())
            throw new DataException(split + " holds no class folders: put each class's images in a folder of its own, " + split
                    + "/CLASS/IMAGE.png (the folder names, sorted, give the class indices)");
        names.sort(CODE_POINT_ORDER);
        return names;
    }

    static Listing list(Path split) {
        Map<String, Integer> skipped = new LinkedHashMap<>();
        List<String> classes = classNames(split, skipped);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            Path dir = split.resolve(classes.get(c));
            List<Path> images = imagesUnder(dir, skipped);
            if (images.isEmpty())
                throw new DataException(dir + ": the class folder holds no images (" + String.join(", ", new TreeSet<>(EXTENSIONS))
                        + "); add its images, or remove the folder from every split (the class indices come from the folder names)");
            files.addAll(images);
            for (int i = 0; i < images.size(); i++) labels.add(c);
        }
        return new Listing(split, classes, files, labels.stream().mapToInt(Integer::intValue).toArray(), skipped);
    }

    /**
     * The image files in {@code dir} and its subfolders, sorted by their path within it
     * ({@link #CODE_POINT_ORDER}); hidden ones and files without an image extension are counted in
     * {@code skipped}.
     */
    private static List<Path> imagesUnder(Path dir, Map<String, Integer> skipped) {
        List<Path> images = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            for (Path p : walk.toList()) {
                if (p.equals(dir) || Files.isDirectory(p)) continue;
                if (hidden(dir.relativize(p))) skipped.merge("hidden", 1, Integer::sum);
                else if (!isImageName(p.getFileName().toString())) skipped.merge("not an image", 1, Integer::sum);
                else images.add(p);
            }
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof FileSystemLoopException)
                throw new DataException(dir + ": a symbolic link loops back into the folder (" + e.getCause().getMessage() + "); remove the link", e);
            throw new DataException(dir + ": cannot list the folder (" + e.getCause() + ")", e);
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list the folder (" + e + ")", e);
        }
        images.sort(Comparator.comparing(p -> dir.relativize(p).toString(), CODE_POINT_ORDER));
        return images;
    }

    /**
     * Images to run a model on ({@code predict}), decoded exactly as a data set's
     * ({@link #load}: the same floats, channels and size rules; {@link SampleLayout#arrange} then
     * fits them to the model): one image file, or the image files of a folder and its subfolders
     * in {@link #CODE_POINT_ORDER} of their paths within it (hidden and non-image files skipped,
     * said on {@code log}). They must share one size, as a data set's must.
     *
     * @param files the files, in sample order
     * @param data  their samples (labels all 0, no class names)
     */
    public record Images(List<Path> files, Dataset data) {}

    /** Reads {@link Images} from {@code input}, a file or a folder; errors name the file. */
    public static Images loadImages(Path input, PrintStream log) {
        return loadImages(input, log, DecodeProgress.NONE);
    }

    /** {@link #loadImages(Path, PrintStream)}, telling {@code progress} as the images decode (a folder of thousands takes a while). */
    public static Images loadImages(Path input, PrintStream log, DecodeProgress progress) {
        Map<String, Integer> skipped = new LinkedHashMap<>();
        List<Path> files;
        if (Files.isDirectory(input)) {
            files = imagesUnder(input, skipped);
            if (files.isEmpty())
                throw new DataException(input + ": the folder holds no images (" + String.join(", ", new TreeSet<>(EXTENSIONS)) + ")");
        } else {
            if (!isImageName(input.getFileName().toString()))
                throw new DataException(input + ": not an image file name (" + String.join(", ", new TreeSet<>(EXTENSIONS)) + ")");
            files = List.of(input);
        }
        Listing l = new Listing(input, List.of(), files, new int[files.size()], skipped);
        return new Images(files, decode(l, geometry(List.of(l), input), input.toString(), log, progress));
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }

    /** Whether {@code name} has an image extension Shears reads (PNG, JPEG, BMP, GIF; any case). */
    public static boolean isImageName(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Refuses two splits whose class folders differ, naming the folders only one has. */
    private static void sameClasses(Listing train, Listing test) {
        if (train.classes().equals(test.classes())) return;
        List<String> onlyTrain = train.classes().stream().filter(c -> !test.classes().contains(c)).toList();
        List<String> onlyTest = test.classes().stream().filter(c -> !train.classes().contains(c)).toList();
        throw new DataException(train.split().getParent() + ": the splits hold different class folders ("
                + (onlyTrain.isEmpty() ? "" : "only in " + train.split().getFileName() + "/: " + String.join(", ", onlyTrain))
                + (onlyTrain.isEmpty() || onlyTest.isEmpty() ? "" : "; ")
                + (onlyTest.isEmpty() ? "" : "only in " + test.split().getFileName() + "/: " + String.join(", ", onlyTest))
                + "); the class index is the position of the folder name in the sorted list, so both splits need the same folders"
                + " (an empty one is not enough: give every class some images in each split)");
    }

    /** One image's size and whether it is gray, from its header. */
    record Header(int width, int height, boolean gray) {}

    /** The set's per-sample shape: channels (1 or 3), height, width; and how many gray images a colour set widens. */
    record Geometry(int channels, int height, int width, int grayInColour) {
        Shape shape() { return Shape.of(channels, height, width); }
    }

    /** Reads every file's header (in parallel) and settles one shape for the whole tree, or refuses naming a file of each size. */
    private static Geometry geometry(List<Listing> splits, Path where) {
        List<Path> files = new ArrayList<>();
        for (Listing l : splits) files.addAll(l.files());
        Header[] headers = new Header[files.size()];
        Parallel.forTasks(files.size(), i -> headers[i] = read(files.get(i), false).header());
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Map<String, Path> example = new LinkedHashMap<>();
        int gray = 0;
        for (int i = 0; i < headers.length; i++) {
            String size = headers[i].width() + "x" + headers[i].height();
            sizes.merge(size, 1, Integer::sum);
            example.putIfAbsent(size, files.get(i));
            if (headers[i].gray()) gray++;
        }
        if (sizes.size() > 1) {
            List<String> bySize = sizes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .map(e -> e.getKey() + " (" + e.getValue() + (e.getValue() == 1 ? " file: " : " files, e.g. ") + example.get(e.getKey()) + ")").toList();
            // the suggested resize targets the most common size, the one the fewest files must leave
            String common = sizes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            throw new DataException(where + ": the images have " + sizes.size() + " sizes (width x height): "
                    + String.join(", ", bySize.subList(0, Math.min(4, bySize.size()))) + (bySize.size() > 4 ? ", ..." : "")
                    + "; a data set's images must share one size: resize them first (e.g. ImageMagick in each split: mogrify -resize " + common + "! */*.png)."
                    + " Shears then resizes the whole set to the model's input size if that differs");
        }
        Header h = headers[0];
        int channels = gray == headers.length ? 1 : 3;
        return new Geometry(channels, h.height(), h.width(), channels == 3 ? gray : 0);
    }

    private static Dataset decode(Listing l, Geometry g, String name, PrintStream log, DecodeProgress progress) {
        int n = l.files().size();
        long per = (long) g.channels() * g.height() * g.width(), values = per * n;
        if (values > Integer.MAX_VALUE - 16)
            throw new DataException(name + ": " + n + " images of " + g.shape() + " are " + values + " floats, more than one Java array holds ("
                    + (Integer.MAX_VALUE - 16) + "); use fewer or smaller images");
        HeapBudget.requireForData(values * Float.BYTES, name + ": " + n + " images of " + g.shape() + " as floats", DataException::new);
        float[] x = new float[(int) values];
        progress.started(name, n);
        int[] done = {0}; // images decoded so far, counted under the lock that also keeps progress calls one at a time
        Object lock = new Object();
        long t0 = System.nanoTime();
        Parallel.forTasks(n, i -> {
            Path f = l.files().get(i);
            Decoded d = read(f, true);
            if (d.header().width() != g.width() || d.header().height() != g.height()) // changed on disk since its header was read
                throw new DataException(f + ": the image is " + d.header().width() + "x" + d.header().height() + ", not " + g.width() + "x"
                        + g.height() + " as when the folder was scanned; did it change during the load? Run again");
            write(d.image(), g.channels(), x, (int) (i * per));
            synchronized (lock) {
                progress.decoded(++done[0], n);
            }
        });
        double secs = (System.nanoTime() - t0) / 1e9;
        String classes = l.classes().isEmpty() ? "" : " of " + l.classes().size() + " classes (" + classList(l.classes()) + ")"; // none: predict's images
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "data: %s: %d image%s%s, samples %s %s in [0, 1], decoded in %.2f s on %d threads",
                name, n, n == 1 ? "" : "s", classes, g.shape(), g.channels() == 1 ? "gray" : "RGB", secs, Parallel.threads()));
        if (g.grayInColour() > 0) s.append("; gray images repeated into R, G, B in a colour set");
        if (!l.skipped().isEmpty()) {
            s.append("; skipped ");
            List<String> parts = new ArrayList<>();
            l.skipped().forEach((why, count) -> parts.add(count + " " + why + (count == 1 ? " file" : " files")));
            s.append(String.join(", ", parts));
        }
        log.println(s);
        return new Dataset(name, g.shape(), x, l.labels(), Math.max(1, l.classes().size()), true, l.classes()); // predict's images: one unnamed class
    }

    /** The class names with their indices, shortened past 12: "0=cat, 1=dog". */
    private static String classList(List<String> classes) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < Math.min(classes.size(), 12); i++) out.add(i + "=" + classes.get(i));
        if (classes.size() > 12) out.add("... " + (classes.size() - 1) + "=" + classes.getLast());
        return String.join(", ", out);
    }

    /** A header, and the decoded image when asked for. */
    private record Decoded(Header header, BufferedImage image) {}

    /**
     * Reads one file's header, and decodes it when {@code pixels}. A reader's warning is an error:
     * the JDK's JPEG reader only warns about a truncated file, filling the rest gray.
     */
    private static Decoded read(Path file, boolean pixels) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new DataException(file + ": cannot open the file; check that it is readable");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext())
                throw new DataException(file + ": not a PNG, JPEG, BMP or GIF image (no image reader knows its bytes, whatever its name says);"
                        + " convert it, or move it out of the data folder");
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                List<String> warnings = new ArrayList<>();
                r.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
                int w = r.getWidth(0), h = r.getHeight(0);
                BufferedImage img = pixels ? r.read(0) : null;
                if (!warnings.isEmpty())
                    throw new DataException(file + ": the image is damaged (" + String.join("; ", warnings) + "); replace it, or move it out of the data folder");
                boolean gray = img != null ? isGray(img.getColorModel()) : isGray(rawType(r));
                return new Decoded(new Header(w, h, gray), img);
            } finally {
                r.dispose();
            }
        } catch (IIOException e) {
            throw new DataException(file + ": cannot decode the image (" + causes(e) + "); the file is damaged or truncated: replace it,"
                    + " or move it out of the data folder", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException de) throw de;
            throw new DataException(file + ": cannot read the image (" + causes(e) + "); the file is damaged or not an image: replace it,"
                    + " or move it out of the data folder", e);
        }
    }

    private static String causes(Throwable e) {
        StringBuilder s = new StringBuilder(String.valueOf(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause())
            s.append(": ").append(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName());
        return s.toString();
    }

    private static ColorModel rawType(ImageReader r) throws IOException {
        ImageTypeSpecifier t = r.getRawImageType(0);
        if (t == null) {
            Iterator<ImageTypeSpecifier> types = r.getImageTypes(0);
            if (!types.hasNext()) throw new IIOException("the reader offers no image type");
            t = types.next();
        }
        return t.getColorModel();
    }

    /** Gray: a gray colour space, or a palette whose colours all have R = G = B. */
    static boolean isGray(ColorModel cm) {
        if (cm instanceof IndexColorModel icm) {
            for (int i = 0; i < icm.getMapSize(); i++)
                if (icm.getRed(i) != icm.getGreen(i) || icm.getGreen(i) != icm.getBlue(i)) return false;
            return true;
        }
        return cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    }

    /**
     * Writes {@code img} as {@code channels} planes of floats in [0, 1] at {@code x[at ...]}: the
     * stored samples divided by their maximum ({@code v / 255f} for 8 bits), alpha dropped. A gray
     * image in a colour set is repeated into three planes; a colour image read where the headers
     * said gray (a reader whose decoded type differs from its header's) becomes its BT.601 luma.
     */
    private static void write(BufferedImage img, int channels, float[] x, int at) {
        int w = img.getWidth(), h = img.getHeight(), plane = w * h;
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        float[] rgb = new float[3];
        boolean gray = isGray(cm);
        int type = cm.getColorSpace().getType();
        boolean raw = !(cm instanceof IndexColorModel) && (type == ColorSpace.TYPE_GRAY || type == ColorSpace.TYPE_RGB);
        float[] max = new float[3];
        if (raw) for (int c = 0; c < cm.getNumColorComponents(); c++) max[c] = (float) ((1L << cm.getComponentSize(c)) - 1);
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++) {
                int p = yy * w + xx;
                if (raw && gray) {
                    rgb[0] = rgb[1] = rgb[2] = r.getSample(xx, yy, 0) / max[0];
                } else if (raw) {
                    for (int c = 0; c < 3; c++) rgb[c] = r.getSample(xx, yy, c) / max[c];
                } else if (cm instanceof IndexColorModel icm) {
                    int idx = r.getSample(xx, yy, 0);
                    rgb[0] = icm.getRed(idx) / 255f;
                    rgb[1] = icm.getGreen(idx) / 255f;
                    rgb[2] = icm.getBlue(idx) / 255f;
                } else { // another colour space (CMYK, YCCK): Java's conversion to 8-bit sRGB
                    int argb = img.getRGB(xx, yy);
                    rgb[0] = ((argb >>> 16) & 0xff) / 255f;
                    rgb[1] = ((argb >>> 8) & 0xff) / 255f;
                    rgb[2] = (argb & 0xff) / 255f;
                }
                if (channels == 1) x[at + p] = gray ? rgb[0] : ImageFit.luma(rgb[0], rgb[1], rgb[2]);
                else for (int c = 0; c < 3; c++) x[at + c * plane + p] = rgb[c];
            }
    }
}
