package dev.imgtrain.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class ShiftedCopiesTest {
    /** A 3x2 image with two channel planes: 1..6 and 11..16, row-major. */
    private static final byte[] IMAGE = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};

    @Test
    void copyZeroIsTheImageItself() {
        assertSame(IMAGE, ShiftedCopies.shift(IMAGE, 2, 3, 2, new int[]{0, 0}));
    }

    @Test
    void oneRightMovesEveryPlaneAndFillsWithZeros() {
        assertArrayEquals(new byte[]{0, 1, 2, 0, 4, 5, 0, 11, 12, 0, 14, 15},
                ShiftedCopies.shift(IMAGE, 2, 3, 2, new int[]{1, 0}));
    }

    @Test
    void oneUpAndLeft() {
        assertArrayEquals(new byte[]{5, 6, 0, 0, 0, 0, 15, 16, 0, 0, 0, 0},
                ShiftedCopies.shift(IMAGE, 2, 3, 2, new int[]{-1, -1}));
    }
}
