package dev.imgtrain.testing;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small PNG images for image-folder tests: pixel (x, y) of an RGB image is (x, y, seed) + 10 each. */
public final class ImageFixtures {
    private ImageFixtures() {
    }

    public static Path png(Path file, int width, int height, boolean grey, int seed) throws IOException {
        BufferedImage image = new BufferedImage(width, height, grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (grey) {
                    image.getRaster().setSample(x, y, 0, (x + 10 * y + seed) & 0xFF);
                } else {
                    image.setRGB(x, y, ((x + 10) << 16) | ((y + 10) << 8) | ((seed + 10) & 0xFF));
                }
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    /** train/{a,b}/ and test/{a,b}/ with {@code perClass} 4x3 RGB images each (train), 1 each (test). */
    public static Path folderSet(Path root, int perClass) throws IOException {
        for (String c : new String[]{"b", "a"}) {
            for (int i = 0; i < perClass; i++) {
                png(root.resolve("train/" + c + "/img" + i + ".png"), 4, 3, false, i);
            }
            png(root.resolve("test/" + c + "/t.png"), 4, 3, false, 7);
        }
        return root;
    }
}
