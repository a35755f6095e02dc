package dev.imgtrain.report;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Renders a report page from its logic-less mustache template (on the classpath under {@code dev/imgtrain/report/}). */
public final class ReportPage {
    private static final DefaultMustacheFactory TEMPLATES = new DefaultMustacheFactory("dev/imgtrain/report");

    private ReportPage() {
    }

    /** {@code template} (e.g. {@code run-report.mustache}) filled from {@code view}, as UTF-8 bytes; values are HTML-escaped. */
    public static byte[] render(String template, Object view) {
        Mustache mustache = TEMPLATES.compile(template);
        StringWriter out = new StringWriter();
        mustache.execute(out, view);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
