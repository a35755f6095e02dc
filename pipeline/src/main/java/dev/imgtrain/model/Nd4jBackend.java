package dev.imgtrain.model;

import org.nd4j.linalg.factory.Nd4j;

/** One line on the ND4J backend in use, for start-up logs and bench reports. */
public final class Nd4jBackend {
    private Nd4jBackend() {
    }

    /** The ND4J backend and the devices it found (GPUs with the CUDA build), and the threads its ops and BLAS use. */
    public static String describe() {
        java.util.Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        StringBuilder s = new StringBuilder(Nd4j.getBackend().getClass().getSimpleName())
                .append(", ").append(Nd4j.getAffinityManager().getNumberOfDevices()).append(" device(s)");
        for (String key : new String[]{"blas.vendor", "cores", "cuda.devicesInformation"}) {
            Object v = env.get(key);
            if (v != null) {
                s.append(", ").append(key).append(' ').append(v);
            }
        }
        // The threads this JVM's ND4J ops and BLAS calls use (OMP_NUM_THREADS; ND4J's own "omp.threads" property
        // reported 4 on a 2-core machine with OMP_NUM_THREADS=1, where both of these were 1).
        return s.append(", nd4j threads ").append(Nd4j.getEnvironment().maxThreads())
                .append(", blas threads ").append(Nd4j.factory().blas().getMaxThreads()).toString();
    }
}
