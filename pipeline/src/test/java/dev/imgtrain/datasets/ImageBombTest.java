package dev.imgtrain.datasets;

import dev.imgtrain.testing.ImageFixtures;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Images whose header declares a huge size (decompression bombs: a few bytes or MB that decode to gigabytes) are
 * refused from the header, before any pixel is decoded: the PNG and JPEG here declare 40000 x 40000 and 60000 x 60000
 * but hold the pixels of an 8 x 8 image, so decoding them would fail (or, were they real, need gigabytes).
 */
class ImageBombTest {
    @Test
    void aPngDeclaringFortyThousandSquaredIsRefusedFromItsHeader() throws Exception {
        InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
                () -> ImageFolder.decode("train/cat/bomb.png", ImageFixtures.pngDeclaring(40000, 40000), 28, 28, "the dataset's images"));
        assertEquals("train/cat/bomb.png: too large: its PNG header declares 40000x40000 pixels (1600.0 megapixels), the"
                + " dataset's images are 28x28; refused before decoding (width x height)", e.getMessage());
        InvalidArchiveException first = assertThrows(InvalidArchiveException.class,
                () -> ImageFolder.decode("train/cat/bomb.png", ImageFixtures.pngDeclaring(40000, 40000)));
        assertEquals("train/cat/bomb.png: too large: its PNG header declares 40000x40000 pixels (1600.0 megapixels), more"
                + " than the 16.8 megapixels imgtrain decodes; refused before decoding", first.getMessage());
    }

    @Test
    void aJpegTooLargeForImageIoIsCalledTooLargeNotCorrupt() throws Exception {
        InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
                () -> ImageFolder.decode("new/x.jpg", ImageFixtures.jpegDeclaring(60000, 60000), 32, 32, "the model's input images"));
        assertEquals("new/x.jpg: too large: its JPEG header declares 60000x60000 pixels (3600.0 megapixels), the model's"
                + " input images are 32x32; refused before decoding (width x height)", e.getMessage());
    }

    @Test
    void aSomewhatLargerImageIsDecodedAndThenRefusedForItsSizeAsBefore() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY), "png", out);
        byte[] png = out.toByteArray();
        ImageFolder.Decoded d = ImageFolder.decode("train/cat/big.png", png, 28, 28, "the dataset's images");
        assertEquals(64, d.width(), "4096 pixels is not far past 784: decoded, the caller names the size mismatch");
    }
}
