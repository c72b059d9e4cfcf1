package dev.shears.cli;

import dev.shears.core.data.ImageFolder;

/**
 * An image folder's decoding ({@code --data DIR} of class folders) as {@link Progress}'s bar, one
 * step an image: "decode images [#########...] 4096/10000 images", redrawn in place on a terminal
 * and a line every few seconds otherwise; gone when the last image is decoded, where the data's
 * summary line follows.
 */
final class DecodeLine implements ImageFolder.DecodeProgress {
    private final Progress progress;

    DecodeLine(Progress progress) { this.progress = progress; }

    @Override public void decoded(int done, int total) {
        progress.update("decode images", done, total, "images");
    }
}
