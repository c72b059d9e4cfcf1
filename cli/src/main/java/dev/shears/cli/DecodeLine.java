package dev.shears.cli;

import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.ImageFolder;
import dev.shears.core.data.Split;

/**
 * An image folder's decoding ({@code --data DIR} of class folders) as {@link Progress}'s bar, one
 * step an image: "decode images [#########...] 4096/10000 images", redrawn in place on a terminal
 * and a line every few seconds otherwise; gone when the last image is decoded, where the data's
 * summary line follows. While the data loads, a Ctrl-C or SIGTERM says what was loading and how
 * far the decoding got ({@link Interruption#forLoading}): without it, minutes of decoding ended
 * in silence with the bar left on the screen.
 */
final class DecodeLine implements ImageFolder.DecodeProgress {
    private final Progress progress;
    private final Interruption interruption;

    private DecodeLine(Progress progress, Interruption interruption) {
        this.progress = progress;
        this.interruption = interruption;
    }

    /**
     * Train and test sets of {@code data} ({@link DataSources#load}), with the bar and the interruption message while they
     * load; the message then stays, saying the run had not started, until the run's own takes over as it starts
     * ({@link Interruption#starting}) or the command returns.
     */
    static Split load(String data, Progress progress, Interruption interruption) {
        return loading(data, progress, interruption, line -> DataSources.load(data, line));
    }

    /**
     * The test split of {@code data} ({@link DataSources#loadTest}), as {@link #load}: the hook stays registered once it has
     * loaded, and the command goes on to say what it does next ({@link Interruption#working}: loading the model, evaluating),
     * so that no gap between the two is silent.
     */
    static Dataset loadTest(String data, Progress progress, Interruption interruption) {
        return loading(data, progress, interruption, line -> DataSources.loadTest(data, line));
    }

    /** {@code load} of --data {@code data} decoding through a new line, told to {@code interruption} as it starts and ends. */
    private static <T> T loading(String data, Progress progress, Interruption interruption, java.util.function.Function<DecodeLine, T> load) {
        interruption.loading("--data " + data, 0);
        boolean done = false;
        try {
            T loaded = load.apply(new DecodeLine(progress, interruption));
            done = true;
            return loaded;
        } finally {
            if (done) interruption.loaded("--data " + data);
            else interruption.disarm(); // the load failed, saying so itself
        }
    }

    /** The bar and the interruption's count for images decoded outside {@link #load} ({@code predict --input DIR}). */
    static ImageFolder.DecodeProgress of(Progress progress, Interruption interruption) {
        return new DecodeLine(progress, interruption);
    }

    @Override public void started(String name, int total) {
        interruption.loading(name, total);
    }

    @Override public void decoded(int done, int total) {
        interruption.decoded(done);
        progress.update("decode images", done, total, "images");
    }
}
