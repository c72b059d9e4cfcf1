package dev.shears.core.nn.layers;

/**
 * Test support for other packages: forces Conv2D's layout (images together or image by image)
 * whatever the backend prefers, or restores the backend's choice with null.
 */
public final class Conv2DLayoutOverride {
    private Conv2DLayoutOverride() {}

    public static void imagesTogether(Boolean together) { Conv2D.unfoldImagesTogether = together; }
}
