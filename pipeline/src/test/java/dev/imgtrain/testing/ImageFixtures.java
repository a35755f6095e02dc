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

    /**
     * A real decompression bomb: a valid grey PNG of {@code width} x {@code height} black pixels, every row deflated
     * (40000 x 40000 is 1.6 GB of pixels in about 1.6 MB). Decoding it whole would take that much heap.
     */
    public static byte[] pngBomb(int width, int height) throws IOException {
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", header.array());
        java.io.ByteArrayOutputStream idat = new java.io.ByteArrayOutputStream();
        byte[] row = new byte[width + 1]; // filter byte 0, then black pixels
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat,
                new java.util.zip.Deflater(java.util.zip.Deflater.BEST_COMPRESSION), 1 << 16)) {
            for (int y = 0; y < height; y++) {
                z.write(row);
            }
        }
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        byte[] name = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        crc.update(name);
        crc.update(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(name);
        out.write(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
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
