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

    /** An 8x8 grey PNG whose IHDR declares {@code width} x {@code height} (its CRC made right): a decompression bomb's header. */
    public static byte[] pngDeclaring(int width, int height) throws IOException {
        byte[] png = encoded("png", BufferedImage.TYPE_BYTE_GRAY);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png);
        if (b.getInt(12) != 0x49484452) {
            throw new IllegalStateException("IHDR is not the first chunk");
        }
        b.putInt(16, width).putInt(20, height);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return png;
    }

    /** An 8x8 RGB JPEG whose SOF0 declares {@code width} x {@code height}. */
    public static byte[] jpegDeclaring(int width, int height) throws IOException {
        byte[] jpeg = encoded("jpg", BufferedImage.TYPE_INT_RGB);
        for (int i = 2; i < jpeg.length - 9; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xC0) {
                java.nio.ByteBuffer.wrap(jpeg).putShort(i + 5, (short) height).putShort(i + 7, (short) width);
                return jpeg;
            }
        }
        throw new IllegalStateException("no SOF0 marker");
    }

    private static byte[] encoded(String format, int type) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(8, 8, type), format, out);
        return out.toByteArray();
    }
}
