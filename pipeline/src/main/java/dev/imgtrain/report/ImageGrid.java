package dev.imgtrain.report;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A grid of dataset images with a title under each, as one PNG (the seeds' matplotlib subplot grids). Images are the
 * raw table's bytes: channel planes of {@code height × width} row-major pixels (one grey plane, or R, G and B), the
 * layout every imgtrain dataset is ingested in; they are drawn scaled to about {@link #TILE} pixels, titles below,
 * a wrong prediction's title in red.
 */
public final class ImageGrid {
    static final int TILE = 84;
    private static final int TITLE = 18;
    private static final int GAP = 6;
    private static final Color WRONG = new Color(0xC6, 0x28, 0x28);

    private ImageGrid() {
    }

    /** One cell: the raw image bytes, its title, and an optional second line (null for none). */
    public record Tile(byte[] image, String title, String subtitle, boolean wrong) {
    }

    public static byte[] png(List<Tile> tiles, int height, int width, int channels, int columns) {
        if (tiles.isEmpty()) {
            throw new IllegalArgumentException("an image grid needs at least one image");
        }
        int rows = (tiles.size() + columns - 1) / columns;
        double scale = (double) TILE / Math.max(height, width);
        int tileW = (int) Math.round(width * scale);
        int tileH = (int) Math.round(height * scale);
        int cellW = Math.max(tileW, TILE + 28) + GAP; // room for titles such as "true: automobile"
        int lines = tiles.stream().anyMatch(t -> t.subtitle() != null) ? 2 : 1;
        int cellH = tileH + lines * TITLE + GAP;
        BufferedImage grid = new BufferedImage(columns * cellW + GAP, rows * cellH + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            // Nearest neighbour when enlarging (the pixels of a 28x28 digit stay crisp), bilinear when shrinking.
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, scale >= 1
                    ? RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics metrics = g.getFontMetrics();
            for (int i = 0; i < tiles.size(); i++) {
                Tile tile = tiles.get(i);
                int x = GAP + (i % columns) * cellW + (cellW - GAP - tileW) / 2;
                int y = GAP + (i / columns) * cellH;
                g.drawImage(image(tile.image(), height, width, channels), x, y, tileW, tileH, null);
                g.setColor(tile.wrong() ? WRONG : Color.DARK_GRAY);
                int cellX = GAP + (i % columns) * cellW;
                String[] text = tile.subtitle() == null ? new String[]{tile.title()} : new String[]{tile.title(), tile.subtitle()};
                for (int line = 0; line < text.length; line++) {
                    String fitted = fit(text[line], metrics, cellW - GAP);
                    g.drawString(fitted, cellX + (cellW - GAP - metrics.stringWidth(fitted)) / 2,
                            y + tileH + line * TITLE + metrics.getAscent() + 2);
                }
            }
        } finally {
            g.dispose();
        }
        return encode(grid);
    }

    /** One raw image (channel planes) as a picture. */
    static BufferedImage image(byte[] bytes, int height, int width, int channels) {
        int plane = height * width;
        if (bytes.length != plane * channels) {
            throw new IllegalArgumentException("image of " + bytes.length + " bytes, expected " + height + "x" + width
                    + "x" + channels + " = " + plane * channels);
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < plane; p++) {
            int r = bytes[p] & 0xFF;
            int gr = channels >= 3 ? bytes[plane + p] & 0xFF : r;
            int b = channels >= 3 ? bytes[2 * plane + p] & 0xFF : r;
            image.setRGB(p % width, p / width, (r << 16) | (gr << 8) | b);
        }
        return image;
    }

    static byte[] encode(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a PNG: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private static String fit(String text, FontMetrics metrics, int width) {
        if (metrics.stringWidth(text) <= width) {
            return text;
        }
        String cut = text;
        while (cut.length() > 1 && metrics.stringWidth(cut + "…") > width) {
            cut = cut.substring(0, cut.length() - 1);
        }
        return cut + "…";
    }
}
