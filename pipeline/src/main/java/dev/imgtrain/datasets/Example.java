package dev.imgtrain.datasets;

/**
 * One decoded example: its index in its split (archive order), its label and its pixel bytes, and its split when the
 * decoder reads more than one (null: the task's split).
 */
public record Example(int index, int label, byte[] pixels, String split) {
    public Example(int index, int label, byte[] pixels) {
        this(index, label, pixels, null);
    }
}
