package dev.imgtrain.datasets;

/** One decoded example: its index in its split (archive order), its label and its pixel bytes. */
public record Example(int index, int label, byte[] pixels) {
}
