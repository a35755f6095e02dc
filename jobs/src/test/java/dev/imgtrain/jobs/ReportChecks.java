package dev.imgtrain.jobs;

import dev.imgtrain.testing.HeadlessChromium;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opens a run report in headless Chromium and checks what a reader would see. */
final class ReportChecks {
    /** The files every report has (mistakes.png too, unless the model made none on the test split). */
    static final List<String> FILES = List.of("index.html", "accuracy.png", "loss.png", "train-images.png",
            "test-predictions.png", "mistakes.png", "confusion.png");

    private ReportChecks() {
    }

    /**
     * Every image loads (naturalWidth > 0), no console error or failed load, the text names the run and its test
     * accuracy, the network summary and the history; the screenshot goes to {@code target/report-screenshots/NAME.png}.
     */
    static HeadlessChromium.PageCheck assertOpens(Path index, String runId, double accuracy, String screenshotName)
            throws Exception {
        try (HeadlessChromium chromium = HeadlessChromium.start()) {
            HeadlessChromium.PageCheck page = chromium.open(index.toUri());
            Path shots = Path.of("target", "report-screenshots");
            Files.createDirectories(shots);
            Files.write(shots.resolve(screenshotName + ".png"), page.screenshot());
            assertEquals(List.of(), page.errors(), "console errors of " + index);
            Set<String> sources = page.images().stream().map(HeadlessChromium.Image::src).collect(Collectors.toSet());
            assertEquals(Set.copyOf(FILES.subList(1, FILES.size())), sources, "images of " + index);
            for (HeadlessChromium.Image image : page.images()) {
                assertTrue(image.naturalWidth() > 0 && image.naturalHeight() > 0, image + " did not load");
            }
            String text = page.text();
            assertTrue(text.contains("Run " + runId), text);
            assertTrue(text.contains(String.format("Test accuracy %.4f", accuracy)), text);
            assertTrue(text.contains("Total params"), text);
            assertTrue(text.contains("val_accuracy"), text);
            assertTrue(page.screenshot().length > 10_000, "a screenshot of " + page.screenshot().length + " bytes");
            return page;
        }
    }
}
