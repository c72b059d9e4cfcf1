package dev.shears.core.nn.layers;

/**
 * Test support for other packages: forces Conv2D's layout (images together or image by image)
 * and its scratch budget (Backend#convScratchBudgetFloats) whatever the backend prefers, or restores the backend's choice.
 */
public final class Conv2DLayoutOverride {
    private Conv2DLayoutOverride() {}

    public static void imagesTogether(Boolean together) { Conv2D.unfoldImagesTogether = together; }

    /** Forces the per-chunk scratch budget in floats, or restores the backend's with 0. */
    public static void columnsBudgetFloats(int floats) { Conv2D.colsBudgetFloats = floats; }

    /** False: every Conv2D keeps scratch of its own instead of borrowing the backend's shared one; true restores sharing. */
    public static void shareScratch(boolean share) { Conv2D.shareScratch = share; }

    /** False: depthwise convolutions take the grouped GEMM path even where the backend has a direct one; true restores it. */
    public static void directDepthwise(boolean direct) { Conv2D.useDirectDepthwise = direct; }
}
