package dev.imgtrain.ui;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which handler answers which URL. Pages: {@code /} (runs), {@code /runs/ID}, {@code /runs/ID/report/FILE},
 * {@code /compare?runs=A,B}, {@code /sweeps}, {@code /sweeps/ID}, {@code /models}, {@code /models/DATASET},
 * {@code /datasets}, {@code /datasets/DATASET}, {@code /datasets/DATASET/samples.png}; the same under {@code /api/}
 * as JSON ({@link Api}); {@code /assets/FILE} from the jar. A warehouse that cannot be read answers 503 with what
 * went wrong, on a page for pages and as JSON for the API.
 */
final class Routes {
    /** The files served from the jar: the UI's script and style, and ECharts from its WebJar. */
    private static final Map<String, String> ASSETS = Map.of(
            "ui.js", "dev/imgtrain/ui/ui.js",
            "ui.css", "dev/imgtrain/ui/ui.css",
            "echarts.min.js", "META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js");
    private static final Set<String> PAGE_ROOTS = Set.of("runs", "compare", "sweeps", "models", "datasets");

    private static final byte[] FAVICON = favicon();
    private final WarehouseView view;
    private final Pages pages;
    private final Api api;

    Routes(WarehouseView view) {
        this.view = view;
        this.pages = new Pages(view);
        this.api = new Api(view);
    }

    Response answer(RequestPath path, Map<String, List<String>> query) {
        try {
            if (path.size() == 0) {
                return pages.runs();
            }
            String root = path.get(0);
            if (root.equals("favicon.ico") && path.size() == 1) {
                // Pages say rel=icon data:, but a report page read from the warehouse does not: browsers ask anyway.
                return new Response(200, "image/png", FAVICON, "max-age=86400");
            }
            if (root.equals("assets") && path.size() == 2) {
                return asset(path.get(1));
            }
            if (root.equals("api")) {
                return api.answer(path.segments().subList(1, path.size()), query);
            }
            if (!PAGE_ROOTS.contains(root)) {
                return pages.notFound("no page " + String.join("/", path.segments()));
            }
            return page(path, query);
        } catch (IOException | java.io.UncheckedIOException e) {
            String message = RunIndex.firstLine(e.getMessage());
            return path.size() > 0 && path.get(0).equals("api")
                    ? Response.json(503, Map.of("error", "the warehouse cannot be read: " + message))
                    : pages.unreachable(message);
        }
    }

    private Response page(RequestPath p, Map<String, List<String>> query) throws IOException {
        String root = p.get(0);
        switch (root) {
            case "runs":
                if (p.size() == 1) {
                    return pages.runs();
                }
                if (p.size() == 2) {
                    return pages.run(p.get(1));
                }
                if (p.size() == 4 && p.get(2).equals("report")) {
                    Optional<byte[]> file = view.reportFile(p.get(1), p.get(3));
                    return file.map(b -> Response.file(p.get(3), b, false))
                            .orElseGet(() -> pages.notFound("run '" + p.get(1) + "' has no report file '" + p.get(3) + "'"));
                }
                break;
            case "compare":
                if (p.size() == 1) {
                    return pages.compare(Api.runIds(query));
                }
                break;
            case "sweeps":
                if (p.size() == 1) {
                    return pages.sweeps();
                }
                if (p.size() == 2) {
                    return pages.sweep(p.get(1));
                }
                break;
            case "models":
                if (p.size() == 1) {
                    return pages.models();
                }
                if (p.size() == 2) {
                    return pages.model(p.get(1));
                }
                break;
            case "datasets":
                if (p.size() == 1) {
                    return pages.datasets();
                }
                if (p.size() == 2) {
                    return pages.dataset(p.get(1));
                }
                if (p.size() == 3 && p.get(2).equals("samples.png")) {
                    return view.samples(p.get(1)).map(b -> Response.file("samples.png", b, false))
                            .orElseGet(() -> pages.notFound("dataset '" + p.get(1) + "' has no raw images to show"));
                }
                break;
            default:
                break;
        }
        return pages.notFound("no page " + String.join("/", p.segments()));
    }

    /** A 16x16 icon: the nav bar's colour. */
    private static byte[] favicon() {
        java.awt.image.BufferedImage icon = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = icon.createGraphics();
        g.setColor(new java.awt.Color(0x26, 0x32, 0x38));
        g.fillRect(0, 0, 16, 16);
        g.dispose();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(icon, "png", out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private Response asset(String name) throws IOException {
        String resource = ASSETS.get(name);
        if (resource == null) {
            return Response.text(404, "404 no asset " + name);
        }
        try (InputStream in = Routes.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the jar lacks " + resource);
            }
            return Response.file(name, in.readAllBytes(), name.startsWith("echarts"));
        }
    }
}
