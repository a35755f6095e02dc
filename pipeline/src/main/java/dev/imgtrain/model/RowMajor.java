package dev.imgtrain.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/** An array's values in row-major order, read from its own buffer when that already holds exactly them. */
public final class RowMajor {
    private RowMajor() {
    }

    /**
     * {@code array} itself when its buffer holds its values row-major and nothing else (not a view, 'c' order, no
     * offset, buffer length = array length), otherwise a row-major copy.
     */
    public static INDArray of(INDArray array) {
        return array.ordering() == 'c' && !array.isView() && array.offset() == 0 && array.data().length() == array.length()
                ? array : array.dup('c');
    }
}
